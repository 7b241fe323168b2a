import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { cutUnbalancedTail } from './cutUnbalancedTail';

const ctx = contextAt('function f() {\n║\n}');

test('cutUnbalancedTail cuts a block the completion opened and did not close', () => {
  assert.equal(cutUnbalancedTail('  a();\n  if (x) {\n    b();', ctx, null), '  a();');
});

test('cutUnbalancedTail keeps balanced completions and single lines', () => {
  assert.equal(cutUnbalancedTail('  if (x) {\n    b();\n  }', ctx, null), '  if (x) {\n    b();\n  }');
  assert.equal(cutUnbalancedTail('g(x', ctx, null), 'g(x');
});
