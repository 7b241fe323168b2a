/**
 * Discards a completion that only repeats what follows the cursor: its first line completes the cursor's
 * line into a copy of the next non-blank line, or all its lines equal the following lines (spacing inside a line
 * aside: `sameCodeLine`).
 */
import { sameCodeLine } from '../../shared/text';
import type { TextFilter } from '../types';

export const dropRepeatOfFollowingLines: TextFilter = (text, ctx) => {
  const lines = text.split('\n');
  const following = ctx.followingLines.filter((l) => l.trim().length > 0).map((l) => l.trimEnd());
  if (following.length === 0) return text;
  const firstLine = (ctx.linePrefix + lines[0]!).trimEnd();
  if (lines[0]!.trim().length > 0 && sameCodeLine(firstLine, following[0]!)) return '';
  const body = [ctx.linePrefix + lines[0]!, ...lines.slice(1)].map((l) => l.trimEnd()).filter((l) => l.trim().length > 0);
  if (body.length > 0 && body.length <= following.length && body.every((l, i) => sameCodeLine(l, following[i]!))) return '';
  return text;
};
