/** The real worker with onnxruntime and the tiny fixture model: decoding, KV cache, cancellation, streaming. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerClient } from '../../src/client/workerClient';
import { Engine } from '../../src/worker/engine';
import type { CompleteParams, PartialMessage } from '../../src/shared/protocol';
import { fimPrompt, FIXTURE_DIR, readGolden, startWorker } from '../helpers/fixture';


/** No stop rule but maxTokens can fire on random-weight output except end tokens. */
const LONG = { maxTokens: 200, maxLines: 1000 } as const;

/**
 * Exactness tests run the float graph. The int8 graph quantizes activations dynamically (one scale per
 * call over all T new tokens), so prefilling in chunks (KV reuse) and prefilling at once differ slightly
 * there by construction; see the test at the end.
 */
describe('worker on the tiny fixture', () => {
  let w: WorkerClient;
  before(async () => {
    w = startWorker();
    await w.ready;
    const info = await w.request('load', { modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
    assert.equal(info.name, 'tiny-fixture');
  });
  after(async () => {
    await w.stop();
  });

  test('model info reflects the manifest', async () => {
    const info = await w.request('load', { modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
    assert.equal(info.fimTemplate, 'psm');
    assert.equal(info.contextLength, 512);
    assert.equal(info.threads, 1);
    assert.ok(info.specialTokens.fimMiddle.id > 0);
  });

  test('tokenizer ids match the golden prompt ids', async (t) => {
    const golden = readGolden();
    if (!golden || golden.cases.length === 0) return t.skip('fixture has no golden.json yet');
    for (const c of golden.cases) {
      if (!c.prompt || c.ids.length === 0) continue;
      const { ids } = await w.request('tokenize', { text: c.prompt });
      assert.deepEqual(ids, c.ids, `prompt ${JSON.stringify(c.prompt)}`);
    }
  });

  test('greedy decoding of the float graph equals the PyTorch golden continuation', async (t) => {
    const golden = readGolden();
    if (!golden || golden.cases.length === 0) return t.skip('fixture has no golden.json yet');
    const fw = startWorker();
    try {
      await fw.request('load', { modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
      for (const c of golden.cases) {
        if (c.ids.length === 0 || c.continuation.length === 0) continue;
        await fw.request('resetCache', {});
        const out = await fw.request('generateIds', { ids: c.ids, maxTokens: c.continuation.length });
        assert.deepEqual(out.ids, c.continuation, `prompt ${JSON.stringify(c.prompt)}`);
      }
    } finally {
      await fw.stop();
    }
  });

  test('after each golden prompt: float logits within 1e-4 of PyTorch; the int8 graph gives the golden greedy tokens', async (t) => {
    const golden = readGolden();
    if (!golden || golden.cases.every((c) => c.firstLogits.length === 0)) return t.skip('fixture has no golden logits');
    const q = startWorker();
    try {
      await q.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
      for (const c of golden.cases) {
        if (c.firstLogits.length === 0) continue;
        await w.request('resetCache', {});
        const f = await w.request('generateIds', { ids: c.ids, maxTokens: 1, returnFirstLogits: true });
        const floatErr = f.firstLogits!.map((v, i) => Math.abs(v - c.firstLogits[i]!));
        assert.ok(Math.max(...floatErr) <= 1e-4, `float max error ${Math.max(...floatErr)}`);
        await q.request('resetCache', {});
        // The criterion models/tests/test_export.py states for the committed fixture: the same greedy tokens.
        const g = await q.request('generateIds', { ids: c.ids, maxTokens: c.continuation.length, returnFirstLogits: true });
        const intErr = g.firstLogits!.map((v, i) => Math.abs(v - c.firstLogits[i]!));
        const mean = intErr.reduce((a, b) => a + b, 0) / intErr.length;
        t.diagnostic(`int8 logit error after ${JSON.stringify(c.prompt.slice(0, 20))}: mean ${mean.toFixed(4)}, max ${Math.max(...intErr).toFixed(4)}`);
        assert.deepEqual(g.ids, c.continuation, `int8 greedy after ${JSON.stringify(c.prompt)}`);
      }
    } finally {
      await q.stop();
    }
  });

  test('KV-cache reuse gives exactly the output of a fresh prefill', async () => {
    const a = 'def area(width, height):\n    return width * height\n\ndef perimeter(width, height):\n    return 2 * (width + ';
    const b = a + 'height)\n\ndef volume(w, h, d):\n    return w';
    await w.request('resetCache', {});
    const first = await w.request('generateIds', { ids: (await w.request('tokenize', { text: a })).ids, maxTokens: 20 });
    assert.equal(first.reusedTokens, 0);
    const bIds = (await w.request('tokenize', { text: b })).ids;
    const warm = await w.request('generateIds', { ids: bIds, maxTokens: 20 });
    assert.ok(warm.reusedTokens > 10, `reused ${warm.reusedTokens}`);
    await w.request('resetCache', {});
    const cold = await w.request('generateIds', { ids: bIds, maxTokens: 20 });
    assert.equal(cold.reusedTokens, 0);
    assert.deepEqual(warm.ids, cold.ids);

    // Rollback: an edit earlier in the prompt (shorter common prefix) after a longer cached sequence.
    const edited = bIds.slice(0, 8).concat(bIds.slice(9));
    const rolled = await w.request('generateIds', { ids: edited, maxTokens: 12 });
    assert.equal(rolled.reusedTokens, 8);
    await w.request('resetCache', {});
    const fresh = await w.request('generateIds', { ids: edited, maxTokens: 12 });
    assert.deepEqual(rolled.ids, fresh.ids);
  });

  test('a prompt reuses the cache only where prompts ran, not decode steps, and runs at least two tokens', async () => {
    // A forward of one row rounds differently from a prompt's prefill, and at a near tie the memory layers' top-m takes
    // another slot, so the editor (decoding after a cached prefix) and the CLI (one prefill) could part (Engine.prefill).
    const ids = (await w.request('tokenize', { text: 'def area(width, height):\n    return width * height\n' })).ids;
    await w.request('resetCache', {});
    const first = await w.request('generateIds', { ids, maxTokens: 6 });
    assert.ok(first.ids.length >= 3, `decoded ${first.ids.length}`);
    // the prompt again with three of its decoded tokens: those ran alone, so they run again with the prompt's tail
    const longer = await w.request('generateIds', { ids: [...ids, ...first.ids.slice(0, 3)], maxTokens: 4 });
    assert.equal(longer.reusedTokens, ids.length);
    // the same prompt once more: all of it was prefilled, and the last two tokens run again for the logits
    const same = await w.request('generateIds', { ids, maxTokens: 4 });
    assert.equal(same.reusedTokens, ids.length - 2);
    await w.request('resetCache', {});
    const cold = await w.request('generateIds', { ids: [...ids, ...first.ids.slice(0, 3)], maxTokens: 4 });
    assert.deepEqual(longer.ids, cold.ids);
  });

  test('complete with KV reuse equals complete from an empty cache (FIM, token healing)', async () => {
    const params = (prefix: string): CompleteParams => ({ prompt: fimPrompt(prefix, '\n\nprint(total)\n', true), stop: { maxTokens: 24, maxLines: 4 } });
    await w.request('complete', params('items = [1, 2, 3]\ntotal = 0\nfor item in it'));
    const warm = await w.request('complete', params('items = [1, 2, 3]\ntotal = 0\nfor item in ite'));
    assert.ok(warm.timings.reusedTokens > 5);
    await w.request('resetCache', {});
    const cold = await w.request('complete', params('items = [1, 2, 3]\ntotal = 0\nfor item in ite'));
    assert.equal(cold.timings.reusedTokens, 0);
    assert.equal(warm.text, cold.text);
    assert.equal(warm.stopReason, cold.stopReason);
  });

  test('token healing backs off the last prefix token and re-creates it', async () => {
    const r = await w.request('complete', { prompt: fimPrompt('import numpy as np\nx = np.zer', '\n', true), stop: { maxTokens: 8, maxLines: 1 } });
    assert.ok(r.healedText.length > 0, 'a token was healed');
    assert.ok('import numpy as np\nx = np.zer'.endsWith(r.healedText));
    const plain = await w.request('complete', { prompt: fimPrompt('import numpy as np\nx = np.zer', '\n', false), stop: { maxTokens: 8, maxLines: 1 } });
    assert.equal(plain.healedText, '');
  });

  test('token healing takes back the whitespace tokens that code going on after the cursor would split otherwise', async () => {
    const heal = async (prefix: string): Promise<string> =>
      (await w.request('complete', { prompt: fimPrompt(prefix, '\n', true), stop: { maxTokens: 8, maxLines: 1 } })).healedText;
    // the fixture's vocabulary ends 20 spaces as 16 + 4, where `x` after them makes 8 + 11 + ` x`: both go back
    assert.equal(await heal(`def f(values):\n    total = 0\n${' '.repeat(20)}`), ' '.repeat(20));
    // a blank line with trailing spaces keeps its tokens when code goes on after it: only the last newline goes back
    assert.equal(await heal('def f(values):\n    total = 0\n    \n'), '\n');
    const word = await heal('def f(values):\n    total = 0\n    tot');
    assert.ok(word.length > 0 && !word.includes('\n'), `only the word's last token: ${JSON.stringify(word)}`);
  });

  test('partial results arrive in order and each extends the previous one', async () => {
    const partials: PartialMessage[] = [];
    const r = await w.request('complete', { prompt: fimPrompt('class Stack:\n    def push(self, x):\n        ', '\n'), stop: LONG }, { onPartial: (p) => partials.push(p) });
    assert.ok(partials.length > 0, 'got partials');
    partials.forEach((p, i) => assert.equal(p.seq, i));
    for (let i = 1; i < partials.length; i++) {
      assert.ok(partials[i]!.text.startsWith(partials[i - 1]!.text), `partial ${i} extends ${i - 1}`);
      assert.ok(partials[i]!.tokens > partials[i - 1]!.tokens);
    }
    assert.ok(r.text.startsWith(partials[partials.length - 1]!.text));
  });

  test('cancel stops a long decoding within a few tokens', async () => {
    const ac = new AbortController();
    let tokensAtCancel = -1;
    const r = await w.request(
      'complete',
      { prompt: fimPrompt('// a long loop\nfor (let i = 0; i < n; i++) {\n', '\n}\n'), stop: { ...LONG, maxTokens: 400 } },
      {
        signal: ac.signal,
        onPartial: (p) => {
          if (tokensAtCancel < 0 && p.tokens >= 3) {
            tokensAtCancel = p.tokens;
            ac.abort();
          }
        },
      },
    );
    if (tokensAtCancel < 0) {
      // The model stopped by itself before 3 tokens; nothing to cancel.
      assert.notEqual(r.stopReason, 'cancelled');
      return;
    }
    assert.equal(r.stopReason, 'cancelled');
    // The engine checks for a cancel before every step, but the message crosses the IPC channel while decoding
    // goes on, and the fixture decodes a token in about a millisecond: on a loaded 2-core machine a few more tokens
    // pass (6 after 3 in one CI run). What is guarded here is that a 400-token decode stops early.
    assert.ok(r.timings.generatedTokens <= tokensAtCancel + 20, `decoded ${r.timings.generatedTokens} after cancel at ${tokensAtCancel}`);
  });

  test('the engine checks for a cancel before every decode step (in process, no IPC delay)', async () => {
    const engine = await Engine.load({ modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
    try {
      let tokensAtCancel = -1;
      const r = await engine.complete(
        { prompt: fimPrompt('// a long loop\nfor (let i = 0; i < n; i++) {\n', '\n}\n'), stop: { ...LONG, maxTokens: 400 } },
        {
          isCancelled: () => tokensAtCancel >= 0,
          onPartial: (_text, tokens) => {
            if (tokensAtCancel < 0 && tokens >= 3) tokensAtCancel = tokens;
          },
        },
      );
      if (tokensAtCancel < 0) {
        assert.notEqual(r.stopReason, 'cancelled'); // the model stopped by itself before 3 tokens
        return;
      }
      assert.equal(r.stopReason, 'cancelled');
      assert.equal(r.timings.generatedTokens, tokensAtCancel, 'no token is decoded after the cancel is seen');
    } finally {
      await engine.release();
    }
  });

  test('a newer completion request supersedes the running one', async () => {
    const first = w.request('complete', { prompt: fimPrompt('let a = ', ';\n'), stop: { ...LONG, maxTokens: 400 } });
    const second = w.request('complete', { prompt: fimPrompt('let b = ', ';\n'), stop: { maxTokens: 5, maxLines: 1 } });
    const [r1, r2] = await Promise.all([first, second]);
    assert.equal(r1.stopReason, 'cancelled');
    assert.notEqual(r2.stopReason, 'cancelled');
    // The second request crosses IPC while the first decodes (about 1 ms a token here): on a loaded machine a few
    // steps run before it lands (6-7 seen). Without supersession the first would decode its 400.
    assert.ok(r1.timings.generatedTokens <= 24, `first decoded ${r1.timings.generatedTokens}`);
  });

  test('the shipped int8 graph loads, decodes and reuses the cache', async () => {
    const q = startWorker();
    try {
      const info = await q.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
      assert.equal(info.graph, 'model.onnx');
      const p = (prefix: string): CompleteParams => ({ prompt: fimPrompt(prefix, '\n', true), stop: { maxTokens: 16, maxLines: 2 } });
      const a = await q.request('complete', p('const names = users.map((u) => u.na'));
      const b = await q.request('complete', p('const names = users.map((u) => u.nam'));
      assert.ok(a.timings.generatedTokens >= 1);
      assert.ok(b.timings.reusedTokens > 5, `reused ${b.timings.reusedTokens}`);
    } finally {
      await q.stop();
    }
  });

  test('shutdown cancels a running completion and the process exits at once', async () => {
    const s = startWorker();
    await s.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
    const running = s.request('complete', { prompt: fimPrompt('let z = ', '\n'), stop: { ...LONG, maxTokens: 400 } });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await s.stop(5000);
    assert.ok(Date.now() - t0 < 1500, `stopped in ${Date.now() - t0} ms`);
    assert.equal(s.alive, false);
    const r = await running.catch(() => null);
    if (r) assert.ok(r.stopReason === 'cancelled' || r.timings.generatedTokens < 400);
  });

  test('stats report cache and memory', async () => {
    const s = await w.request('stats', {});
    assert.equal(s.model, 'tiny-fixture');
    assert.ok(s.rssBytes > 0);
    assert.ok(s.cachedTokens <= 512);
    assert.ok(s.requests > 0);
  });
});
