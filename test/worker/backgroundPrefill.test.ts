/**
 * Background prefill (protocol `prefill`) in the real worker with onnxruntime and the tiny fixture model: the request
 * after it reuses its cache, any request cancels it at a chunk boundary and is answered, and it never cancels one.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { EngineHost } from '../../src/client/engineHost';
import type { WorkerClient } from '../../src/client/workerClient';
import { CompletionPipeline, type PipelineOptions } from '../../src/completion/pipeline';
import { Engine } from '../../src/worker/engine';
import type { CompleteParams } from '../../src/shared/protocol';
import { requestAt } from '../helpers/cursor';
import { fimPrompt, FIXTURE_DIR, requireFixture, useFixtureWorker, WORKER_PATH } from '../helpers/fixture';


/** About 300 tokens of code before the cursor (the fixture's context is 512). */
const LONG_PREFIX = Array.from({ length: 8 }, (_, i) => `def step_${i}(values, scale=${i}):\n    return [v * scale + ${i} for v in values]\n`).join('\n') + '\ndef total(values):\n    ';
const SUFFIX = '\n\nprint(total([1, 2, 3]))\n';
const params = (prefix: string, maxTokens = 16): CompleteParams => ({ prompt: fimPrompt(prefix, SUFFIX, true), stop: { maxTokens, maxLines: 4 } });
/** Another file's prompt, to leave in the cache as a switch of files does. */
const OTHER = params('const users = await db.query("select * from users");\nfor (const user of users) {\n  ');

describe('background prefill in the worker (tiny fixture)', () => {
  const worker = useFixtureWorker();
  let w: WorkerClient;
  beforeEach(() => {
    w = worker();
  });

  test('a request after a background prefill reuses its cache: the first keystroke prefills only its new tokens, and decodes what a cold cache gives', async () => {
    const at = params(LONG_PREFIX);
    const typed = params(`${LONG_PREFIX}r`);
    // Without: the cache holds another file's prompt when the keystroke comes.
    await w.request('complete', OTHER);
    const without = await w.request('complete', typed);
    // With: the prompt at the cursor was prefilled after the switch.
    await w.request('complete', OTHER);
    const pre = await w.request('prefill', at);
    assert.equal(pre.cancelled, false);
    assert.ok(pre.promptTokens > 200 && pre.promptTokens < 450, `prompt of ${pre.promptTokens} tokens`);
    assert.equal(pre.reusedTokens + pre.prefilledTokens, pre.promptTokens);
    assert.ok(pre.chunks >= 1);
    const stats = await w.request('stats', {});
    assert.ok(stats.cachedTokens >= pre.promptTokens, 'the cache holds the prompt');
    const withPrefill = await w.request('complete', typed);
    const newWithout = without.timings.promptTokens - without.timings.reusedTokens;
    const newWith = withPrefill.timings.promptTokens - withPrefill.timings.reusedTokens;
    assert.ok(withPrefill.timings.reusedTokens >= pre.promptTokens - 24, `reused ${withPrefill.timings.reusedTokens} of the ${pre.promptTokens} prefilled`);
    // The fixture's prompts are PSM: a keystroke changes the prefix's end, and the suffix after it runs again.
    assert.ok(newWith <= 24, `the keystroke prefilled ${newWith} tokens`);
    assert.ok(newWithout >= 10 * newWith && newWithout > 200, `without it, ${newWithout}`);
    // The cache the prefill left is exactly what a fresh prefill computes (float graph).
    await w.request('resetCache', {});
    const cold = await w.request('complete', typed);
    assert.equal(cold.timings.reusedTokens, 0);
    assert.equal(withPrefill.text, cold.text);
    assert.equal(withPrefill.stopReason, cold.stopReason);
    // The same prompt again runs two tokens (for its logits), nothing of the prefilled rest.
    await w.request('prefill', at);
    const same = await w.request('complete', at);
    assert.equal(same.timings.reusedTokens, same.timings.promptTokens - 2); // two run again for the logits (Engine.prefill)
  });

  test('a prefill of what the cache holds runs nothing', async () => {
    const at = params(LONG_PREFIX);
    await w.request('prefill', at);
    const again = await w.request('prefill', at);
    assert.equal(again.prefilledTokens, 0);
    assert.equal(again.chunks, 0);
    assert.equal(again.reusedTokens, again.promptTokens);
  });

  test('a completion that arrives during a background prefill is answered, and the prefill stops at the next chunk', async () => {
    await w.request('complete', OTHER);
    const before = await w.request('stats', {});
    const order: string[] = [];
    // One token a chunk: the prefill would take hundreds of steps; the completion is sent right behind it.
    const prefill = w.request('prefill', { ...params(LONG_PREFIX), chunkTokens: 1 }).then((r) => (order.push('prefill'), r));
    const complete = w.request('complete', params(`${LONG_PREFIX}r`)).then((r) => (order.push('complete'), r));
    const [pre, done] = await Promise.all([prefill, complete]);
    assert.equal(pre.cancelled, true);
    assert.ok(pre.prefilledTokens < pre.promptTokens - pre.reusedTokens, `prefilled ${pre.prefilledTokens} of ${pre.promptTokens - pre.reusedTokens}`);
    assert.notEqual(done.stopReason, 'cancelled');
    assert.ok(done.timings.generatedTokens >= 1);
    assert.deepEqual(order, ['prefill', 'complete'], 'the prefill gave way before the completion ran');
    const after = await w.request('stats', {});
    assert.equal(after.backgroundPrefillsCancelled, before.backgroundPrefillsCancelled + 1);
    assert.equal(after.requests, before.requests + 1, 'a prefill is not counted as a completion');
  });

  test('a cancel by id stops a prefill; a newer prefill supersedes an older one', async () => {
    await w.request('complete', OTHER);
    const ac = new AbortController();
    const running = w.request('prefill', { ...params(LONG_PREFIX), chunkTokens: 1 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    const r = await running;
    assert.equal(r.cancelled, true);
    await w.request('complete', OTHER);
    const older = w.request('prefill', { ...params(LONG_PREFIX), chunkTokens: 1 });
    const newer = w.request('prefill', params(`${LONG_PREFIX}return`));
    const [a, b] = await Promise.all([older, newer]);
    assert.equal(a.cancelled, true);
    assert.equal(b.cancelled, false);
    assert.equal(b.reusedTokens + b.prefilledTokens, b.promptTokens);
  });

  test('a prefill never cancels a completion: it waits behind it', async () => {
    const order: string[] = [];
    const complete = w.request('complete', params('let counter = 0;\nwhile (true) {\n  ', 120)).then((r) => (order.push('complete'), r));
    const prefill = w.request('prefill', params(LONG_PREFIX)).then((r) => (order.push('prefill'), r));
    const [c, p] = await Promise.all([complete, prefill]);
    assert.notEqual(c.stopReason, 'cancelled');
    assert.equal(p.cancelled, false);
    assert.deepEqual(order, ['complete', 'prefill']);
  });

  test('in process: the engine checks for a cancel before every chunk, and the chunks that ran stay in the cache', async () => {
    const engine = await Engine.load({ modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
    try {
      let checks = 0;
      const r = await engine.prefillPrompt({ ...params(LONG_PREFIX), chunkTokens: 16 }, { isCancelled: () => ++checks > 4 });
      assert.equal(r.cancelled, true);
      assert.equal(r.chunks, 3, 'three chunks ran before the cancel was seen');
      assert.equal(r.prefilledTokens, 48);
      const next = await engine.complete(params(LONG_PREFIX), { isCancelled: () => false, onPartial: () => undefined });
      assert.equal(next.timings.reusedTokens, r.reusedTokens + 48);
      // Without chunkTokens the chunks are sized by time; all of the prompt runs.
      engine.resetCache();
      const whole = await engine.prefillPrompt(params(LONG_PREFIX), { isCancelled: () => false });
      assert.equal(whole.cancelled, false);
      assert.equal(whole.prefilledTokens, whole.promptTokens);
      assert.equal(engine.stats().cachedTokens, whole.promptTokens);
    } finally {
      await engine.release();
    }
  });
});

describe('background prefill through the pipeline and the engine host (tiny fixture)', () => {
  const OPTIONS: PipelineOptions = { maxPromptTokens: 400, maxTokens: 24, maxLines: 4, neighbourSnippets: true, contextLength: 512 };
  let host: EngineHost;
  before(async () => {
    requireFixture();
    host = new EngineHost({ workerPath: WORKER_PATH, threads: () => 1 });
    await host.load(FIXTURE_DIR);
  });
  after(async () => {
    await host.stop();
  });

  test('the first keystroke after switching files prefills only its new tokens when the pipeline prefilled the cursor', async () => {
    const docA = `${LONG_PREFIX}║${SUFFIX}`;
    const docB = 'const users = await db.query("select * from users");\nfor (const user of users) {\n  ║\n}\n';
    const keystroke = async (pipeline: CompletionPipeline, prefill: boolean): Promise<number> => {
      await pipeline.complete(requestAt(docB, { trigger: 'manual' })); // typing in the other file
      await pipeline.idle();
      if (prefill) {
        const answer = await pipeline.prefill(requestAt(docA, { languageId: 'python', path: 'a.py' }));
        assert.equal(answer.sent, true);
      }
      const before = pipeline.stats.prefilledTokens;
      await pipeline.complete(requestAt(docA.replace('║', 'r║'), { languageId: 'python', path: 'a.py' }), { noDebounce: true });
      await pipeline.idle();
      return pipeline.stats.prefilledTokens - before;
    };
    const without = await keystroke(new CompletionPipeline(host, () => OPTIONS), false);
    const withPrefill = await keystroke(new CompletionPipeline(host, () => OPTIONS), true);
    // PSM prompts (the fixture's): the suffix after the changed prefix runs again, about 20 tokens.
    assert.ok(withPrefill <= 30, `with: ${withPrefill} tokens prefilled at the keystroke`);
    assert.ok(without >= 5 * withPrefill && without > 150, `without: ${without}`);
    const stats = await host.stats();
    assert.ok(stats && stats.backgroundPrefills >= 1 && stats.backgroundPrefilledTokens > 150, JSON.stringify(stats));
  });
});
