/**
 * Multi-line completions only complete bracket pairs, multi-line strings and block comments they started: if
 * brackets opened in the completion are still open at its end (decoding stopped mid-block), or a docstring,
 * template literal or block comment it opened is (stopped at maxLines inside a docstring), cut back to the last
 * line end where none were. Only what the completion opened counts: text that continues a docstring the cursor is
 * in may end inside it. Strings and comments are known for the languages `syntaxOf` knows (elsewhere only
 * brackets count). The first line is kept with brackets open, since it continues the cursor's line, but not with
 * a string or comment it opened still open: accepted, that would turn the rest of the file into a string or a
 * comment, so the completion is dropped instead.
 */
import { scanBrackets, syntaxOf, type BracketScan } from '../../shared/text';
import type { CursorContext, TextFilter } from '../types';

/** Brackets, strings and block comments through a completion at ctx (a string the cursor is in continues). */
function scanCompletion(text: string, ctx: CursorContext): BracketScan {
  const syntax = syntaxOf(ctx.languageId);
  return scanBrackets(text, '', false, syntax ? { syntax, block: ctx.openBlock } : undefined);
}

/**
 * Whether a multi-line string or block comment the completion opened is still open at its end. With `growing`
 * (text still being decoded), also whether the text may be opening one: it ends with part of an opener (`""`, `/`).
 */
export function leavesOwnBlockOpen(text: string, ctx: CursorContext, growing = false): boolean {
  if (scanCompletion(text, ctx).blockAt >= 0) return true;
  const syntax = growing ? syntaxOf(ctx.languageId) : null;
  for (const { open } of syntax?.blocks ?? []) {
    for (let k = 1; k < open.length; k++) {
      if (text.endsWith(open.slice(0, k)) && scanCompletion(text + open.slice(k), ctx).blockAt >= 0) return true;
    }
  }
  return false;
}

function unbalanced(text: string, ctx: CursorContext): boolean {
  const scan = scanCompletion(text, ctx);
  return scan.open.length > 0 || scan.blockAt >= 0;
}

export const cutUnbalancedTail: TextFilter = (text, ctx) => {
  if (!text.includes('\n') || !unbalanced(text, ctx)) return text;
  const lines = text.split('\n');
  for (let n = lines.length - 1; n >= 1; n--) {
    const head = lines.slice(0, n).join('\n');
    if (!unbalanced(head, ctx)) return head;
  }
  return leavesOwnBlockOpen(lines[0]!, ctx) ? '' : lines[0]!;
};
