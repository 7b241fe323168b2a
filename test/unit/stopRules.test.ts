import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkStop, endsAtLineStart, LINE_START_STOP_PROBABILITY, stopProbability } from '../../src/shared/stopRules';

test('single line: stops at the first newline and keeps the line', () => {
  const r = checkStop('foo(a)\nbar', { maxTokens: 10, maxLines: 1 });
  assert.equal(r.stop, 'maxLines');
  assert.equal('foo(a)\nbar'.slice(0, r.keep), 'foo(a)');
});

test('multi-line: maxLines cuts before the extra line', () => {
  const text = 'a\nb\nc\nd';
  const r = checkStop(text, { maxTokens: 10, maxLines: 3 });
  assert.equal(r.stop, 'maxLines');
  assert.equal(text.slice(0, r.keep), 'a\nb\nc');
});

test('block end: a line indented less than the block stops and is cut', () => {
  const text = '\n        return 1\n    return 0\ndef g():';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, minIndent: 4 });
  assert.equal(r.stop, 'blockEnd');
  assert.equal(text.slice(0, r.keep), '\n        return 1\n    return 0');
});

test('block end: after a block opener, a line back at the opener’s indentation ends the body', () => {
  const text = '\n    return 1\n\ndef g():\n    pass';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, minIndent: 1 });
  assert.equal(r.stop, 'blockEnd');
  assert.equal(text.slice(0, r.keep), '\n    return 1\n');
});

test('block end: a closing-bracket line one level out is kept and ends the block', () => {
  const text = '\n    a();\n}\nfunction g() {';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, minIndent: 1, tabSize: 4, openBrackets: '{' });
  assert.equal(r.stop, 'blockEnd');
  assert.equal(text.slice(0, r.keep), '\n    a();\n}');
  // When the document already has that closing line after the cursor, it is not repeated.
  const dup = checkStop(text, { maxTokens: 50, maxLines: 10, minIndent: 1, tabSize: 4, openBrackets: '{', nextSuffixLine: '}' });
  assert.equal(dup.stop, 'suffixRepeat');
  assert.equal(text.slice(0, dup.keep), '\n    a();');
  // Still being written: no stop yet.
  assert.equal(checkStop('\n    a();\n}', { maxTokens: 50, maxLines: 10, minIndent: 1, openBrackets: '{' }).stop, null);
});

test('block end waits while the new line is still blank, holding it back from streaming', () => {
  const text = 'x = 1\n  ';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, minIndent: 4 });
  assert.equal(r.stop, null);
  assert.equal(r.safe, 'x = 1'.length);
});

test('suffix repeat: a line equal to the next suffix line stops', () => {
  const text = 'return a + b;\n}\n';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, nextSuffixLine: '}' });
  assert.equal(r.stop, 'suffixRepeat');
  assert.equal(text.slice(0, r.keep), 'return a + b;');
});

test('suffix repeat: an incomplete line that may become the suffix line is held back', () => {
  const r = checkStop('let x = 1;\nconsole.lo', { maxTokens: 50, maxLines: 10, nextSuffixLine: 'console.log(x);' });
  assert.equal(r.stop, null);
  assert.equal(r.safe, 'let x = 1;'.length);
});

test('line suffix: reaching the rest of the line at bracket depth 0 stops', () => {
  const r = checkStop('a, b)', { maxTokens: 50, maxLines: 1, lineSuffix: ')', openBrackets: '(' });
  assert.equal(r.stop, 'suffixRepeat');
  assert.equal('a, b)'.slice(0, r.keep), 'a, b');
});

test('line suffix: a closer of the output’s own bracket is not the suffix', () => {
  const r = checkStop('bar(x', { maxTokens: 50, maxLines: 1, lineSuffix: ')', openBrackets: '(' });
  assert.equal(r.stop, null);
  const r2 = checkStop('bar(x)', { maxTokens: 50, maxLines: 1, lineSuffix: ')', openBrackets: '(' });
  assert.equal(r2.stop, null);
});

test('unopened bracket: a closer the prefix never opened stops before it', () => {
  const text = 'x + 1 }';
  const r = checkStop(text, { maxTokens: 50, maxLines: 1, openBrackets: '' });
  assert.equal(r.stop, 'unopenedBracket');
  assert.equal(text.slice(0, r.keep), 'x + 1 ');
});

test('unopened bracket: closing what the prefix opened is fine; brackets in strings are ignored', () => {
  assert.equal(checkStop('1, 2]', { maxTokens: 50, maxLines: 1, openBrackets: '[' }).stop, null);
  assert.equal(checkStop('")" + x', { maxTokens: 50, maxLines: 1, openBrackets: '' }).stop, null);
  assert.equal(checkStop('1, 2)', { maxTokens: 50, maxLines: 1, openBrackets: '[' }).stop, 'unopenedBracket');
});

test('the earliest stop wins', () => {
  const text = 'a)\n}\n';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, nextSuffixLine: '}', openBrackets: '' });
  assert.equal(r.stop, 'unopenedBracket');
  assert.equal(r.keep, 1);
});

test('repeated line: a finished line that repeats the one above stops decoding and is cut', () => {
  const text = 'expect(aa).toBe(1);\n\texpect(aa).toBe(1);\n\texpect(a';
  const r = checkStop(text, { maxTokens: 50, maxLines: 8, linePrefix: '\t' });
  assert.equal(r.stop, 'repeatedLine');
  assert.equal(text.slice(0, r.keep), 'expect(aa).toBe(1);');
  // the line still being decoded may grow into something else, and closing brackets repeat legitimately
  assert.equal(checkStop('a();\n    a();', { maxTokens: 50, maxLines: 8, linePrefix: '    ' }).stop, null);
  assert.equal(checkStop('f(x);\n  }\n  }\nz', { maxTokens: 50, maxLines: 8, linePrefix: '', openBrackets: '{{' }).stop, null);
  // without linePrefix (single-line requests) the rule is off
  assert.equal(checkStop('a\na\nb', { maxTokens: 50, maxLines: 8 }).stop, null);
});

test('a first line that completes the cursor line into a copy of the line above stops with nothing kept', () => {
  const o = { maxTokens: 50, maxLines: 8, minIndent: 4, linePrefix: '    for j in ', lineAbove: 'for j in range(n):' };
  const r = checkStop('range(n):\n        total += j\n', o);
  assert.equal(r.stop, 'repeatedLine');
  assert.equal(r.keep, 0);
  // while it may still become the copy nothing streams; once it cannot, it streams as usual
  assert.deepEqual(checkStop('range(n', o), { stop: null, keep: 7, safe: 0 });
  assert.equal(checkStop('range(m):\n        total += j', o).stop, null);
  assert.ok(checkStop('range(m', o).safe > 0);
  // block closers repeat legitimately
  assert.equal(checkStop('d\n  x', { maxTokens: 50, maxLines: 8, linePrefix: '  en', lineAbove: 'end' }).stop, null);
});

/** Feeds `text` one character at a time, as decoding does; returns what was streamed and what was finally kept. */
function decodeByCharacter(text: string, o: Parameters<typeof checkStop>[1]): { streamed: string; kept: string } {
  let streamed = '';
  for (let n = 1; n <= text.length; n++) {
    const r = checkStop(text.slice(0, n), o);
    if (r.stop) return { streamed, kept: text.slice(0, r.keep) };
    if (r.safe > streamed.length) streamed = text.slice(0, r.safe);
  }
  return { streamed, kept: text };
}

test('text once streamed is never cut by a later stop rule (ghost text only grows)', () => {
  const cases: [string, string, Parameters<typeof checkStop>[1]][] = [
    // the repeated-line rule: the last line turns into a copy of the line above
    ['repeated line', '\n    total += x\n    total += x\n', { maxTokens: 99, maxLines: 10, minIndent: 4, linePrefix: '    ' }],
    ['repeat of the cursor line', 'items.append(x)\nitems.append(x)\n', { maxTokens: 99, maxLines: 10, linePrefix: '' }],
    ['copy of the line above', 'append(x)\nitems.sort()\n', { maxTokens: 99, maxLines: 10, linePrefix: 'items.', lineAbove: 'items.append(x)' }],
    // a closing-bracket line that grows into one the block rule cuts
    ['closing line grows', '\n    a();\n} else {\n    b();\n', { maxTokens: 99, maxLines: 10, minIndent: 1, tabSize: 4, openBrackets: '{' }],
    // a loop of two and of three lines
    ['two lines in turn', 'x.append(c)\n    depth += 1\n    x.append(c)\n    depth += 1\n    x.append(c)\n', { maxTokens: 99, maxLines: 10, linePrefix: '    ' }],
    ['three lines in turn', '\n    a()\n    b()\n    c()\n    a()\n    b()\n    c()\n', { maxTokens: 99, maxLines: 10, linePrefix: '' }],
  ];
  for (const [name, text, o] of cases) {
    const { streamed, kept } = decodeByCharacter(text, o);
    assert.ok(kept.startsWith(streamed), `${name}: streamed ${JSON.stringify(streamed)}, kept ${JSON.stringify(kept)}`);
  }
});

test('suffix repeat: a line equal to the next suffix line but for its spacing stops, and is held back while it may', () => {
  const text = '    while i < n:\n        i += 1\n    return i\n';
  const r = checkStop(text, { maxTokens: 50, maxLines: 10, nextSuffixLine: '        i+=1' });
  assert.equal(r.stop, 'suffixRepeat');
  assert.equal(text.slice(0, r.keep), '    while i < n:');
  const partial = checkStop('    while i < n:\n        i +', { maxTokens: 50, maxLines: 10, nextSuffixLine: '        i+=1' });
  assert.equal(partial.stop, null);
  assert.equal(partial.safe, '    while i < n:'.length);
});

test('repeated lines: a block of two or three lines that repeats the block above stops before the repeat', () => {
  const text = 'x.append(c)\n    depth += 1\n    x.append(c)\n    depth += 1\n    y = 2\n';
  const r = checkStop(text, { maxTokens: 99, maxLines: 10, linePrefix: '    ' });
  assert.equal(r.stop, 'repeatedLine');
  assert.equal(text.slice(0, r.keep), 'x.append(c)\n    depth += 1');
  const three = '\n    a()\n    b()\n    c()\n    a()\n    b()\n    c()\n';
  assert.equal(three.slice(0, checkStop(three, { maxTokens: 99, maxLines: 10, linePrefix: '' }).keep), '\n    a()\n    b()\n    c()');
  // closers and blank lines may repeat; a line that only starts like the block above is streamed once it differs
  assert.equal(checkStop('    a()\n}\n\n}\n\n    b()\n', { maxTokens: 99, maxLines: 10, linePrefix: '', openBrackets: '{{' }).stop, null);
  const differs = checkStop('a()\n    b()\n    a(1', { maxTokens: 99, maxLines: 10, linePrefix: '    ' });
  assert.equal(differs.stop, null);
  assert.equal(differs.safe, 'a()\n    b()\n    a(1'.length);
});

test('a line start after some text ends decoding when the stop tokens are likely enough, asked only there', () => {
  const logits = new Float32Array([0, 0, Math.log(2)]);
  assert.ok(Math.abs(stopProbability(logits, new Set([2])) - 0.5) < 1e-6);
  assert.ok(Math.abs(stopProbability(logits, new Set([0, 2])) - 0.75) < 1e-6);
  const at = (p: number) => () => p;
  assert.ok(endsAtLineStart('    return x\n', at(LINE_START_STOP_PROBABILITY)));
  assert.ok(endsAtLineStart('    return x\n    ', at(0.5)), 'indentation decoded already');
  assert.ok(!endsAtLineStart('    return x\n', at(LINE_START_STOP_PROBABILITY / 2)));
  assert.ok(!endsAtLineStart('    return x', at(0.9)), 'mid-line');
  assert.ok(!endsAtLineStart('\n  ', at(0.9)), 'no text yet');
  let asked = 0;
  endsAtLineStart('    ret', () => { asked++; return 1; });
  assert.equal(asked, 0);
});
