/**
 * Removes the end of the completion that the document already has after the cursor: on the cursor's
 * line, closing characters that start the rest of the line (`a, b)` before `)` becomes `a, b`, while
 * `g(x)` before `)` stays, its `)` is its own); for multi-line completions, trailing lines equal to the
 * lines that follow the cursor.
 */
import { scanBrackets } from '../../shared/text';
import type { TextFilter } from '../types';

function trimLineOverlap(text: string, lineSuffix: string): string {
  const rest = lineSuffix.trimStart();
  for (let k = Math.min(rest.length, text.length); k >= 1; k--) {
    const overlap = rest.slice(0, k);
    if (!text.endsWith(overlap) || !/^[)\]}"'`;:,.>]+$/.test(overlap)) continue;
    const kept = text.slice(0, text.length - k);
    // Only if the completion's own brackets are closed without the overlap: then the overlap closes
    // brackets of the prefix, which the document's own copy after the cursor closes as well.
    if (scanBrackets(kept, '', false).open.length === 0) return kept;
  }
  return text;
}

export const trimSuffixOverlap: TextFilter = (text, ctx) => {
  const lines = text.split('\n');
  if (lines.length === 1) return trimLineOverlap(text, ctx.lineSuffix);
  // Multi-line: drop trailing completion lines that repeat the first following lines.
  const following = ctx.followingLines.filter((l) => l.trim().length > 0).map((l) => l.trimEnd());
  for (let n = Math.min(lines.length - 1, following.length); n >= 1; n--) {
    const tail = lines.slice(lines.length - n).map((l) => l.trimEnd());
    if (tail.every((l, i) => l === following[i])) return lines.slice(0, lines.length - n).join('\n');
  }
  return text;
};
