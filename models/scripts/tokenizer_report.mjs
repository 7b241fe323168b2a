// The tokenizer report: bytes per token of our tokenizer against well-known ones on the held-out split of every
// language, and the speed of the two npm libraries that read tokenizer.json at the extension's context sizes.
//   node models/scripts/tokenizer_report.mjs --heldout data/corpus/shards/heldout [--tokenizer FILE] [--json OUT]
// Reference tokenizers: OpenAI's cl100k_base (GPT-3.5/4, also Copilot's completion models of that generation) and
// o200k_base, from js-tiktoken's bundled ranks. Libraries timed: `tokenizers` (Hugging Face's Rust core through a
// native binding; the extension's choice) and `@huggingface/tokenizers` (pure JavaScript); both must give the same ids.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';

const require = createRequire(import.meta.url);
const native = require('tokenizers');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    heldout: { type: 'string' },
    tokenizer: { type: 'string', default: join(root, 'ultramem-code-s', 'tokenizer.json') },
    'mb-per-lang': { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
if (!args.heldout) throw new Error('--heldout DIR (the held-out shards, <lang>-NNNNN.jsonl.xz) is required');

/** Texts per language from the held-out shards, up to the byte budget per language. */
function heldoutTexts(dir, budget) {
  const byLang = new Map();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl.xz')).sort()) {
    const lang = file.replace(/-\d+\.jsonl\.xz$/, '');
    const texts = byLang.get(lang) ?? [];
    let bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const lines = execFileSync('xz', ['-dc', join(dir, file)], { maxBuffer: 1 << 30 }).toString('utf8').split('\n');
    for (const line of lines) {
      if (!line || bytes >= budget) continue;
      const { text } = JSON.parse(line);
      texts.push(text);
      bytes += Buffer.byteLength(text);
    }
    byLang.set(lang, texts);
  }
  return byLang;
}

const ours = native.Tokenizer.fromFile(args.tokenizer);
const pureJs = new JsTokenizer(JSON.parse(readFileSync(args.tokenizer, 'utf8')), {});
const references = { cl100k_base: new Tiktoken(cl100k), o200k_base: new Tiktoken(o200k) };

async function countOurs(text) {
  return (await ours.encode(text, null, { addSpecialTokens: false })).getIds().length;
}

const byLang = heldoutTexts(args.heldout, Number(args['mb-per-lang']) * 1e6);
const rows = [];
for (const [lang, texts] of byLang) {
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const row = { lang, files: texts.length, bytes, ours: 0 };
  for (const t of texts) row.ours += await countOurs(t);
  for (const [name, enc] of Object.entries(references)) {
    row[name] = texts.reduce((n, t) => n + enc.encode(t, [], []).length, 0);
  }
  rows.push(row);
}

const bpt = (r, k) => (r.bytes / r[k]).toFixed(2);
console.log('| language | files | MB | ours (16k vocab) | cl100k_base (100k) | o200k_base (200k) |');
console.log('|---|---|---|---|---|---|');
const total = { lang: 'all', files: 0, bytes: 0, ours: 0, cl100k_base: 0, o200k_base: 0 };
for (const r of rows) {
  for (const k of Object.keys(total)) if (k !== 'lang') total[k] += r[k];
  console.log(`| ${r.lang} | ${r.files} | ${(r.bytes / 1e6).toFixed(2)} | ${bpt(r, 'ours')} | ${bpt(r, 'cl100k_base')} | ${bpt(r, 'o200k_base')} |`);
}
console.log(`| all | ${total.files} | ${(total.bytes / 1e6).toFixed(2)} | ${bpt(total, 'ours')} | ${bpt(total, 'cl100k_base')} | ${bpt(total, 'o200k_base')} |`);

// Speed at the extension's prompt sizes: a file's text cut to about 1,024 and 2,048 tokens of ours.
const sample = (byLang.get('typescript') ?? []).join('\n');
const speed = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const target of [1024, 2048]) {
  const ids = (await ours.encode(sample, null, { addSpecialTokens: false })).getIds().slice(0, target);
  const text = await ours.decode(ids, false);
  const nativeIds = (await ours.encode(text, null, { addSpecialTokens: false })).getIds();
  const jsIds = pureJs.encode(text, { add_special_tokens: false }).ids;
  if (JSON.stringify(nativeIds) !== JSON.stringify(jsIds)) throw new Error(`the two libraries disagree at ${target} tokens`);
  const time = async (fn) => {
    for (let i = 0; i < 5; i++) await fn();
    const ts = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await fn();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const nativeMs = await time(() => ours.encode(text, null, { addSpecialTokens: false }));
  const jsMs = await time(() => pureJs.encode(text, { add_special_tokens: false }));
  speed.push({ tokens: nativeIds.length, chars: text.length, nativeMs, pureJsMs: jsMs });
}
console.log('\n| prompt tokens | `tokenizers` (native) ms | `@huggingface/tokenizers` (pure JS) ms | ratio |');
console.log('|---|---|---|---|');
for (const s of speed) {
  console.log(`| ${s.tokens} | ${s.nativeMs.toFixed(2)} | ${s.pureJsMs.toFixed(2)} | ${(s.pureJsMs / s.nativeMs).toFixed(1)}x |`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ bytesPerToken: [...rows, total], speed }, null, 1));
