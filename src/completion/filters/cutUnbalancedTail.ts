/**
 * Completions only complete bracket pairs, multi-line strings and block comments they started: if brackets opened
 * in a multi-line completion are still open at its end (decoding stopped mid-block), or a docstring, template
 * literal or block comment it opened is (stopped at maxLines inside a docstring), cut back to the last line end
 * where none were. Only what the completion opened counts: text that continues a docstring the cursor is in may
 * end inside it, and a string that the rest of the cursor's line closes is closed. Strings and comments are known
 * for the languages `syntaxOf` knows (elsewhere only brackets count).
 *
 * The first line is kept with brackets open, since it continues the cursor's line, but not with a string or
 * comment it opened still open: accepted, that would turn the rest of the file into a string or a comment. A
 * docstring that starts its line with summary text after the opener is closed on that line instead, with the same
 * quotes (`"""Summarize the values."""`, the one-line docstring of PEP 257, when decoding stopped at maxLines in a
 * longer one). A docstring whose opener stands alone on the first line and whose summary is the next line (numpy
 * style) keeps those two lines and is closed on a third, at the opener's indentation. Otherwise the line is cut
 * back to the code before the opener, and with none the completion is dropped.
 */
import { leadingWhitespace, scanBrackets, syntaxOf, type BlockSyntax, type CodeSyntax } from '../../shared/text';
import type { CursorContext, TextFilter } from '../types';

/** A multi-line string or block comment that a completion opened and left open, and where in the completion it opened. */
interface OpenedBlock {
  readonly syntax: CodeSyntax;
  readonly block: BlockSyntax;
  readonly at: number;
}

interface CompletionScan {
  /** Brackets the completion opened and left open. */
  readonly open: string;
  readonly opened: OpenedBlock | null;
}

/**
 * Brackets, strings and block comments through a completion as it reads once accepted: inside the string or
 * comment the cursor is in, if any, and followed by the rest of the cursor's line (blank for a multi-line one).
 */
function scanCompletion(text: string, ctx: CursorContext): CompletionScan {
  const syntax = syntaxOf(ctx.languageId);
  if (!syntax) return { open: scanBrackets(text + ctx.lineSuffix, '', false).open, opened: null };
  const scan = scanBrackets(text + ctx.lineSuffix, '', false, { syntax, block: ctx.openBlock });
  const block = scan.blockAt >= 0 && scan.blockAt < text.length ? syntax.blocks.find((b) => b.open === scan.block) : undefined;
  return { open: scan.open, opened: block ? { syntax, block, at: scan.blockAt } : null };
}

function unbalanced(text: string, ctx: CursorContext): boolean {
  const scan = scanCompletion(text, ctx);
  return scan.open.length > 0 || scan.opened !== null;
}

function withoutStringPrefix(text: string, syntax: CodeSyntax): string {
  return syntax.stringPrefix ? text.replace(syntax.stringPrefix, '') : text;
}

/** Whether a line of a docstring holds summary text (not only a closer's quotes or an underline such as `----`). */
function isSummary(text: string): boolean {
  return /\w/.test(text);
}

/**
 * The lines that open the docstring the first line opened (only indentation before the opener) and hold its
 * summary: the first line when summary text follows the opener there; the first two when the opener stands alone
 * and the next line, still inside the docstring, is the summary. Null when it is no docstring or has no summary.
 */
function docstringHead(lines: readonly string[], opened: OpenedBlock, ctx: CursorContext): readonly string[] | null {
  const { syntax, block, at } = opened;
  const first = lines[0]!;
  if (!block.docstring || withoutStringPrefix(ctx.linePrefix + first.slice(0, at), syntax).trim().length > 0) return null;
  const rest = first.slice(at + block.open.length);
  if (isSummary(rest)) return [first];
  const second = lines[1];
  if (rest.trim().length > 0 || second === undefined || !isSummary(second)) return null;
  return scanCompletion(`${first}\n${second}`, ctx).opened?.at === at ? [first, second] : null;
}

/**
 * A docstring's head closed: a one-line docstring closed on its line, where a space keeps a quote or backslash
 * that ends it from merging with the closer; after a summary line of its own, the closer on the next line at the
 * opener's indentation (that of the cursor's line and of the first line's own leading whitespace).
 */
function closedDocstring(head: readonly string[], block: BlockSyntax, ctx: CursorContext): string {
  if (head.length > 1) return `${head.join('\n')}\n${leadingWhitespace(ctx.linePrefix + head[0]!)}${block.close}`;
  const text = head[0]!.trimEnd();
  const apart = text.endsWith(block.close.charAt(0)) || text.endsWith('\\') ? ' ' : '';
  return text + apart + block.close;
}

/** The code on the first line before the opener and its string prefix, or '' when there is none. */
function codeBefore(line: string, { syntax, at }: OpenedBlock): string {
  return withoutStringPrefix(line.slice(0, at), syntax).trimEnd();
}

/**
 * Cuts `text` back to the last line end where nothing it opened is open. When that is none, because the first
 * line opened a string or block comment that no later line closes, what `keepOpen` keeps of the lines.
 */
function cutBack(text: string, ctx: CursorContext, keepOpen: (lines: readonly string[], opened: OpenedBlock) => string): string {
  if (!unbalanced(text, ctx)) return text;
  const lines = text.split('\n');
  for (let n = lines.length - 1; n >= 1; n--) {
    const head = lines.slice(0, n).join('\n');
    if (!unbalanced(head, ctx)) return head;
  }
  const opened = scanCompletion(lines[0]!, ctx).opened;
  return opened ? keepOpen(lines, opened) : lines[0]!;
}

export const cutUnbalancedTail: TextFilter = (text, ctx) =>
  cutBack(text, ctx, (lines, opened) => {
    const head = docstringHead(lines, opened, ctx);
    return head ? closedDocstring(head, opened.block, ctx) : codeBefore(lines[0]!, opened);
  });

/**
 * For text still being decoded that ends at a line end: what of it cutUnbalancedTail keeps whatever follows. A
 * first line with a block open is kept as far as every ending keeps it: a docstring's opener and summary lines
 * whole (a later line may close it, or cutUnbalancedTail closes it after them), anything else up to the code
 * before its opener. A summary on the second line is part of the text only once its line end is decoded.
 */
export function cutUnbalancedTailWhileDecoding(text: string, ctx: CursorContext): string {
  return cutBack(text, ctx, (lines, opened) => docstringHead(lines, opened, ctx)?.join('\n') ?? codeBefore(lines[0]!, opened));
}

/**
 * For a first line still being decoded: cutUnbalancedTailWhileDecoding, unless it ends with part of an opener
 * (`""`, `/`), or with a string prefix (`r`) that no part of one follows yet, that, completed, opens a string or
 * comment; then only the code before that opener and its prefix.
 */
export function growingFirstLine(line: string, ctx: CursorContext): string {
  const syntax = syntaxOf(ctx.languageId);
  const partFrom = syntax?.stringPrefix?.test(line) ? 0 : 1;
  for (const { open } of syntax?.blocks ?? []) {
    for (let k = partFrom; k < open.length; k++) {
      if (!line.endsWith(open.slice(0, k))) continue;
      const completed = line + open.slice(k);
      const opened = scanCompletion(completed, ctx).opened;
      if (opened && opened.at >= line.length - k) return codeBefore(completed, opened);
    }
  }
  return cutUnbalancedTailWhileDecoding(line, ctx);
}
