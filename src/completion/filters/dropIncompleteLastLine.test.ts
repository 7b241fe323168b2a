import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { dropIncompleteLastLine } from './dropIncompleteLastLine';

const ctx = contextAt('function f() {║\n}');

test('dropIncompleteLastLine drops the unfinished last line when tokens ran out', () => {
  assert.equal(dropIncompleteLastLine('\n  a();\n  b(', ctx, 'maxTokens'), '\n  a();');
});

test('dropIncompleteLastLine keeps complete stops and single lines', () => {
  assert.equal(dropIncompleteLastLine('\n  a();\n  b(', ctx, 'endToken'), '\n  a();\n  b(');
  assert.equal(dropIncompleteLastLine('a(b', ctx, 'maxTokens'), 'a(b');
});
