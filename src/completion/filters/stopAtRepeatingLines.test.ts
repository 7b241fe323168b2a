import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { stopAtRepeatingLines } from './stopAtRepeatingLines';

const ctx = contextAt('x = [\n║\n');

test('stopAtRepeatingLines keeps one copy of a repeated line', () => {
  assert.equal(stopAtRepeatingLines('  1,\n  2,\n  2,\n  2,\n  2,', ctx, null), '  1,\n  2,');
  assert.equal(stopAtRepeatingLines('a\na\nb', ctx, null), 'a');
});

test('stopAtRepeatingLines counts the cursor line with the text before the cursor', () => {
  // golden case from the held-out evaluation (node-webpack, tab-indented): the first line continues "\t"
  const tabbed = contextAt('it("x", function() {\n\texpect(bb).toBe(2);\n\t║\n});\n');
  assert.equal(stopAtRepeatingLines('expect(aa).toBe(1);\n\texpect(aa).toBe(1);\n\texpect(aa).toBe(1);', tabbed, null),
    'expect(aa).toBe(1);');
  const midLine = contextAt('    total += ║\n');
  assert.equal(stopAtRepeatingLines('x;\n    total += x;\n', midLine, null), 'x;');
});

test('stopAtRepeatingLines leaves blank lines, closing brackets and different lines alone', () => {
  assert.equal(stopAtRepeatingLines('a\n\n\n\nb', ctx, null), 'a\n\n\n\nb');
  assert.equal(stopAtRepeatingLines('f(a);\n  }\n  }\n});', ctx, null), 'f(a);\n  }\n  }\n});');
  assert.equal(stopAtRepeatingLines('a\nab\nb', ctx, null), 'a\nab\nb');
});

test('stopAtRepeatingLines lets nested blocks close with a closer line each', () => {
  assert.equal(stopAtRepeatingLines('</li>\n</ul>\n</div>\n</div>', ctx, null), '</li>\n</ul>\n</div>\n</div>');
  assert.equal(stopAtRepeatingLines('  done\ndone\nfi\nfi', ctx, null), '  done\ndone\nfi\nfi');
  assert.equal(stopAtRepeatingLines('end\nend', ctx, 'endToken'), 'end\nend');
});

test('stopAtRepeatingLines discards a cursor line completed into a copy of the line above', () => {
  // held-out evaluation (2026-12-06): `- unconvert` after `- unconvert` in a .golangci.yml
  const list = contextAt('linters:\n  - unconvert\n  - ║\n');
  assert.equal(stopAtRepeatingLines('unconvert', list, 'endToken'), '');
  assert.equal(stopAtRepeatingLines('unconvert\n  - unparam', list, null), '');
  assert.equal(stopAtRepeatingLines('unparam', list, 'endToken'), 'unparam');
  // SAFIM control task 7042: the same loop header one level in
  const nested = contextAt('    for j in range(n):\n        for ║\n');
  assert.equal(stopAtRepeatingLines('j in range(n):', nested, 'endToken'), '');
  assert.equal(stopAtRepeatingLines('k in range(n):', nested, 'endToken'), 'k in range(n):');
  // at the end of the document's line above, a completion starting on the next line is not the cursor line's copy
  const after = contextAt('  mkdir ${t}/root║\n');
  assert.equal(stopAtRepeatingLines('\n  mkdir ${t}/etc', after, 'endToken'), '\n  mkdir ${t}/etc');
});

test('stopAtRepeatingLines holds back a streamed first line while it may still become the line above', () => {
  const list = contextAt('linters:\n  - unconvert\n  - ║\n');
  assert.equal(stopAtRepeatingLines('uncon', list, null), '');
  assert.equal(stopAtRepeatingLines('unp', list, null), 'unp');
  const closer = contextAt('    }\n    ║\n');
  assert.equal(stopAtRepeatingLines('}', closer, null), '}');
});
