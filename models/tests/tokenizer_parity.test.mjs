// Tokenizer parity: the npm `tokenizers` binding (the extension's tokenizer) gives the ids that Python `tokenizers`
// gave on sample files of every language (models/tests/data/tokenizer_parity.json, written on the GPU machine by
// models/scripts/tokenizer_parity.py), and decodes them back to the same text.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const folder = join(here, '..', 'ultramem-code-s');
const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
const golden = JSON.parse(readFileSync(join(here, 'data', 'tokenizer_parity.json'), 'utf8'));
const tk = createRequire(import.meta.url)('tokenizers');

test('the parity samples were encoded with the shipped tokenizer and cover every corpus language', () => {
  const bytes = readFileSync(join(folder, manifest.tokenizer));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), golden.tokenizer_sha256);
  const langs = new Set(golden.samples.map((s) => s.lang));
  for (const lang of ['typescript', 'javascript', 'python', 'go', 'rust', 'java', 'c', 'cpp', 'csharp', 'shell',
    'json', 'yaml', 'markdown', 'html', 'css']) assert.ok(langs.has(lang), lang);
});

test('npm tokenizers gives Python ids on every sample and round-trips', async () => {
  const tokenizer = tk.Tokenizer.fromFile(join(folder, manifest.tokenizer));
  for (const s of golden.samples) {
    const ids = (await tokenizer.encode(s.text, null, { addSpecialTokens: false })).getIds();
    assert.deepEqual(ids, s.ids, `${s.lang} ${s.package}/${s.path}`);
    assert.equal(await tokenizer.decode(ids, false), s.text, `${s.lang} ${s.package}/${s.path}`);
  }
});
