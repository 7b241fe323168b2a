/** When decoding ran out of tokens in a multi-line completion, its last line is unfinished: drop it. */
import type { TextFilter } from '../types';

export const dropIncompleteLastLine: TextFilter = (text, _ctx, stopReason) => {
  if (stopReason !== 'maxTokens' && stopReason !== 'contextFull') return text;
  const cut = text.lastIndexOf('\n');
  if (cut < 0) return text;
  const kept = text.slice(0, cut);
  return kept.trim().length > 0 ? kept : text;
};
