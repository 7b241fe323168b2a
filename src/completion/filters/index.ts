/**
 * The filter chain, in order. The worker's stop rules run first (during decoding). Then:
 * - preCache: depends only on the raw result; applied before the result is cached.
 * - stream: applied to each streamed partial before it is shown; what they show is a prefix of what the
 *   whole chain shows for the finished text, so ghost text only grows.
 * - postCache: depends on the document around the cursor; applied every time a result is shown.
 */
import type { NamedFilter } from '../types';
import { cutUnbalancedTail } from './cutUnbalancedTail';
import { discardBlank } from './discardBlank';
import { dropIncompleteLastLine } from './dropIncompleteLastLine';
import { dropRepeatOfFollowingLines } from './dropRepeatOfFollowingLines';
import { fixIndentation } from './fixIndentation';
import { holdBackUnfinishedLines } from './holdBackUnfinishedLines';
import { stopAtRepeatingLines } from './stopAtRepeatingLines';
import { trimSuffixOverlap } from './trimSuffixOverlap';
import { trimTrailingWhitespace } from './trimTrailingWhitespace';

export const PRE_CACHE_FILTERS: readonly NamedFilter[] = [
  { name: 'dropIncompleteLastLine', apply: dropIncompleteLastLine },
  { name: 'stopAtRepeatingLines', apply: stopAtRepeatingLines },
];

export const STREAM_FILTERS: readonly NamedFilter[] = [
  { name: 'stopAtRepeatingLines', apply: stopAtRepeatingLines },
  { name: 'fixIndentation', apply: fixIndentation },
  { name: 'holdBackUnfinishedLines', apply: holdBackUnfinishedLines },
];

export const POST_CACHE_FILTERS: readonly NamedFilter[] = [
  { name: 'trimSuffixOverlap', apply: trimSuffixOverlap },
  { name: 'dropRepeatOfFollowingLines', apply: dropRepeatOfFollowingLines },
  { name: 'cutUnbalancedTail', apply: cutUnbalancedTail },
  { name: 'fixIndentation', apply: fixIndentation },
  { name: 'trimTrailingWhitespace', apply: trimTrailingWhitespace },
  { name: 'discardBlank', apply: discardBlank },
];

export function runFilters(filters: readonly NamedFilter[], text: string, ...rest: Parameters<NamedFilter['apply']> extends [string, ...infer R] ? R : never): string {
  let out = text;
  for (const f of filters) {
    if (out.length === 0) return '';
    out = f.apply(out, ...rest);
  }
  return out;
}
