import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { holdBackUnfinishedLines } from './holdBackUnfinishedLines';

const ctx = contextAt('function f() {\n║\n}');

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
