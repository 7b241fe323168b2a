import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefilter } from '../../src/completion/prefilter';
import { requestAt } from '../helpers/cursor';

test('prefilter lets ordinary positions through and names its reasons', () => {
  assert.equal(prefilter(requestAt('let x = ║\n')), null);
  assert.equal(prefilter(requestAt('foo(║)\n')), null, 'closers after the cursor are fine');
  assert.equal(prefilter(requestAt('let va║lue\n')), 'midWord');
  assert.equal(prefilter(requestAt('let ║ = 3\n')), 'textAfterCursor');
  assert.equal(prefilter(requestAt('let va║lue\n', { trigger: 'manual' })), null, 'manual triggers skip the position rules');
  assert.equal(prefilter(requestAt('\u0000\u0001║')), 'binary');
  assert.equal(prefilter(requestAt('x║', { documentLength: 9_000_000 })), 'hugeFile');
  assert.equal(prefilter(requestAt(`${'y'.repeat(2500)}║`)), 'hugeLine');
});
