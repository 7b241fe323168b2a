/** A worker that chooses its own threads (setting 0) decodes exactly as one on a fixed count. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/worker/engine';
import { physicalCores, threadPlan } from '../../src/worker/session';
import { FIXTURE_DIR } from '../helpers/fixture';

test('threads 0: prefill on the physical cores, decode on a probed count, the same greedy tokens as 1 thread', async () => {
  const control = { isCancelled: () => false, onPartial: () => undefined };
  const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 1000); // a prefill (more than 8 new tokens), then decoding
  const fixed = await Engine.load({ modelDir: FIXTURE_DIR, threads: 1 });
  const chosen = await Engine.load({ modelDir: FIXTURE_DIR, threads: 0 });
  try {
    const plan = threadPlan(0, physicalCores());
    assert.equal(chosen.info.prefillThreads, plan.prefill);
    assert.ok(plan.decodeCandidates.includes(chosen.info.threads), `decode threads ${chosen.info.threads}`);
    assert.deepEqual([fixed.info.threads, fixed.info.prefillThreads], [1, 1]);
    const want = await fixed.generateIds({ ids, maxTokens: 12 }, control);
    const got = await chosen.generateIds({ ids, maxTokens: 12 }, control);
    assert.deepEqual(got.ids, want.ids);
  } finally {
    await fixed.release();
    await chosen.release();
  }
});
