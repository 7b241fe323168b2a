/** Cuts the completion when the same non-blank line comes three times in a row (a model stuck in a loop). */
import type { TextFilter } from '../types';

export const REPEAT_LIMIT = 3;

export const stopAtRepeatingLines: TextFilter = (text) => {
  const lines = text.split('\n');
  let run = 1;
  for (let i = 1; i < lines.length; i++) {
    const same = lines[i]!.trim().length > 0 && lines[i] === lines[i - 1];
    run = same ? run + 1 : 1;
    if (run === REPEAT_LIMIT) return lines.slice(0, i - REPEAT_LIMIT + 2).join('\n');
  }
  return text;
};
