/** Small text helpers shared by the pipeline and the worker's stop rules. Pure functions. */

export const OPENERS = '([{';
export const CLOSERS = ')]}';

export function closerOf(opener: string): string {
  return CLOSERS[OPENERS.indexOf(opener)] ?? '';
}

/** Width of a line's leading whitespace, tabs counted as tabSize columns. */
export function indentWidth(line: string, tabSize = 4): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w += 1;
    else if (ch === '\t') w += tabSize - (w % tabSize);
    else break;
  }
  return w;
}

/**
 * Whether a file indents with spaces, judged like VS Code's editor.detectIndentation: by how many indented lines
 * start with a tab and how many with two or more spaces (a single space is usually a comment's continuation,
 * ` * ` in C-style block comments). Without either, `fallback`.
 */
export function detectInsertSpaces(text: string, fallback = true): boolean {
  let tabs = 0;
  let spaces = 0;
  for (const line of text.split('\n', 10_000)) {
    if (line.startsWith('\t')) tabs++;
    else if (line.startsWith('  ')) spaces++;
  }
  return tabs === spaces ? fallback : spaces > tabs;
}

/**
 * A line that may legitimately repeat the one above it: blank, only closing brackets, or a block closer of its own
 * (`end`, `fi`, `done`, `esac`, `#endif`, a closing tag such as `</div>`): nested blocks close with one per level.
 */
export function closesBlockOnly(line: string): boolean {
  return /^\s*(?:[\s)\]}]*|end|endif|endfor|endforeach|endwhile|endfunction|endmodule|endcase|endswitch|fi|done|esac|#\s*endif\b.*|<\/[\w.:-]+>|\\end\{[^}]*\})\s*[;,]?\s*$/.test(line);
}

/**
 * Whether the cursor's line, completed (`finished`) or still being decoded, is or may still become a copy of the
 * document's line above it (`lineAbove`, trimmed), indentation aside; block closers may repeat.
 */
export function copiesLineAbove(cursorLine: string, lineAbove: string, finished: boolean): boolean {
  const line = cursorLine.trim();
  if (lineAbove.length === 0 || closesBlockOnly(lineAbove)) return false;
  return finished ? line === lineAbove : lineAbove.startsWith(line);
}

/** The lengths of the line blocks the repeat rule looks for: a model in a loop repeats one line, or two or three in turn. */
const REPEAT_PERIODS = [1, 2, 3] as const;

/** Line `i` as the repeat rule compares it: line 0 continues the cursor's line; trailing whitespace aside. */
function comparedLine(lines: readonly string[], linePrefix: string, i: number): string {
  return (i === 0 ? linePrefix + lines[0]! : lines[i]!).trimEnd();
}

/**
 * Index of the first of `lines[1..end)` that starts a repeat of the block of 1, 2 or 3 lines right above it (the
 * same text, trailing whitespace aside, all of the block's lines before `end`), or -1. A block of lines that are all
 * `closesBlockOnly` (closers, blank lines) may repeat. Line 0 continues the cursor's line, so it is compared as
 * `linePrefix + lines[0]`. Of the held-out code lines (2026-12-07: 2.3M lines of the sixth build's held-out split, JSON
 * and markdown aside) 0.147% repeat the line above and 0.010% start a repeat of the two or three above; a model stuck in
 * a loop does it on every line, or every second or third (about 5% of the shipped model's multi-line answers).
 */
export function firstRepeatedLine(lines: readonly string[], linePrefix: string, end = lines.length): number {
  for (let i = 1; i < end; i++) {
    for (const k of REPEAT_PERIODS) {
      if (i < k || i + k > end) continue;
      let same = true;
      let substantive = false;
      for (let j = 0; j < k && same; j++) {
        const text = comparedLine(lines, linePrefix, i + j);
        same = text === comparedLine(lines, linePrefix, i - k + j);
        substantive ||= !closesBlockOnly(text);
      }
      if (same && substantive) return i;
    }
  }
  return -1;
}

/**
 * For text still being decoded (its last line unfinished): the first line of a block repeat of 2 or 3 lines that the
 * text may still grow into (`firstRepeatedLine` would then cut there), or -1. Its finished trailing lines repeat the
 * start of the block above them and its last line is a prefix of the block's next line. Streamed text stops before it,
 * so that ghost text only grows.
 */
export function repeatMayStartAt(lines: readonly string[], linePrefix: string): number {
  const last = lines.length - 1;
  const tail = lines[last]!.trimEnd();
  let start = -1;
  // blocks of one line apart: the stop rules hold a last line that may copy the line above on their own
  for (const k of REPEAT_PERIODS.slice(1)) {
    for (let m = k - 1; m >= 0; m--) {
      const first = last - m;
      if (first - k < 0) continue;
      let same = comparedLine(lines, linePrefix, last - k).startsWith(tail);
      for (let j = 0; j < m && same; j++) same = comparedLine(lines, linePrefix, first + j) === comparedLine(lines, linePrefix, first - k + j);
      if (same && (start < 0 || first < start)) start = first;
    }
  }
  return start;
}

/**
 * A line's code with its spacing normalized: the indentation kept, runs of whitespace inside it dropped where a
 * side is punctuation and kept as one space between two word characters, so `i+=1` and `i += 1` compare equal
 * and `return x` and `returnx` do not.
 */
export function codeLineKey(line: string): string {
  const body = line.trim().replace(/\s+/g, ' ').replace(/ (?=\W)|(?<=\W) /g, '');
  return leadingWhitespace(line) + body;
}

/** Whether two lines are the same code, spacing inside them aside (`codeLineKey`). */
export function sameCodeLine(a: string, b: string): boolean {
  return codeLineKey(a) === codeLineKey(b);
}

/** Whether a line (or the text before the cursor) ends by opening a block: `{`, `(`, `[` or `:`. */
export function opensBlock(line: string): boolean {
  return /[{([:]\s*$/.test(line);
}

export function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

export function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

export interface BracketScan {
  /** Brackets opened and not closed, innermost last. */
  readonly open: string;
  /** Index of the first closer that matches nothing open, or -1. */
  readonly unmatchedAt: number;
  /** With a syntax: the opener of the multi-line string or block comment open at the end ('"""', '/*', ...), or ''. */
  readonly block: string;
  /** Where in the text that block opened; -1 when none is open or it was open from the start (CodeScan's block). */
  readonly blockAt: number;
}

/** A multi-line string or block comment of a language: its opener, its closer, and whether a backslash escapes. */
export interface BlockSyntax {
  readonly open: string;
  readonly close: string;
  readonly escapes: boolean;
  /** A string that, standing alone at the start of its line, is a docstring (Python's triple quotes). */
  readonly docstring: boolean;
}

/** The comment and multi-line string syntax of a language, as far as scanBrackets and the filters need it. */
export interface CodeSyntax {
  /** Starts a comment that runs to the line end ('' for none). */
  readonly lineComment: string;
  /** Letters right before a string's quotes that belong to the string (matched at the end of the text before them), or null. */
  readonly stringPrefix: RegExp | null;
  readonly blocks: readonly BlockSyntax[];
}

const C_COMMENT: BlockSyntax = { open: '/*', close: '*/', escapes: false, docstring: false };
const C_LIKE: CodeSyntax = { lineComment: '//', stringPrefix: null, blocks: [C_COMMENT] };
const JS_LIKE: CodeSyntax = { lineComment: '//', stringPrefix: null, blocks: [C_COMMENT, { open: '`', close: '`', escapes: true, docstring: false }] };
const GO: CodeSyntax = { lineComment: '//', stringPrefix: null, blocks: [C_COMMENT, { open: '`', close: '`', escapes: false, docstring: false }] };
// The scan needs no string prefixes (r, b, f, u, t, rb, ...): they are word characters before the quotes.
const PYTHON: CodeSyntax = {
  lineComment: '#',
  stringPrefix: /(?<!\w)[rbuft]{1,2}$/i,
  blocks: [
    { open: '"""', close: '"""', escapes: true, docstring: true },
    { open: "'''", close: "'''", escapes: true, docstring: true },
  ],
};
const SYNTAX: ReadonlyMap<string, CodeSyntax> = new Map([
  ['python', PYTHON],
  ...['javascript', 'javascriptreact', 'typescript', 'typescriptreact'].map((id) => [id, JS_LIKE] as const),
  ...['c', 'cpp', 'csharp', 'java', 'rust'].map((id) => [id, C_LIKE] as const),
  ['go', GO],
]);

/** The syntax of a VS Code language id, or null where scanBrackets knows none (it then scans as it always did). */
export function syntaxOf(languageId: string): CodeSyntax | null {
  return SYNTAX.get(languageId) ?? null;
}

/** Code of a known syntax, for scanBrackets: `block` is the opener of the block open where the text starts ('' for none). */
export interface CodeScan {
  readonly syntax: CodeSyntax;
  readonly block?: string;
}

/**
 * Tracks brackets through `text`, starting from the `open` stack. Brackets inside '...' and "..." on one line
 * are ignored. Without `code` (a language it knows no syntax for), so are brackets inside `...`, over lines too,
 * and comments are not parsed: a heuristic that suits most languages. With the language's syntax (`code`), line
 * comments are skipped, and so are its multi-line strings and block comments (Python's triple quotes, C's block
 * comments, template literals; `code.block` is one open where the text starts); the one still open at the end is
 * reported, with where it opened.
 * With stopAtUnmatched false, a closer that matches nothing is skipped (a window that starts mid-block).
 */
export function scanBrackets(text: string, open = '', stopAtUnmatched = true, code?: CodeScan): BracketScan {
  const stack = open.split('');
  const syntax = code?.syntax;
  const quotes = syntax ? `"'` : `"'\``;
  let quote = '';
  let block = (code?.block ? syntax?.blocks.find((b) => b.open === code.block) : undefined) ?? null;
  let blockAt = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (block) {
      if (ch === '\\' && block.escapes) i++;
      else if (text.startsWith(block.close, i)) {
        i += block.close.length - 1;
        block = null;
        blockAt = -1;
      }
      continue;
    }
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      else if (ch === '\n' && quote !== '`') quote = '';
      continue;
    }
    if (syntax) {
      const opened = syntax.blocks.find((b) => text.startsWith(b.open, i));
      if (opened) {
        block = opened;
        blockAt = i;
        i += opened.open.length - 1;
        continue;
      }
      if (syntax.lineComment && text.startsWith(syntax.lineComment, i)) {
        const nl = text.indexOf('\n', i);
        if (nl < 0) break;
        i = nl;
        continue;
      }
    }
    if (quotes.includes(ch)) {
      // An apostrophe inside a word (don't) is not a quote.
      if (ch === "'" && i > 0 && /\w/.test(text[i - 1]!) && /\w/.test(text[i + 1] ?? '')) continue;
      quote = ch;
    } else if (OPENERS.includes(ch)) {
      stack.push(ch);
    } else if (CLOSERS.includes(ch)) {
      const top = stack[stack.length - 1];
      if (top !== undefined && closerOf(top) === ch) stack.pop();
      else if (stopAtUnmatched) return { open: stack.join(''), unmatchedAt: i, block: '', blockAt: -1 };
    }
  }
  return { open: stack.join(''), unmatchedAt: -1, block: block?.open ?? '', blockAt };
}

/** Lines of a text, splitting on \n and \r\n. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** The first non-blank line of `text` after its first line break, trimmed; '' when none. */
export function firstNonBlankLineAfterFirst(text: string, maxLines = 50): string {
  const lines = splitLines(text);
  for (let i = 1; i < lines.length && i <= maxLines; i++) {
    const t = lines[i]!.trim();
    if (t.length > 0) return t;
  }
  return '';
}
