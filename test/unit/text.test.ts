import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeLineKey, detectInsertSpaces, firstRepeatedLine, repeatMayStartAt, indentWidth, sameCodeLine, scanBrackets, syntaxOf } from '../../src/shared/text';

test('indentWidth counts tabs to the next tab stop', () => {
  assert.equal(indentWidth('    x'), 4);
  assert.equal(indentWidth('\tx', 4), 4);
  assert.equal(indentWidth('  \tx', 4), 4);
  assert.equal(indentWidth('\t\tx', 2), 4);
});

test('scanBrackets tracks open brackets, skips strings, and finds unmatched closers', () => {
  const none = { block: '', blockAt: -1 };
  assert.deepEqual(scanBrackets('f(a, [1, 2'), { open: '([', unmatchedAt: -1, ...none });
  assert.deepEqual(scanBrackets('s = "(" + \')\''), { open: '', unmatchedAt: -1, ...none });
  assert.deepEqual(scanBrackets("don't ("), { open: '(', unmatchedAt: -1, ...none });
  assert.equal(scanBrackets('a)').unmatchedAt, 1);
  assert.deepEqual(scanBrackets('a) (', '', false), { open: '(', unmatchedAt: -1, ...none });
  assert.deepEqual(scanBrackets(')', '('), { open: '', unmatchedAt: -1, ...none });
});

test('scanBrackets with a syntax skips comments and tracks multi-line strings and block comments', () => {
  const python = { syntax: syntaxOf('python')! };
  const ts = { syntax: syntaxOf('typescript')! };
  assert.equal(syntaxOf('plaintext'), null);
  assert.deepEqual(scanBrackets('x = f(  # (\n    """doc (\n', '', false, python), { open: '(', unmatchedAt: -1, block: '"""', blockAt: 16 });
  const raw = '"""a"""\nb = rb\'\'\'c\\\'\'\'';
  assert.deepEqual(scanBrackets(raw, '', false, python), { open: '', unmatchedAt: -1, block: "'''", blockAt: raw.indexOf("'''") });
  assert.deepEqual(scanBrackets('s = "\'\'\'"; t = "\\"""', '', false, python), { open: '', unmatchedAt: -1, block: '', blockAt: -1 });
  // a block open where the text starts: closed in it, or still open at its end with blockAt -1
  assert.deepEqual(scanBrackets('still doc (\n', '', false, { ...python, block: '"""' }), { open: '', unmatchedAt: -1, block: '"""', blockAt: -1 });
  assert.deepEqual(scanBrackets('end."""\nf(', '', false, { ...python, block: '"""' }), { open: '(', unmatchedAt: -1, block: '', blockAt: -1 });
  const js = 'f(\n// ) `\n/* ( */ b = `${x}\n(';
  assert.deepEqual(scanBrackets(js, '', false, ts), { open: '(', unmatchedAt: -1, block: '`', blockAt: js.indexOf('= `') + 2 });
  assert.equal(scanBrackets('/* a\n * b', '', false, ts).block, '/*');
  // Go's raw strings have no escapes; a backtick is nothing in Python
  assert.equal(scanBrackets('s := `C:\\`; f(', '', false, { syntax: syntaxOf('go')! }).open, '(');
  assert.equal(scanBrackets('x = `(`', '', false, python).open, '(');
});

test('detectInsertSpaces follows the file: tabs, spaces, comment continuations and no indentation', () => {
  assert.equal(detectInsertSpaces('func f() {\n\tx := 1\n\tif x {\n\t\treturn\n\t}\n}\n'), false);
  assert.equal(detectInsertSpaces('def f():\n    x = 1\n    return x\n'), true);
  assert.equal(detectInsertSpaces('/**\n * doc\n * more\n */\nint f() {\n\treturn 0;\n}\n'), false);
  assert.equal(detectInsertSpaces('a\nb\n'), true);
  assert.equal(detectInsertSpaces('a\nb\n', false), false);
});

test('the Python syntax knows docstrings and the string prefixes before quotes', () => {
  const python = syntaxOf('python')!;
  assert.deepEqual(python.blocks.map((b) => [b.open, b.close, b.docstring]), [['"""', '"""', true], ["'''", "'''", true]]);
  const prefixed = (before: string): boolean => python.stringPrefix!.test(before);
  for (const before of ['r', '    rb', 'x = Rb', 'f', 'u', '(b', 't']) assert.ok(prefixed(before), before);
  for (const before of ['', '    ', 'x = ', 'self.attr', 'bar', 'x = buffer']) assert.ok(!prefixed(before), before);
  assert.equal(syntaxOf('typescript')!.stringPrefix, null);
  assert.ok(syntaxOf('typescript')!.blocks.every((b) => !b.docstring));
});

test('sameCodeLine: spacing inside a line aside, indentation and word boundaries kept', () => {
  assert.ok(sameCodeLine('        i += 1', '        i+=1'));
  assert.ok(sameCodeLine('  foo( a, b )', '  foo(a,b)'));
  assert.ok(!sameCodeLine('    i += 1', '        i += 1'));
  assert.ok(!sameCodeLine('return x', 'returnx'));
  assert.equal(codeLineKey('\tif (a &&  b) {  '), '\tif(a&&b){');
});

test('firstRepeatedLine finds a block of 1 to 3 lines repeating the block above; repeatMayStartAt where one may begin', () => {
  assert.equal(firstRepeatedLine(['a', 'a'], ''), 1);
  assert.equal(firstRepeatedLine(['a', 'b', 'a', 'b'], ''), 2);
  assert.equal(firstRepeatedLine(['a', 'b', 'a'], ''), -1, 'the block is not whole yet');
  assert.equal(firstRepeatedLine(['x', 'a', 'b', 'c', 'a', 'b', 'c'], ''), 4);
  assert.equal(firstRepeatedLine(['}', '', '}', ''], ''), -1, 'closers and blank lines may repeat');
  assert.equal(firstRepeatedLine(['b', 'a = b', 'a = b'], 'a = '), 1, 'line 0 continues the cursor line');
  assert.equal(repeatMayStartAt(['a', 'b', 'a', 'b'.slice(0, 0)], ''), 2);
  assert.equal(repeatMayStartAt(['a', 'b', 'a', 'x'], ''), -1);
  assert.equal(repeatMayStartAt(['a', 'b', 'c', 'a', 'b', 'c'.slice(0, 0)], ''), 3);
  assert.equal(repeatMayStartAt(['q', 'b', 'q(1'], ''), -1);
  assert.equal(repeatMayStartAt(['q(1)', 'b', 'q('], ''), 2, 'the last line may still become the block\'s first');
});
