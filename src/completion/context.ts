/**
 * From a request to a CursorContext: the prefix/suffix windows (character budgets derived from the token
 * budget, with a window start that stays put while the user types so the worker's KV cache is reused),
 * the cursor line, the single- vs multi-line decision, the open brackets and the string or comment the cursor is in.
 */
import { indentWidth, opensBlock, scanBrackets, syntaxOf } from '../shared/text';
import type { CompletionRequest, CursorContext } from './types';

/** A conservative estimate of characters per token for code (used only to cut windows before tokenizing). */
export const CHARS_PER_TOKEN = 3;
/** The prefix window start moves in steps of this many lines, so it stays stable while typing. */
export const WINDOW_STEP_LINES = 16;

export interface WindowBudget {
  readonly prefixTokens: number;
  readonly suffixTokens: number;
}

/**
 * The tail of the prefix that fits the budget, starting at a line boundary. The start line is rounded
 * down to a multiple of WINDOW_STEP_LINES (counted from the document start) when that still fits, so that
 * typing on one line keeps the same window start; if not, the window starts at the next line that fits.
 */
export function prefixWindow(prefix: string, maxChars: number): string {
  if (prefix.length <= maxChars) return prefix;
  const minStart = prefix.length - maxChars;
  let line = 0;
  let pos = 0;
  let firstFit = -1;
  for (;;) {
    if (pos >= minStart) {
      if (firstFit < 0) firstFit = pos;
      if (line % WINDOW_STEP_LINES === 0) return prefix.slice(pos);
    }
    const nl = prefix.indexOf('\n', pos);
    if (nl < 0) break;
    pos = nl + 1;
    line++;
  }
  return prefix.slice(firstFit >= 0 ? firstFit : minStart);
}

/** The head of the suffix that fits, ending at a line boundary when possible. */
export function suffixWindow(suffix: string, maxChars: number): string {
  if (suffix.length <= maxChars) return suffix;
  const cut = suffix.lastIndexOf('\n', maxChars);
  return suffix.slice(0, cut > 0 ? cut : maxChars);
}

/** Multi-line when nothing but whitespace follows the cursor on its line, single-line otherwise. */
export function isMultiline(linePrefix: string, lineSuffix: string, languageId: string): boolean {
  if (lineSuffix.trim().length > 0) return false;
  // Inside a line comment, finish the comment line only.
  const comment = /^(python|shellscript|ruby|perl|r|yaml|toml|makefile|dockerfile)$/.test(languageId) ? /#/ : /\/\//;
  const code = linePrefix.replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""');
  return !comment.test(code);
}

/** The last non-blank line among the prefix's lines before the cursor's (at most `maxLines` back), or ''. */
function previousNonBlankLine(prefix: string, lineStart: number, maxLines = 50): string {
  let end = lineStart - 1;
  for (let i = 0; i < maxLines && end > 0; i++) {
    const start = prefix.lastIndexOf('\n', end - 1) + 1;
    const line = prefix.slice(start, end);
    if (line.trim().length > 0) return line;
    end = start - 1;
  }
  return '';
}

/**
 * The indentation of the block around a cursor at column 0 of a blank line (see CursorContext.enclosingIndent): a
 * completion asked on an emptied line inside a function body (editors trim a blank line's indentation) still ends
 * where that body ends. Indentation before the cursor is the user's own and wins (0 then).
 */
export function enclosingIndent(linePrefix: string, previousLine: string, nextLine: string, tabSize: number): number {
  if (linePrefix.length > 0 || previousLine.length === 0 || nextLine.length === 0) return 0;
  const opens = opensBlock(previousLine) ? 1 : 0;
  return Math.min(indentWidth(previousLine, tabSize) + opens, indentWidth(nextLine, tabSize));
}

export function buildContext(req: CompletionRequest, budget: WindowBudget): CursorContext {
  const prefix = prefixWindow(req.prefix, budget.prefixTokens * CHARS_PER_TOKEN);
  const suffix = suffixWindow(req.suffix, budget.suffixTokens * CHARS_PER_TOKEN);
  const lineStart = req.prefix.lastIndexOf('\n') + 1;
  const linePrefix = req.prefix.slice(lineStart);
  const lineAbove = lineStart === 0 ? '' : req.prefix.slice(req.prefix.lastIndexOf('\n', lineStart - 2) + 1, lineStart - 1).trim();
  const lineEnd = req.suffix.indexOf('\n');
  const lineSuffix = lineEnd < 0 ? req.suffix : req.suffix.slice(0, lineEnd);
  const after = lineEnd < 0 ? [] : req.suffix.slice(lineEnd + 1, lineEnd + 1 + 4000).split('\n').slice(0, 20);
  const nextNonBlankLine = after.find((l) => l.trim().length > 0)?.trimEnd() ?? '';
  const syntax = syntaxOf(req.languageId);
  return {
    prefix,
    suffix,
    linePrefix,
    lineSuffix,
    indent: indentWidth(linePrefix, req.tabSize),
    enclosingIndent: enclosingIndent(linePrefix, previousNonBlankLine(req.prefix, lineStart), nextNonBlankLine, req.tabSize),
    followingLines: after,
    nextNonBlankLine,
    lineAbove,
    openBrackets: scanBrackets(prefix, '', false).open,
    languageId: req.languageId,
    openBlock: syntax ? scanBrackets(prefix, '', false, { syntax }).block : '',
    multiline: isMultiline(linePrefix, lineSuffix, req.languageId),
    tabSize: req.tabSize,
    insertSpaces: req.insertSpaces,
  };
}
