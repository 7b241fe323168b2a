/**
 * Cuts the completion before the first line that repeats the line above it, the cursor's whole line included
 * (`firstRepeatedLine`). In held-out code 0.14% of lines repeat the line above; 26% of the shipped model's raw
 * multi-line completions do, and then they usually go on repeating (a model stuck in a loop; models/LOG.md,
 * 2026-11-29). The worker's stop rules stop decoding there too; this filter also covers cached and streamed text.
 */
import { firstRepeatedLine } from '../../shared/text';
import type { TextFilter } from '../types';

export const stopAtRepeatingLines: TextFilter = (text, ctx) => {
  const lines = text.split('\n');
  const repeated = firstRepeatedLine(lines, ctx.linePrefix);
  return repeated < 0 ? text : lines.slice(0, repeated).join('\n');
};
