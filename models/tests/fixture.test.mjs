// The committed tiny fixture through onnxruntime-node and the npm `tokenizers` binding reproduces the PyTorch
// golden data: same prompt ids, same greedy tokens from both graphs, and the int8 graph's first logits close.
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

for (const graph of ['model.onnx', 'model.float.onnx']) {
  test(`${graph} reproduces the PyTorch greedy tokens`, async () => {
    const decoder = await openDecoder(join(fixture, graph));
    for (const prompt of golden.prompts) {
      assert.deepEqual(await decoder.greedy(prompt.ids, golden.greedySteps), prompt.greedy, prompt.text);
    }
  });
}

test('model.onnx first logits stay within the int8 tolerance of PyTorch', async () => {
  const decoder = await openDecoder(join(fixture, 'model.onnx'));
  for (const prompt of golden.prompts) {
    const { logits } = await decoder.step(decoder.emptyCache(), prompt.ids);
    const worst = Math.max(...prompt.firstLogits.map((v, i) => Math.abs(v - logits.data[i])));
    assert.ok(worst <= 0.25, `${prompt.text}: max |logit difference| ${worst}`);
  }
});
