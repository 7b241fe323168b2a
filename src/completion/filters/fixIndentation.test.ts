import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { fixIndentation } from './fixIndentation';

test('fixIndentation turns spaces into tabs for a tab-indented editor', () => {
  const ctx = contextAt('if (x) {║\n}', { insertSpaces: false, tabSize: 4 });
  assert.equal(fixIndentation('\n    a();\n        b();', ctx, null), '\n\ta();\n\t\tb();');
});

test('fixIndentation turns tabs into spaces and leaves the first line alone', () => {
  const ctx = contextAt('if (x) {║\n}', { insertSpaces: true, tabSize: 2 });
  assert.equal(fixIndentation('\t x\n\ta();', ctx, null), '\t x\n  a();');
});

test('fixIndentation keeps text already in the right style', () => {
  const ctx = contextAt('if (x) {║\n}');
  assert.equal(fixIndentation('\n    a();', ctx, null), '\n    a();');
});
