/**
 * For streamed (partial) text only: shows the first line as it grows, but after it only complete lines,
 * and only up to a line end where the completion's own brackets, multi-line strings and block comments are
 * closed. A first line with a string or comment it opened still open, or maybe being opened (it ends with `""`),
 * waits: if the completion ends with it open, cutUnbalancedTail drops it. What is shown then never has to be
 * taken back by the post-cache filters (dropIncompleteLastLine, cutUnbalancedTail), so ghost text only grows.
 */
import type { TextFilter } from '../types';
import { cutUnbalancedTail, leavesOwnBlockOpen } from './cutUnbalancedTail';

export const holdBackUnfinishedLines: TextFilter = (text, ctx, stopReason) => {
  const nl = text.lastIndexOf('\n');
  if (nl < 0) return leavesOwnBlockOpen(text, ctx, true) ? '' : text;
  const shown = cutUnbalancedTail(text.slice(0, nl), ctx, stopReason);
  return leavesOwnBlockOpen(shown, ctx) ? '' : shown;
};
