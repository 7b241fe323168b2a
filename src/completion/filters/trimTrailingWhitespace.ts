/** Removes whitespace at the end of every line and blank lines at the end of the completion. */
import type { TextFilter } from '../types';

export const trimTrailingWhitespace: TextFilter = (text) =>
  text
    .split('\n')
    .map((l) => l.replace(/[ \t\r]+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
