// The shipped default model folder (models/ultramem-code-s) is intact and completes known prompts through the
// extension's runtime (onnxruntime-node + the npm `tokenizers` binding).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDecoder } from '../scripts/ort_session.mjs';

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', 'ultramem-code-s');
const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
const tk = createRequire(import.meta.url)('tokenizers');

test('every file the manifest lists has its size and sha256, and the folder is under 160 MB', () => {
  let total = 0;
  for (const [name, meta] of Object.entries(manifest.files)) {
    const data = readFileSync(join(folder, name));
    assert.equal(data.length, meta.bytes, name);
    assert.equal(createHash('sha256').update(data).digest('hex'), meta.sha256, name);
    total += data.length;
  }
  assert.ok(total < 160e6, `${total} bytes`); // issue 11: every platform's VSIX stays under 200 MB
});

test('greedy decoding completes known prompts', async () => {
  const tokenizer = tk.Tokenizer.fromFile(join(folder, manifest.tokenizer));
  const decoder = await openDecoder(join(folder, manifest.graph));
  const known = [
    ['for (let i = 0; i < n; i', '++) {'],
    ['public static void main(String', '[] args)'],
    ['#include <stdio.h>\n#include <stdlib', '.h>'],
    ['import numpy as np\nimport matplotlib.pyplot as', ' plt\n'],
    ['  return (\n    <div className="app">\n      <h1>Hello</h1>\n    </', 'div>'],
    ['package main\n\nimport (\n\t"fmt"\n\t"os', '"\n'],
  ];
  for (const [prompt, expected] of known) {
    const ids = (await tokenizer.encode(prompt, null, { addSpecialTokens: false })).getIds();
    const text = await tokenizer.decode(await decoder.greedy(ids, 8), false);
    assert.ok(text.startsWith(expected), `${JSON.stringify(prompt)} -> ${JSON.stringify(text)}`);
  }
});
