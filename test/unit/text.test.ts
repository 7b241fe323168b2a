import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectInsertSpaces, indentWidth, scanBrackets } from '../../src/shared/text';

test('indentWidth counts tabs to the next tab stop', () => {
  assert.equal(indentWidth('    x'), 4);
  assert.equal(indentWidth('\tx', 4), 4);
  assert.equal(indentWidth('  \tx', 4), 4);
  assert.equal(indentWidth('\t\tx', 2), 4);
});

test('scanBrackets tracks open brackets, skips strings, and finds unmatched closers', () => {
  assert.deepEqual(scanBrackets('f(a, [1, 2'), { open: '([', unmatchedAt: -1 });
  assert.deepEqual(scanBrackets('s = "(" + \')\''), { open: '', unmatchedAt: -1 });
  assert.deepEqual(scanBrackets("don't ("), { open: '(', unmatchedAt: -1 });
  assert.equal(scanBrackets('a)').unmatchedAt, 1);
  assert.deepEqual(scanBrackets('a) (', '', false), { open: '(', unmatchedAt: -1 });
  assert.deepEqual(scanBrackets(')', '('), { open: '', unmatchedAt: -1 });
});

test('detectInsertSpaces follows the file: tabs, spaces, comment continuations and no indentation', () => {
  assert.equal(detectInsertSpaces('func f() {\n\tx := 1\n\tif x {\n\t\treturn\n\t}\n}\n'), false);
  assert.equal(detectInsertSpaces('def f():\n    x = 1\n    return x\n'), true);
  assert.equal(detectInsertSpaces('/**\n * doc\n * more\n */\nint f() {\n\treturn 0;\n}\n'), false);
  assert.equal(detectInsertSpaces('a\nb\n'), true);
  assert.equal(detectInsertSpaces('a\nb\n', false), false);
});
