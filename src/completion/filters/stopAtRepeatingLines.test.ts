import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { stopAtRepeatingLines } from './stopAtRepeatingLines';

const ctx = contextAt('x = [\n║\n');

test('stopAtRepeatingLines keeps one copy of a line repeated three times', () => {
  assert.equal(stopAtRepeatingLines('  1,\n  2,\n  2,\n  2,\n  2,', ctx, null), '  1,\n  2,');
});

test('stopAtRepeatingLines leaves two repeats and blank lines alone', () => {
  assert.equal(stopAtRepeatingLines('a\na\nb', ctx, null), 'a\na\nb');
  assert.equal(stopAtRepeatingLines('a\n\n\n\nb', ctx, null), 'a\n\n\n\nb');
});
