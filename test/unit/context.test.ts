import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContext, isMultiline, prefixWindow, suffixWindow, WINDOW_STEP_LINES } from '../../src/completion/context';
import { blockIndent, stopOptionsFor } from '../../src/completion/prompt';
import { contextAt, requestAt } from '../helpers/cursor';

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line number ${i}`).join('\n') + '\n';

test('prefixWindow keeps short prefixes whole and cuts long ones at a line start', () => {
  assert.equal(prefixWindow('abc\ndef', 100), 'abc\ndef');
  const w = prefixWindow(lines(500), 1000);
  assert.ok(w.length <= 1000);
  assert.ok(w.startsWith('line number'));
});

test('prefixWindow keeps the same start while the user types on the last line (KV reuse)', () => {
  const base = lines(400);
  let typed = '';
  const starts = new Set<number>();
  for (const ch of 'const value = compute(alpha, beta);') {
    typed += ch;
    const text = base + typed;
    const w = prefixWindow(text, 2000);
    starts.add(text.length - w.length);
  }
  assert.equal(starts.size, 1, `window start moved: ${[...starts].join(', ')}`);
});

test('prefixWindow starts on a line that is a multiple of the step when it fits', () => {
  const text = lines(400);
  const w = prefixWindow(text, 2000);
  const startLine = text.slice(0, text.length - w.length).split('\n').length - 1;
  assert.equal(startLine % WINDOW_STEP_LINES, 0);
});

test('suffixWindow ends at a line break', () => {
  assert.equal(suffixWindow('a\nbb\nccc\n', 6), 'a\nbb');
});

test('multi-line at a line end or on an empty line, single-line mid-line or in a line comment', () => {
  assert.equal(isMultiline('if (x) {', '', 'typescript'), true);
  assert.equal(isMultiline('    ', '', 'python'), true);
  assert.equal(isMultiline('foo(', ')', 'typescript'), false);
  assert.equal(isMultiline('x = 1  # note', '', 'python'), false);
  assert.equal(isMultiline('// comment', '', 'typescript'), false);
  assert.equal(isMultiline('url = "http://x"', '', 'typescript'), true);
});

test('buildContext finds the cursor line, indentation, next line and open brackets', () => {
  const ctx = buildContext(requestAt('function f(a) {\n  if (a) {\n    ║\n  }\n}\n'), { prefixTokens: 500, suffixTokens: 100 });
  assert.equal(ctx.linePrefix, '    ');
  assert.equal(ctx.lineSuffix, '');
  assert.equal(ctx.indent, 4);
  assert.equal(ctx.nextNonBlankLine, '  }');
  assert.equal(ctx.lineAbove, 'if (a) {');
  assert.equal(buildContext(requestAt('x = 1║'), { prefixTokens: 500, suffixTokens: 100 }).lineAbove, '');
  assert.equal(buildContext(requestAt('\nx = 1║'), { prefixTokens: 500, suffixTokens: 100 }).lineAbove, '');
  assert.equal(buildContext(requestAt('a\r\nb║'), { prefixTokens: 500, suffixTokens: 100 }).lineAbove, 'a');
  assert.equal(ctx.openBrackets, '{{');
  assert.equal(ctx.multiline, true);
  assert.equal(ctx.languageId, 'typescript');
  assert.equal(ctx.openBlock, '');
});

test('buildContext finds the multi-line string or block comment the cursor is in, for languages with one', () => {
  const at = (doc: string, languageId: string): string => buildContext(requestAt(doc, { languageId }), { prefixTokens: 500, suffixTokens: 100 }).openBlock;
  assert.equal(at('def f(x):\n    """Doubles x.\n\n    ║\n', 'python'), '"""');
  assert.equal(at('def f(x):\n    """Doubles x."""\n    ║\n', 'python'), '');
  assert.equal(at('/**\n * ║\n */', 'java'), '/*');
  assert.equal(at('const s = `\n  ║', 'typescript'), '`');
  assert.equal(at('"""\n║', 'plaintext'), '');
});

test('a blank cursor line at column 0 inside a block takes the enclosing block indentation for its stop rules', () => {
  const body = (cursorLine: string): string =>
    `def make(s):\n    """Doc."""\n\n${cursorLine}\n    return s\n\n\ndef other():\n    pass\n`;
  const py = { languageId: 'python', path: 't.py' };
  assert.equal(contextAt(body('║'), py).enclosingIndent, 4);
  assert.equal(blockIndent(contextAt(body('║'), py)), 4);
  // indentation before the cursor is the user's own: a case label written at 12 under a `return` at 16
  assert.equal(contextAt(body('  ║'), py).enclosingIndent, 0);
  assert.equal(blockIndent(contextAt(body('  ║'), py)), 2);
  const cases = '        case 5:\n            return FIVE;\n        ║\n            return SEVEN;\n';
  assert.equal(blockIndent(contextAt(cases, { languageId: 'java', path: 'M.java' })), 8);
  assert.equal(contextAt(body('    s = ║'), py).enclosingIndent, 0, 'only a blank line takes it');
  // the previous line opens a block: its body is deeper than the opener; the next line bounds it
  assert.equal(contextAt('def f():\n║\n    return 1\n', py).enclosingIndent, 1);
  // between two top-level functions nothing binds the completion
  assert.equal(contextAt('def f():\n    return 1\n║\ndef g():\n    pass\n', py).enclosingIndent, 0);
  assert.equal(contextAt('║\n    x = 1\n', py).enclosingIndent, 0, 'nothing above');
  assert.equal(stopOptionsFor(contextAt(body('║'), py), 96, 8).minIndent, 4);
});
