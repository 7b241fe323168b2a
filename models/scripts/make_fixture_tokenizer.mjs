// Trains the tiny fixture's byte-level BPE tokenizer with Hugging Face's `tokenizers` (npm binding) and writes
// a tokenizer.json that both the Python and the TypeScript side load.
// Usage: node models/scripts/make_fixture_tokenizer.mjs OUT.json MERGES FILE...
// The binding trains with the BPE trainer's defaults, so the vocabulary is then cut to the first MERGES merges,
// on top of all 256 byte symbols (every input stays encodable), followed by the FIM special tokens.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tk = createRequire(import.meta.url)('tokenizers');
const SPECIAL_TOKENS = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>', '<|file_sep|>'];

const [out, mergeCount, ...files] = process.argv.slice(2);
const trainer = new tk.Tokenizer(tk.BPE.empty());
trainer.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
trainer.train(files);
const trainedPath = join(mkdtempSync(join(tmpdir(), 'fixture-tok-')), 'trained.json');
trainer.save(trainedPath);
const trained = JSON.parse(readFileSync(trainedPath, 'utf8'));

const vocab = {};
for (const symbol of tk.byteLevelAlphabet().sort()) vocab[symbol] = Object.keys(vocab).length;
const merges = [];
for (const [a, b] of trained.model.merges) {
  if (merges.length >= Number(mergeCount)) break;
  if (!(a in vocab) || !(b in vocab) || (a + b) in vocab) continue;
  merges.push([a, b]);
  vocab[a + b] = Object.keys(vocab).length;
}
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const json = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: SPECIAL_TOKENS.map((content, i) => ({
    id: Object.keys(vocab).length + i, content, single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: true,
  })),
  normalizer: null,
  pre_tokenizer: byteLevel,
  post_processor: null,
  decoder: byteLevel,
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
  },
};
writeFileSync(out, JSON.stringify(json, null, 1) + '\n');

// Round-trip check with the same library the extension uses.
const tokenizer = tk.Tokenizer.fromFile(out);
const sample = 'def f(x):\n\treturn x  # ünïcödé ✓\n' + SPECIAL_TOKENS.join('');
const ids = (await tokenizer.encode(sample, null, { addSpecialTokens: false })).getIds();
if ((await tokenizer.decode(ids, false)) !== sample) throw new Error('tokenizer does not round-trip');
console.log(`${out}: ${tokenizer.getVocabSize(true)} tokens (${merges.length} merges)`);
