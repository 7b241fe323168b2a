import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { scanBrackets, syntaxOf } from '../../shared/text';
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

/** Whether a line of Python closes the triple-quoted string it opens with its last character, and not before. */
function closesAtItsEnd(line: string): boolean {
  const blockOpen = (code: string): boolean => scanBrackets(code, '', false, { syntax: syntaxOf('python')! }).block !== '';
  return blockOpen(line.slice(0, -1)) && !blockOpen(line);
}

test('cutUnbalancedTail closes a docstring its first line opened with a summary and left open: a one-line docstring with the same quotes', () => {
  const doc = '"""Count values into bins.\n\n    Args:\n        values: the numbers to count.';
  assert.equal(cutUnbalancedTail(doc, py, 'maxLines'), '"""Count values into bins."""');
  for (const q of ['"""', "'''", 'r"""', 'f"""', 'b"""', 'u"""', "rb'''", "Rb'''"]) {
    assert.equal(cutUnbalancedTail(`${q}Count values.  \n\n    Args:`, py, 'maxLines'), `${q}Count values.${q.slice(-3)}`, q);
  }
  // one line, no more decoded
  assert.equal(cutUnbalancedTail('"""Return the mean of values.', py, 'endToken'), '"""Return the mean of values."""');
  // after a string prefix the user typed
  const raw = contextAt('def pattern():\n    r║\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail('"""Match C:\\dir.\n\n    More.', raw, 'maxLines'), '"""Match C:\\dir."""');
});

test('cutUnbalancedTail closes a docstring whose opener stands alone on the first line and whose summary is the next: those two lines, then the closer at the opener\'s indentation', () => {
  const numpy = '"""\n    Return the number of elements in the mean.\n\n    Parameters\n    ----------\n    values : list of float';
  assert.equal(cutUnbalancedTail(numpy, py, 'maxLines'), '"""\n    Return the number of elements in the mean.\n    """');
  for (const q of ['"""', "'''", 'r"""', 'f"""', "rb'''", "Rb'''"]) {
    const closed = `${q}\n    Count values.\n    ${q.slice(-3)}`;
    assert.equal(cutUnbalancedTail(`${q}  \n    Count values.\n\n    Args:`, py, 'maxLines'), closed.replace('\n', '  \n'), q);
    assert.ok(closesAtItsEnd(closed), closed);
  }
  // the summary is the last line, as the one-line docstring's may be: closed the same way
  assert.equal(cutUnbalancedTail('"""\n    Return the mean of values.', py, 'endToken'), '"""\n    Return the mean of values.\n    """');
  assert.equal(cutUnbalancedTail('"""\n    Return the mean of', py, 'maxTokens'), '"""\n    Return the mean of\n    """');
  // a quote or backslash at the summary's end does not touch the closer
  for (const summary of ['Return "x"', 'Match C:\\']) {
    const closed = `r"""\n    ${summary}\n    """`;
    assert.equal(cutUnbalancedTail(`r"""\n    ${summary}\n\n    Args:`, py, 'maxLines'), closed);
    assert.ok(closesAtItsEnd(closed), closed);
  }
  // after a string prefix the user typed
  const raw = contextAt('def pattern():\n    r║\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail('"""\n    Match C:\\dir.\n\n    More.', raw, 'maxLines'), '"""\n    Match C:\\dir.\n    """');
});

test('cutUnbalancedTail puts the closer after a summary line at the opener\'s indentation: the cursor\'s line\'s and the first line\'s own', () => {
  const doc = '\n    Count values.\n\n    Args:';
  // the summary indented deeper than the opener
  assert.equal(cutUnbalancedTail('"""\n        Count values.\n\n    Args:', py, 'maxLines'), '"""\n        Count values.\n    """');
  // the cursor at the line start: the completion indents its first line itself
  const col0 = contextAt('def histogram(values, bins):\n║\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail(`    """${doc}`, col0, 'maxLines'), `    """\n    Count values.\n    """`);
  const col2 = contextAt('def histogram(values, bins):\n  ║\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail(`  """${doc}`, col2, 'maxLines'), `  """\n    Count values.\n    """`);
  // a module docstring
  const module = contextAt('║\nimport os\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail('"""\nStatistics for the view.\n\nFunctions:', module, 'maxLines'), '"""\nStatistics for the view.\n"""');
  // tabs
  const tabs = contextAt('def histogram(values, bins):\n\t║\n', { languageId: 'python', insertSpaces: false });
  assert.equal(cutUnbalancedTail('"""\n\tCount values.\n\n\tArgs:', tabs, 'maxLines'), '"""\n\tCount values.\n\t"""');
});

test('cutUnbalancedTail keeps a quote or backslash that ends a one-line docstring apart from its closer', () => {
  const cases: [string, string][] = [
    ['"""Return "x"\n\n    Args:', '"""Return "x" """'],
    ["'''Say 'hi'\n\n    Args:", "'''Say 'hi' '''"],
    ['\'\'\'Return "x"\n\n    Args:', '\'\'\'Return "x"\'\'\''],
    ['r"""Match C:\\\n\n    Args:', 'r"""Match C:\\ """'],
  ];
  for (const [text, closed] of cases) {
    assert.equal(cutUnbalancedTail(text, py, 'maxLines'), closed);
    assert.ok(closesAtItsEnd(closed), closed);
  }
});

test('cutUnbalancedTail cuts a first line that opened a string or comment and no docstring summary back to the code before the opener, or drops it', () => {
  // the opener with no summary after it on its line or on the very next one
  assert.equal(cutUnbalancedTail('"""', py, 'endToken'), '');
  assert.equal(cutUnbalancedTail('"""\n    ', py, 'maxTokens'), '');
  assert.equal(cutUnbalancedTail('"""\n\n    Count values into bins.\n\n    Args:', py, 'maxLines'), '');
  assert.equal(cutUnbalancedTail("'''\n    ----------\n    values : list", py, 'maxLines'), '');
  assert.equal(cutUnbalancedTail('"""\\\n    Usage: stats FILE', py, 'maxLines'), '');
  // a string after code is no docstring
  assert.equal(cutUnbalancedTail('query = """SELECT *\n    FROM t', py, 'maxLines'), 'query =');
  assert.equal(cutUnbalancedTail("sql = rb'''SELECT *\n    FROM t", py, 'maxLines'), 'sql =');
  const afterCode = contextAt('def f():\n    query = ║\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail('"""SELECT *\n    FROM t', afterCode, 'maxLines'), '');
  // template literals and block comments
  assert.equal(cutUnbalancedTail('  const html = `\n    <p>${title}</p>', ts, 'maxLines'), '  const html =');
  const java = contextAt('class A {\n║\n}', { languageId: 'java' });
  assert.equal(cutUnbalancedTail('  int count; /* how many\n   * values', java, 'maxLines'), '  int count;');
  assert.equal(cutUnbalancedTail('  /**\n   * Counts', java, 'maxLines'), '');
});

test('cutUnbalancedTail leaves a string that the rest of the cursor\'s line closes', () => {
  const closedAfter = contextAt('def mean(values):\n    ║"""\n    return sum(values) / len(values)\n', { languageId: 'python' });
  assert.equal(cutUnbalancedTail('"""Return the mean of values.', closedAfter, 'maxLines'), '"""Return the mean of values.');
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
