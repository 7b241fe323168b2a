import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { dropRepeatOfFollowingLines } from './dropRepeatOfFollowingLines';

test('dropRepeatOfFollowingLines discards a line that copies the next line', () => {
  const ctx = contextAt('let a = 1;\nlet ║\nlet b = 2;\n');
  assert.equal(dropRepeatOfFollowingLines('b = 2;', ctx, null), '');
});

test('dropRepeatOfFollowingLines discards lines equal to the following lines', () => {
  const ctx = contextAt('f() {\n║\n  x();\n  y();\n}');
  assert.equal(dropRepeatOfFollowingLines('  x();\n  y();', ctx, null), '');
});

test('dropRepeatOfFollowingLines keeps new code', () => {
  const ctx = contextAt('let a = 1;\nlet ║\nlet b = 2;\n');
  assert.equal(dropRepeatOfFollowingLines('c = 3;', ctx, null), 'c = 3;');
});

test('dropRepeatOfFollowingLines discards a copy of the next line that differs only in spacing', () => {
  const ctx = contextAt('while i < n:\n    ║\n    i+=1\n');
  assert.equal(dropRepeatOfFollowingLines('i += 1', ctx, null), '');
  assert.equal(dropRepeatOfFollowingLines('j += 1', ctx, null), 'j += 1');
});
