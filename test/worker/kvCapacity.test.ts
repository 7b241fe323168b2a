/**
 * The capacity layout's fed capacity (src/worker/session.ts): the buffers are fed as long as the cached tokens need,
 * rounded up, and re-laid out when that changes; the logits must not depend on it. The tiny fixture's float graph
 * (context 512, steps of 32 positions) through the worker's own ModelSession.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadManifest } from '../../src/worker/manifest';
import { fedCapacity, ModelSession } from '../../src/worker/session';
import { FIXTURE_DIR } from '../helpers/fixture';

test('fedCapacity: a step beyond the need, rounded up to a step, kept until it is too small or two steps too large', () => {
  // 2,048 positions: steps of 128
  assert.equal(fedCapacity(1, 0, 2048), 256);
  assert.equal(fedCapacity(127, 0, 2048), 256);
  assert.equal(fedCapacity(500, 0, 2048), 640);
  assert.equal(fedCapacity(512, 640, 2048), 640); // still holds it
  assert.equal(fedCapacity(641, 640, 2048), 896); // grows
  assert.equal(fedCapacity(1990, 1920, 2048), 2048); // never past the context length
  assert.equal(fedCapacity(2048, 2048, 2048), 2048);
  assert.equal(fedCapacity(200, 640, 2048), 640); // 384 fresh: 640 is two steps more, kept
  assert.equal(fedCapacity(100, 640, 2048), 256); // 256 fresh, 640 is three steps more: cut back
  assert.equal(fedCapacity(10, 2048, 2048), 256);
});

test('logits are the same whatever capacity the cache was fed at: growing token by token, a prefill after a past, cut back after a rollback', async () => {
  const { manifest: m, dir } = await loadManifest(FIXTURE_DIR);
  const session = await ModelSession.create({
    graphPath: path.join(dir, m.floatGraph!),
    kv: m.kvCache,
    vocabSize: m.vocabSize,
    threads: { prefill: 1, decodeCandidates: [1] },
    contextLength: m.contextLength,
  });
  try {
    // deterministic ids spread over the vocabulary (the fixture's weights are random; any ids do)
    const ids = Array.from({ length: 420 }, (_, i) => (i * 7919 + 13) % m.vocabSize);
    const fresh = async (n: number): Promise<Float32Array> => {
      session.reset();
      return Float32Array.from(await session.forward(ids.slice(0, n)));
    };
    const close = (a: Float32Array, b: Float32Array, what: string): void => {
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      assert.ok(worst < 1e-4, `${what}: logits differ by ${worst}`);
    };

    // 20 tokens at once (capacity 64), then one at a time up to 420: the capacity grows through 64, 96, ... 512
    session.reset();
    const stepped: Float32Array[] = [];
    stepped[19] = Float32Array.from(await session.forward(ids.slice(0, 20)));
    for (let n = 21; n <= ids.length; n++) stepped[n - 1] = Float32Array.from(await session.forward([ids[n - 1]!]));
    for (const n of [20, 33, 64, 65, 97, 130, 200, 257, 333, 400, 420]) close(stepped[n - 1]!, await fresh(n), `${n} tokens`);

    // a prefill after a past that outgrows the capacity (96 positions fed for 50 tokens, 160 for 110) and a step
    session.reset();
    await session.forward(ids.slice(0, 50));
    close(Float32Array.from(await session.forward(ids.slice(50, 110))), await fresh(110), '60 tokens prefilled after 50');
    session.reset();
    await session.forward(ids.slice(0, 50));
    await session.forward(ids.slice(50, 110));
    close(Float32Array.from(await session.forward([ids[110]!])), await fresh(111), 'a step after that prefill');

    // a rollback to 30 tokens and a different continuation: fed 512 positions before, 96 after (cut back)
    await fresh(420);
    session.truncate(30);
    const other = [5, 6, 7, 8];
    const rolled = Float32Array.from(await session.forward(other));
    session.reset();
    close(rolled, Float32Array.from(await session.forward([...ids.slice(0, 30), ...other])), 'after a rollback to 30 tokens');
  } finally {
    await session.release();
  }
});
