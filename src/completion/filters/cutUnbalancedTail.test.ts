import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { cutUnbalancedTail } from './cutUnbalancedTail';

const ctx = contextAt('function f() {\n║\n}');
const py = contextAt('def histogram(values, bins):\n    ║\n', { languageId: 'python' });
const ts = contextAt('function page(title) {\n║\n}', { languageId: 'typescript' });

test('cutUnbalancedTail cuts a block the completion opened and did not close', () => {
  assert.equal(cutUnbalancedTail('  a();\n  if (x) {\n    b();', ctx, null), '  a();');
});

test('cutUnbalancedTail keeps balanced completions and single lines', () => {
  assert.equal(cutUnbalancedTail('  if (x) {\n    b();\n  }', ctx, null), '  if (x) {\n    b();\n  }');
  assert.equal(cutUnbalancedTail('g(x', ctx, null), 'g(x');
});

test('cutUnbalancedTail drops a completion whose first line opened a docstring that is still open at its end', () => {
  const doc = '"""Count values into bins.\n\n    Args:\n        values: the numbers to count.';
  assert.equal(cutUnbalancedTail(doc, py, 'maxLines'), '');
  for (const q of ["'''", 'r"""', 'f"""', 'b"""', 'u"""', "rb'''", "Rb'''"]) {
    assert.equal(cutUnbalancedTail(`${q}Count values.\n\n    Args:`, py, 'maxLines'), '', q);
  }
});

test('cutUnbalancedTail keeps a docstring the completion closed, and cuts back to the line end before one it left open', () => {
  const closed = '"""Count values into bins."""\n    counts = [0] * bins\n    return counts';
  assert.equal(cutUnbalancedTail(closed, py, null), closed);
  const multi = '"""Count values into bins.\n\n    Returns a list.\n    """\n    counts = [0] * bins';
  assert.equal(cutUnbalancedTail(multi, py, null), multi);
  assert.equal(cutUnbalancedTail('x = 1\n    s = """abc\n    def', py, 'maxLines'), 'x = 1');
  assert.equal(cutUnbalancedTail('"""Doc."""\n    s = \'\'\'abc\n    def', py, 'maxLines'), '"""Doc."""');
});

test('cutUnbalancedTail: a completion inside a docstring the prefix opened may close it or stay in it', () => {
  const inDoc = contextAt('def f(x):\n    """Return x doubled.\n\n    ║\n', { languageId: 'python' });
  assert.equal(inDoc.openBlock, '"""');
  const stays = 'Args:\n        x: a number (any.\n    Returns:';
  assert.equal(cutUnbalancedTail(stays, inDoc, 'maxLines'), stays);
  const closes = 'Args:\n        x: a number.\n    """\n    return 2 * x';
  assert.equal(cutUnbalancedTail(closes, inDoc, null), closes);
  // it closed the prefix's docstring and opened one of its own
  assert.equal(cutUnbalancedTail('"""\n    s = """abc\n    def', inDoc, 'maxLines'), '"""');
});

test('cutUnbalancedTail cuts template literals and block comments the completion left open', () => {
  assert.equal(cutUnbalancedTail('  const head = `<h1>${title}</h1>`;\n  const body = `\n    <p>${title}</p>', ts, 'maxLines'), '  const head = `<h1>${title}</h1>`;');
  assert.equal(cutUnbalancedTail('  const html = `\n    <p>${title}</p>\n  `;\n  return html;', ts, null), '  const html = `\n    <p>${title}</p>\n  `;\n  return html;');
  assert.equal(cutUnbalancedTail('  a();\n  /* Counts the\n   * values', ts, 'maxLines'), '  a();');
  const java = contextAt('class A {\n║\n}', { languageId: 'java' });
  assert.equal(cutUnbalancedTail('  int x = 0;\n  /**\n   * Counts', java, 'maxLines'), '  int x = 0;');
  assert.equal(cutUnbalancedTail('  /** Counts. */\n  int n;', java, null), '  /** Counts. */\n  int n;');
});

test('cutUnbalancedTail ignores brackets and quotes in comments where it knows the syntax, and blocks where it does not', () => {
  assert.equal(cutUnbalancedTail('  a(); // see (1\n  b();', ts, null), '  a(); // see (1\n  b();');
  assert.equal(cutUnbalancedTail('x = 1  # the """ quotes\n    y = 2', py, null), 'x = 1  # the """ quotes\n    y = 2');
  const text = contextAt('║', { languageId: 'plaintext' });
  assert.equal(cutUnbalancedTail('a\n"""b\nc', text, 'maxLines'), 'a\n"""b\nc');
  // Python has no template literals
  assert.equal(cutUnbalancedTail('x = 1\n    y = `2', py, 'maxLines'), 'x = 1\n    y = `2');
});
