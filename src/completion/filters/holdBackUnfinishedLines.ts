/**
 * For streamed (partial) text only: shows the first line as it grows, but after it only complete lines,
 * and only up to a line end where the completion's own brackets, multi-line strings and block comments are
 * closed. A first line with a string or comment it opened still open, or maybe being opened (it ends with `""`
 * or with a string prefix such as `r`), shows only what cutUnbalancedTail keeps of it however decoding ends: a
 * docstring's summary line (closed or continued later; after an opener alone on the first line, the two lines
 * once the summary's line has ended, and never the closer cutUnbalancedTail adds after them), or else the code
 * before the opener. What is shown then never has to be taken back by the post-cache filters
 * (dropIncompleteLastLine, cutUnbalancedTail), so ghost text only grows.
 */
import type { TextFilter } from '../types';
import { cutUnbalancedTailWhileDecoding, growingFirstLine } from './cutUnbalancedTail';

export const holdBackUnfinishedLines: TextFilter = (text, ctx) => {
  const nl = text.lastIndexOf('\n');
  return nl < 0 ? growingFirstLine(text, ctx) : cutUnbalancedTailWhileDecoding(text.slice(0, nl), ctx);
};
