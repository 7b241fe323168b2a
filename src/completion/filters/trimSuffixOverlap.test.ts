import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { trimSuffixOverlap } from './trimSuffixOverlap';

test('trimSuffixOverlap removes closers the line already has after the cursor', () => {
  assert.equal(trimSuffixOverlap('a, b)', contextAt('f(║)'), null), 'a, b');
  assert.equal(trimSuffixOverlap('"hi");', contextAt('log(║);'), null), '"hi"');
});

test('trimSuffixOverlap keeps a closer of the completion’s own bracket', () => {
  assert.equal(trimSuffixOverlap('g(x)', contextAt('f(║)'), null), 'g(x)');
});

test('trimSuffixOverlap drops trailing lines equal to the following lines', () => {
  const ctx = contextAt('function f() {\n║\n}\n');
  assert.equal(trimSuffixOverlap('  return 1;\n}', ctx, null), '  return 1;');
});
