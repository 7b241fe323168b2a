// The shipped default model folder (models/ultramem-code-s) is intact (its greedy completions of known prompts
// through the worker: test/worker/shippedModel.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', 'ultramem-code-s');
const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));

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
