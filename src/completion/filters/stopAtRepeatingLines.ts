/**
 * Cuts the completion before the first line that repeats the line above it, or starts a repeat of the two or three
 * lines above it, the cursor's whole line included (`firstRepeatedLine`). In held-out code 0.14% of lines repeat the
 * line above and 0.01% the two or three above; 26% of the shipped model's raw multi-line completions repeated a line
 * (models/LOG.md, 2026-11-29) and about 5% of today's a block of two or three, and then they usually go on repeating
 * (a model stuck in a loop). The worker's stop rules stop decoding there too; this filter also covers cached and
 * streamed text.
 *
 * The cursor's line itself, completed by the first line, may copy the document's line above the cursor (indentation
 * aside: `for j in range(n):` one level in under `for j in range(n):` is no better). Then the whole completion goes:
 * 2.9% of the shipped model's held-out line answers did that, none of them right (models/LOG.md, 2026-12-06, fifth
 * session). While that first line is still being decoded (streamed text, no stop reason yet) and can still turn into
 * such a copy, it is held back, so that ghost text only grows.
 */
import { copiesLineAbove, firstRepeatedLine } from '../../shared/text';
import type { TextFilter } from '../types';

export const stopAtRepeatingLines: TextFilter = (text, ctx, stopReason) => {
  const lines = text.split('\n');
  if (lines[0]!.trim().length > 0 && copiesLineAbove(ctx.linePrefix + lines[0]!, ctx.lineAbove, lines.length > 1 || stopReason !== null)) return '';
  const repeated = firstRepeatedLine(lines, ctx.linePrefix);
  return repeated < 0 ? text : lines.slice(0, repeated).join('\n');
};
