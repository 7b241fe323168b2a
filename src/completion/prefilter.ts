/** Requests that are not worth sending to the model, with the reason logged by the caller. Pure. */
import type { CompletionRequest, SkipReason } from './types';

export const MAX_DOCUMENT_CHARS = 5_000_000;
export const MAX_LINE_CHARS = 2_000;
/** Average line length above which a file looks minified or generated. */
export const MINIFIED_AVG_LINE = 300;

export function prefilter(req: CompletionRequest): SkipReason | null {
  const docLength = req.documentLength ?? req.prefix.length + req.suffix.length;
  if (docLength > MAX_DOCUMENT_CHARS) return 'hugeFile';
  const lineStart = req.prefix.lastIndexOf('\n') + 1;
  const lineEnd = req.suffix.indexOf('\n');
  const linePrefix = req.prefix.slice(lineStart);
  const lineSuffix = lineEnd < 0 ? req.suffix : req.suffix.slice(0, lineEnd);
  if (linePrefix.length + lineSuffix.length > MAX_LINE_CHARS) return 'hugeLine';
  const sample = req.prefix.slice(-4000) + req.suffix.slice(0, 4000);
  if (sample.includes('\u0000')) return 'binary';
  const lines = sample.split('\n').length;
  if (sample.length > 2000 && sample.length / lines > MINIFIED_AVG_LINE) return 'minified';
  if (req.trigger === 'manual') return null;
  // In the middle of a word: the user is still typing it.
  if (/^[A-Za-z0-9_]/.test(lineSuffix)) return 'midWord';
  // More than closing brackets, quotes and punctuation after the cursor: not a place to complete.
  if (!/^[\s)\]}"'`;:,.>]*$/.test(lineSuffix)) return 'textAfterCursor';
  return null;
}
