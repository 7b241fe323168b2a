import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import type { StopReason } from '../../shared/protocol';
import { displayText, Generation } from '../generation';
import type { CursorContext } from '../types';
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

test('holdBackUnfinishedLines shows the summary line of a docstring its first line opened, and the rest once the docstring closes', () => {
  // as the histogram docstring streams: each partial shows a prefix of the next, ending with the whole; the summary
  // line is a prefix of both endings, the closed one-line docstring and the docstring closed on a later line
  const steps = ['"', '""', '"""', '"""Count', '"""Count values into bins.', '"""Count values into bins.\n', '"""Count values into bins.\n\n    Args:\n', '"""Count values into bins.\n\n    Args:\n    """\n', '"""Count values into bins.\n\n    Args:\n    """\n    counts = [0]'];
  const summary = '"""Count values into bins.';
  assert.deepEqual(
    steps.map((s) => holdBackUnfinishedLines(s, py, null)),
    ['', '', '', '"""Count', summary, summary, summary, '"""Count values into bins.\n\n    Args:\n    """', '"""Count values into bins.\n\n    Args:\n    """'],
  );
  assert.equal(holdBackUnfinishedLines('"""Count values into bins."""', py, null), '"""Count values into bins."""');
  assert.equal(holdBackUnfinishedLines('x = ""', ctx, null), 'x = ""');
});

test('holdBackUnfinishedLines shows a docstring opener alone on the first line with the summary line once that line is decoded to its end, and never the closer', () => {
  const steps = ['"""', '"""\n', '"""\n    Count', '"""\n    Count values into bins.', '"""\n    Count values into bins.\n', '"""\n    Count values into bins.\n\n    Args:\n', '"""\n    Count values into bins.\n\n    Args:\n    """\n', '"""\n    Count values into bins.\n\n    Args:\n    """\n    counts = [0]'];
  const head = '"""\n    Count values into bins.';
  const closed = '"""\n    Count values into bins.\n\n    Args:\n    """';
  assert.deepEqual(steps.map((s) => holdBackUnfinishedLines(s, py, null)), ['', '', '', '', head, head, closed, closed]);
  const raw = "r'''\n    Split a line at \\t characters.\n\n";
  assert.equal(holdBackUnfinishedLines(raw, py, null), "r'''\n    Split a line at \\t characters.");
});

test('holdBackUnfinishedLines shows of a first line that opened another string or comment only the code before the opener', () => {
  // a docstring's opener alone: its summary line is not decoded to its end, or is not the next line
  for (const s of ['"""', '"""\n', '"""\n    Count values into', '"""\n\n    Count values into bins.\n']) assert.equal(holdBackUnfinishedLines(s, py, null), '', s);
  const ts = contextAt('function page(title) {\n║\n}', { languageId: 'typescript' });
  const steps = ['  const html = ', '  const html = `', '  const html = `\n', '  const html = `\n    <p>${title}</p>\n', '  const html = `\n    <p>${title}</p>\n  `;\n'];
  assert.deepEqual(
    steps.map((s) => holdBackUnfinishedLines(s, ts, null)),
    ['  const html = ', '  const html =', '  const html =', '  const html =', '  const html = `\n    <p>${title}</p>\n  `;'],
  );
  // the end of a line that may be opening one: what comes before it
  assert.equal(holdBackUnfinishedLines('  const n = a /', ts, null), '  const n = a');
  assert.equal(holdBackUnfinishedLines('x = ""', py, null), 'x =');
  // a string prefix that no quote follows yet, which would be taken back once the opener comes
  for (const s of ['r', 'rb', 'x = b', 'x = Rb']) assert.equal(holdBackUnfinishedLines(s, py, null), s.replace(/ *[rb]*$/i, ''), s);
  for (const s of ['sub', 'x = sub', 'x = fb(']) assert.equal(holdBackUnfinishedLines(s, py, null), s);
  assert.equal(holdBackUnfinishedLines('"""Say \'', py, null), '"""Say \'');
});

test('holdBackUnfinishedLines shows text inside a docstring the cursor is in', () => {
  const inDoc = contextAt('def f(x):\n    """Return x doubled.\n\n    ║\n', { languageId: 'python' });
  assert.equal(holdBackUnfinishedLines('Args:\n        x: a number.\n    Ret', inDoc, null), 'Args:\n        x: a number.');
});

test('while a completion that opens a string or comment on its first line streams, what is shown only grows, up to the finished text', () => {
  const stats = contextAt('def summarize_for_the_stats_view(values):\n    ║\n\n\nif __name__ == "__main__":\n    main()\n', { languageId: 'python' });
  const ts = contextAt('function page(title) {\n║\n}', { languageId: 'typescript' });
  const java = contextAt('class A {\n║\n}', { languageId: 'java' });
  const numpyDoc = '"""Summarize the values for the stats view.\n\n    Parameters\n    ----------\n    values : list of float\n        The numbers to summarize.\n\n    Returns';
  const cases: [CursorContext, string, StopReason, string][] = [
    [stats, numpyDoc, 'maxLines', '"""Summarize the values for the stats view."""'],
    [stats, '"""Return the mean of values.', 'endToken', '"""Return the mean of values."""'],
    [stats, '"""Return "x"\n\n    Args:', 'maxLines', '"""Return "x" """'],
    [py, '"""Count values into bins.\n\n    Returns a list.\n    """\n    counts = [0] * bins\n    lo, hi = min(values', 'maxLines', '"""Count values into bins.\n\n    Returns a list.\n    """\n    counts = [0] * bins'],
    // the opener alone on the first line: kept with a summary on the next line, closed after it
    [stats, '"""\n    Return the number of elements in the mean.\n\n    Parameters\n    ----------\n    values : list of float\n        The numbers to summarize.\n    n : int', 'maxLines', '"""\n    Return the number of elements in the mean.\n    """'],
    [py, "'''\n    Count values into bins.\n\n    Args:", 'maxLines', "'''\n    Count values into bins.\n    '''"],
    [py, 'r"""\n    Match C:\\dir.', 'endToken', 'r"""\n    Match C:\\dir.\n    """'],
    [py, "rb'''Match C:\\dir.\n\n    Args:", 'maxLines', "rb'''Match C:\\dir.'''"],
    [py, '"""\n    Count values into bins.\n\n    Ar', 'maxTokens', '"""\n    Count values into bins.\n    """'],
    [py, '"""\n    Count values into bins.\n\n    Args:\n    """\n    return [0]', 'endToken', '"""\n    Count values into bins.\n\n    Args:\n    """\n    return [0]'],
    // a summary line the token limit cut is dropped before cutUnbalancedTail sees it (dropIncompleteLastLine), and
    // without it the opener: nothing was shown of either
    [py, '"""\n    Count values into', 'maxTokens', ''],
    // no summary on the very next line
    [py, '"""\n\n    Count values into bins.\n\n    Args:', 'maxLines', ''],
    [ts, '  const html = `\n    <p>${title}</p>', 'maxLines', '  const html ='],
    [java, '  int count; /* how many\n   * values', 'maxLines', '  int count;'],
  ];
  for (const [at, raw, stopReason, finished] of cases) {
    const gen = new Generation(at.languageId, at, () => 8);
    const shown: string[] = [];
    for (let i = 0; i <= raw.length; i++) {
      gen.grew(raw.slice(0, i));
      shown.push(gen.partialText('', at));
    }
    assert.equal(displayText({ text: raw, stopReason }, '', at, 8), finished, raw);
    for (let i = 1; i < shown.length; i++) assert.ok(shown[i]!.startsWith(shown[i - 1]!), `${JSON.stringify(shown[i - 1])} then ${JSON.stringify(shown[i])}`);
    assert.ok(finished.startsWith(shown[shown.length - 1]!), `${JSON.stringify(shown[shown.length - 1])} then ${JSON.stringify(finished)}`);
  }
});
