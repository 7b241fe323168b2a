/**
 * Re-indents lines after the first in the editor's style: tabs when the editor inserts tabs, spaces
 * (tabSize per tab) when it inserts spaces. The first line continues the cursor's line and is left alone.
 */
import { indentWidth, leadingWhitespace } from '../../shared/text';
import type { TextFilter } from '../types';

export const fixIndentation: TextFilter = (text, ctx) => {
  if (!text.includes('\n')) return text;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const ws = leadingWhitespace(line);
    if (ws.length === 0) continue;
    const wrongStyle = ctx.insertSpaces ? ws.includes('\t') : ws.includes(' '.repeat(ctx.tabSize));
    if (!wrongStyle) continue;
    const width = indentWidth(ws, ctx.tabSize);
    const indent = ctx.insertSpaces ? ' '.repeat(width) : '\t'.repeat(Math.floor(width / ctx.tabSize)) + ' '.repeat(width % ctx.tabSize);
    lines[i] = indent + line.slice(ws.length);
  }
  return lines.join('\n');
};
