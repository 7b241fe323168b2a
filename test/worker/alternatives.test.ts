/**
 * Alternatives (protocol `alternatives`) in the real worker with onnxruntime and the tiny fixture model: after a
 * completion they reuse its prompt from the KV cache, each starts from another first token than the greedy one, they
 * leave the cache so that the completion decodes as before, and any request cancels them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompleteParams } from '../../src/shared/protocol';
import { fimPrompt, useFixtureWorker } from '../helpers/fixture';


const PREFIX = 'def scale(values, factor):\n    result = []\n    for v in values:\n        ';
const SUFFIX = '\n    return result\n';
const params = (heal = false, maxTokens = 12): CompleteParams => ({ prompt: fimPrompt(PREFIX, SUFFIX, heal), stop: { maxTokens, maxLines: 1 } });

describe('alternatives in the worker (tiny fixture)', () => {
  const worker = useFixtureWorker();

  test('after a completion: the prompt comes from the cache, the alternatives differ from it and from each other, and the completion decodes the same after them', async () => {
    const w = worker();
    const first = await w.request('complete', params());
    const alt = await w.request('alternatives', { ...params(), count: 2 });
    assert.equal(alt.cancelled, false);
    assert.equal(alt.prefilledTokens, 2, 'only the prompt\'s last two tokens run again (for the logits after it; Engine.prefill)');
    assert.equal(alt.alternatives.length, 2);
    assert.ok(alt.generatedTokens >= 2);
    const texts = alt.alternatives.map((a) => a.text);
    // Random weights rarely stop at once; each alternative's first token differs from the greedy one's
    assert.ok(texts.every((t) => t !== first.text), `${JSON.stringify(texts)} vs ${JSON.stringify(first.text)}`);
    assert.notEqual(texts[0], texts[1]);
    const again = await w.request('complete', params());
    assert.equal(again.text, first.text, 'the cache was rolled back to the prompt');
    // Deterministic: the same prompt gives the same alternatives, in the same order (2nd, then 3rd most likely first token)
    const alt2 = await w.request('alternatives', { ...params(), count: 2 });
    assert.deepEqual(alt2.alternatives, alt.alternatives);
    const one = await w.request('alternatives', { ...params(), count: 1 });
    assert.deepEqual(one.alternatives, alt.alternatives.slice(0, 1));
  });

  test('with token healing the alternatives branch where text begins, after the healed indentation', async () => {
    // PREFIX ends with indentation, which healing takes back: the greedy token re-creates 7 of its 8 spaces, and the
    // alternatives branch after it, among tokens that start with the last space, not among ways to split the spaces
    const w = worker();
    const healed = await w.request('complete', params(true));
    assert.equal(healed.healedText, '        ');
    const alt = await w.request('alternatives', { ...params(true), count: 2 });
    assert.equal(alt.cancelled, false);
    assert.equal(alt.alternatives.length, 2);
    for (const a of alt.alternatives) assert.notEqual(a.text, healed.text);
    assert.notEqual(alt.alternatives[0]!.text, alt.alternatives[1]!.text);
  });

  test('any request cancels them before their next decode step, and is answered', async () => {
    const w = worker();
    await w.request('complete', params());
    const long = { ...params(false, 200), stop: { maxTokens: 200, maxLines: 50 } };
    const order: string[] = [];
    const alternatives = w.request('alternatives', { ...long, count: 4 }).then((r) => (order.push('alternatives'), r));
    const complete = w.request('complete', params()).then((r) => (order.push('complete'), r));
    const [alt, done] = await Promise.all([alternatives, complete]);
    assert.equal(alt.cancelled, true);
    assert.ok(alt.alternatives.length < 4);
    assert.notEqual(done.stopReason, 'cancelled');
    assert.deepEqual(order, ['alternatives', 'complete']);
  });

  test('for a prompt the cache lacks (alternatives of a cached suggestion) they prefill it first, as a background prefill does', async () => {
    const w = worker();
    await w.request('complete', { prompt: fimPrompt('const users = await db.query("select * from users");\nfor (const user of users) {\n  ', '\n}\n'), stop: { maxTokens: 8, maxLines: 1 } });
    const alt = await w.request('alternatives', { ...params(), count: 2 });
    assert.equal(alt.cancelled, false);
    assert.ok(alt.prefilledTokens > 10, `prefilled ${alt.prefilledTokens}`);
    assert.equal(alt.alternatives.length, 2);
  });

  test('a bad count is refused', async () => {
    const w = worker();
    await assert.rejects(w.request('alternatives', { ...params(), count: 0 }), /count/);
    await assert.rejects(w.request('alternatives', { ...params(), count: 9 }), /count/);
  });
});
