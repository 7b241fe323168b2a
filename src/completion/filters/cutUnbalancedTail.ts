/**
 * Multi-line completions only complete bracket pairs they started: if brackets opened in the completion
 * are still open at its end (decoding stopped mid-block), cut back to the last line end where none were.
 */
import { scanBrackets } from '../../shared/text';
import type { TextFilter } from '../types';

export const cutUnbalancedTail: TextFilter = (text) => {
  if (!text.includes('\n') || scanBrackets(text, '', false).open.length === 0) return text;
  const lines = text.split('\n');
  for (let n = lines.length - 1; n >= 1; n--) {
    const head = lines.slice(0, n).join('\n');
    if (scanBrackets(head, '', false).open.length === 0) return head;
  }
  return lines[0]!;
};
