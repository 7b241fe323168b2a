// The committed tiny fixture through onnxruntime-node and the npm `tokenizers` binding reproduces the PyTorch
// golden data: same prompt ids, and the int8 graph's first logits close. Both graphs' greedy tokens are checked
// through the worker's decoding (generateIds, test/worker/worker.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDecoder } from '../scripts/ort_session.mjs';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'tiny-fixture');
const golden = JSON.parse(readFileSync(join(fixture, 'golden.json'), 'utf8'));
const tk = createRequire(import.meta.url)('tokenizers');

test('the tokenizer gives the golden prompt ids', async () => {
  const tokenizer = tk.Tokenizer.fromFile(join(fixture, 'tokenizer.json'));
  for (const prompt of golden.prompts) {
    const ids = (await tokenizer.encode(prompt.text, null, { addSpecialTokens: false })).getIds();
    assert.deepEqual(ids, prompt.ids, prompt.text);
  }
});

// the int8 tolerance stated in models/tests/test_export.py
const INT8_MEAN_TOLERANCE = 0.15;
const INT8_MAX_TOLERANCE = 1.0;

test('model.onnx first logits stay within the int8 tolerance of PyTorch', async () => {
  const decoder = await openDecoder(join(fixture, 'model.onnx'));
  for (const prompt of golden.prompts) {
    const { logits } = await decoder.step(decoder.emptyCache(), prompt.ids);
    const errors = prompt.firstLogits.map((v, i) => Math.abs(v - logits.data[i]));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    assert.ok(mean <= INT8_MEAN_TOLERANCE, `${prompt.text}: mean |logit difference| ${mean}`);
    assert.ok(Math.max(...errors) <= INT8_MAX_TOLERANCE, `${prompt.text}: max |logit difference|`);
  }
});
