import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { holdBackUnfinishedLines } from './holdBackUnfinishedLines';

const ctx = contextAt('function f() {\n║\n}');
const py = contextAt('def histogram(values, bins):\n    ║\n', { languageId: 'python' });

test('holdBackUnfinishedLines shows a growing first line as it is', () => {
  assert.equal(holdBackUnfinishedLines('  const a = fo', ctx, null), '  const a = fo');
});

test('holdBackUnfinishedLines hides the unfinished last line', () => {
  assert.equal(holdBackUnfinishedLines('  a();\n  b(', ctx, null), '  a();');
});

test('holdBackUnfinishedLines hides an open block until it closes', () => {
  assert.equal(holdBackUnfinishedLines('  a();\n  if (x) {\n    b();\n', ctx, null), '  a();');
  assert.equal(holdBackUnfinishedLines('  a();\n  if (x) {\n    b();\n  }\n', ctx, null), '  a();\n  if (x) {\n    b();\n  }');
});

test('holdBackUnfinishedLines hides a first line that opened a docstring until the docstring closes', () => {
  // as the histogram docstring streams: each partial shows a prefix of the next, ending with the whole
  const steps = ['"', '""', '"""Count', '"""Count values into bins.', '"""Count values into bins.\n', '"""Count values into bins.\n\n    Args:\n', '"""Count values into bins.\n\n    Args:\n    """\n', '"""Count values into bins.\n\n    Args:\n    """\n    counts = [0]'];
  assert.deepEqual(
    steps.map((s) => holdBackUnfinishedLines(s, py, null)),
    ['', '', '', '', '', '', '"""Count values into bins.\n\n    Args:\n    """', '"""Count values into bins.\n\n    Args:\n    """'],
  );
  assert.equal(holdBackUnfinishedLines('"""Count values into bins."""', py, null), '"""Count values into bins."""');
  assert.equal(holdBackUnfinishedLines('x = ""', ctx, null), 'x = ""');
});

test('holdBackUnfinishedLines shows text inside a docstring the cursor is in', () => {
  const inDoc = contextAt('def f(x):\n    """Return x doubled.\n\n    ║\n', { languageId: 'python' });
  assert.equal(holdBackUnfinishedLines('Args:\n        x: a number.\n    Ret', inDoc, null), 'Args:\n        x: a number.');
});
