/**
 * A prefix over its token budget loses its head in steps (prompt.ts keepEnd), so its first token stays put while the
 * user types and the KV cache keeps the prompt up to the cursor. Cut token by token, every keystroke moved the first
 * token of the prefix, and the whole prefix ran again.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HEAD_CUT_STEP, keepEnd } from '../../src/worker/prompt';
import type { CompleteParams } from '../../src/shared/protocol';
import { useFixtureWorker } from '../helpers/fixture';

describe('keepEnd', () => {
  const ids = Array.from({ length: 300 }, (_, i) => i);
  test('keeps a part under its budget whole', () => {
    assert.deepEqual(keepEnd(ids.slice(0, 50), 50), ids.slice(0, 50));
  });
  test('cuts the head in steps: at most maxTokens, at least maxTokens - step + 1, and the same head for a step of growth', () => {
    for (let n = 101; n <= 300; n++) {
      const kept = keepEnd(ids.slice(0, n), 100);
      assert.ok(kept.length <= 100 && kept.length > 100 - HEAD_CUT_STEP, `${kept.length} of ${n}`);
      assert.equal(kept[kept.length - 1], n - 1);
      assert.equal(kept[0]! % HEAD_CUT_STEP, 0, 'the head sits on a step');
    }
  });
});

const CODE = Array.from({ length: 12 }, (_, i) => `def step_${i}(values, scale=${i}):\n    return [v * scale + ${i} for v in values]\n`).join('\n');
const params = (prefix: string): CompleteParams => ({
  prompt: [
    { kind: 'special', token: 'fimPrefix' },
    { kind: 'special', token: 'fimSuffix' },
    { kind: 'text', text: '\n' },
    { kind: 'special', token: 'fimMiddle' },
    { kind: 'text', text: prefix, maxTokens: 120, keep: 'end', heal: true },
  ],
  stop: { maxTokens: 4, maxLines: 1 },
});

describe('typing at the end of a prefix over its budget (tiny fixture)', () => {
  const worker = useFixtureWorker();

  test('most keystrokes run only their new tokens', async () => {
    const w = worker();
    const typed = 'def total(values):\n    return sum(step_3(values))';
    let prefix = `${CODE}\n`;
    await w.request('complete', params(prefix));
    const fresh: number[] = [];
    for (const ch of typed) {
      prefix += ch;
      const r = await w.request('complete', params(prefix));
      fresh.push(r.timings.promptTokens - r.timings.reusedTokens);
    }
    const cheap = fresh.filter((n) => n <= 8).length;
    assert.ok(cheap >= fresh.length * 0.8, `tokens run per keystroke: ${fresh.join(' ')}`);
  });
});
