import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveDebouncer } from '../../src/completion/debounce';

test('no wait for the first keystroke after a pause', () => {
  const d = new AdaptiveDebouncer();
  assert.equal(d.delayFor(10_000, 'let x', ''), 0);
});

test('the wait follows typing speed and is shorter where a completion is likely wanted', () => {
  const fast = new AdaptiveDebouncer();
  const slow = new AdaptiveDebouncer();
  let t = 0;
  for (let i = 0; i < 10; i++) fast.delayFor((t += 60), 'abc', 'x');
  t = 0;
  for (let i = 0; i < 10; i++) slow.delayFor((t += 200), 'abc', 'x');
  const fastMid = fast.delayFor(660, 'abc', 'x');
  const slowMid = slow.delayFor(2200, 'abc', 'x');
  assert.ok(fastMid < slowMid, `${fastMid} < ${slowMid}`);
  const d = new AdaptiveDebouncer();
  t = 0;
  for (let i = 0; i < 10; i++) d.delayFor((t += 100), 'abc', '');
  assert.ok(d.delayFor((t += 100), 'foo(', '') < d.delayFor((t += 100), 'foo', 'bar'));
  assert.ok(slow.delayFor(2400, 'abc', 'x') <= 150, 'capped');
});
