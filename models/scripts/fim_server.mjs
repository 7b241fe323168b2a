// A greedy-decoding server over stdin/stdout JSON lines, for scripts/evaluate.py where Python has no onnxruntime
// (this machine, CI): the same graph in onnxruntime-node, the extension's runtime, with the npm `tokenizers`.
// Usage: node models/scripts/fim_server.mjs MODEL_FOLDER
//   {"op":"encode","text":s} -> {"ids":[...]}
//   {"op":"start","ids":[...]} -> {"token":t}     (a fresh cache; t is the argmax after the last id)
//   {"op":"next","token":t} -> {"token":t}         (continues the cache)
//   both take an optional "allowed":[ids] (token healing): t is then the argmax among those ids
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { argmaxLast, openDecoder } from './ort_session.mjs';

const folder = process.argv[2];
const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
const tokenizer = createRequire(import.meta.url)('tokenizers').Tokenizer.fromFile(join(folder, manifest.tokenizer));
const decoder = await openDecoder(join(folder, manifest.graph), 1, manifest.contextLength);
let cache = null;

async function answer(req) {
  switch (req.op) {
    case 'encode':
      return { ids: (await tokenizer.encode(req.text, null, { addSpecialTokens: false })).getIds() };
    case 'start':
    case 'next': {
      const r = await decoder.step(req.op === 'start' ? decoder.emptyCache() : cache, req.ids ?? [req.token]);
      cache = r.cache;
      return { token: argmaxLast(r.logits, req.allowed) };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim()) process.stdout.write(JSON.stringify(await answer(JSON.parse(line))) + '\n');
}
