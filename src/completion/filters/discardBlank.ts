/** A completion of only whitespace is no completion. */
import type { TextFilter } from '../types';

export const discardBlank: TextFilter = (text) => (text.trim().length === 0 ? '' : text);
