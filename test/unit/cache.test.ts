import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache } from '../../src/completion/cache';

test('exact hits and typed-through hits', () => {
  const c = new CompletionCache();
  c.put('ts', 'let x = ', ';', { text: 'compute(a)', stopReason: 'endToken' });
  assert.deepEqual(c.get('ts', 'let x = ', ';'), { raw: { text: 'compute(a)', stopReason: 'endToken' }, typed: '' });
  assert.equal(c.get('ts', 'let x = comp', ';')?.typed, 'comp');
  assert.equal(c.get('ts', 'let x = cox', ';'), null, 'typed text diverges');
  assert.equal(c.get('ts', 'let x = compute(a)', ';'), null, 'the whole suggestion typed: nothing left');
  assert.equal(c.get('py', 'let x = ', ';'), null, 'other language');
  assert.equal(c.get('ts', 'let x = ', ');'), null, 'other suffix');
});

test('no typed-through hit beyond what was shown for the entry (a discarded completion: nothing)', () => {
  const c = new CompletionCache();
  c.put('py', 'def f():', '', { text: '\n        x = g(a,', stopReason: 'maxTokens' }, '');
  assert.equal(c.get('py', 'def f():\n    ', ''), null, 'the raw text starts with the typed characters, but nothing was shown');
  assert.equal(c.get('py', 'def f():', '')?.typed, '', 'the exact entry is still there');
  c.put('ts', 'let x = ', ';', { text: 'compute(a)  ', stopReason: 'endToken' }, 'compute(a)');
  assert.equal(c.get('ts', 'let x = comp', ';')?.typed, 'comp');
  assert.equal(c.get('ts', 'let x = compute(a) ', ';'), null, 'past the shown text');
});

test('the cache is bounded (least recently used goes first)', () => {
  const c = new CompletionCache(2);
  c.put('ts', 'a', '', { text: '1', stopReason: 'endToken' });
  c.put('ts', 'b', '', { text: '2', stopReason: 'endToken' });
  c.get('ts', 'a', '');
  c.put('ts', 'c', '', { text: '3', stopReason: 'endToken' });
  assert.equal(c.size, 2);
  assert.ok(c.get('ts', 'a', ''));
  assert.equal(c.get('ts', 'b', ''), null);
});
