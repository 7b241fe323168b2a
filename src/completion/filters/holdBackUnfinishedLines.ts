/**
 * For streamed (partial) text only: shows the first line as it grows, but after it only complete lines,
 * and only up to a line end where the completion's own brackets are balanced. What is shown then never
 * has to be taken back by the post-cache filters (dropIncompleteLastLine, cutUnbalancedTail), so ghost
 * text only grows.
 */
import type { TextFilter } from '../types';
import { cutUnbalancedTail } from './cutUnbalancedTail';

export const holdBackUnfinishedLines: TextFilter = (text, ctx, stopReason) => {
  const nl = text.lastIndexOf('\n');
  if (nl < 0) return text;
  return cutUnbalancedTail(text.slice(0, nl), ctx, stopReason);
};
