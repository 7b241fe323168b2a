// Runs forward passes of an exported graph through onnxruntime-node, the runtime the extension uses, for parity
// checks, held-out loss and benchmarks; it decodes nothing (decoding is the worker's, src/worker/engine.ts).
// Usage: node models/scripts/ort_session.mjs request.json response.json
//   request: { model, threads?, calls: [{ ids: number[], numLogits?: number, keep?: number }] }
//   A call continues from the previous call's cache; `keep` first rolls the cache back to its first `keep` tokens.
//   A call with `targets` (one next token per returned position) answers { nll, argmax } per position instead of
//   the logits, for held-out loss without shipping every logit through JSON.
//   response: { calls: [{ dims, logits } | { nll, argmax }] }
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
/** The worker's session options (src/worker/session.ts), so that evaluations and benchmarks run as the extension does. */
const WORKER_SESSION_OPTIONS = require('../../src/worker/sessionOptions.json');

/** Opens a graph that follows the model-folder contract and returns helpers bound to it. A graph with a
 * `past_length` input keeps its cache in capacity buffers (models/ultramem/gqa.py). */
export async function openDecoder(modelPath, threads = 1, capacity = 512) {
  const session = await ort.InferenceSession.create(modelPath, { ...WORKER_SESSION_OPTIONS, intraOpNumThreads: threads });
  const layers = session.inputNames.filter((n) => n.startsWith('past_key_')).length;
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_0');
  const [heads, headDim] = [meta.shape[1], meta.shape[3]];
  if (session.inputNames.includes('past_length')) return capacityDecoder(session, layers, heads, headDim, capacity);

  function emptyCache() {
    const cache = {};
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) {
        cache[`past_${kind}_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
      }
    }
    return cache;
  }

  /** The cache of the first `keep` tokens (dimension 2 of every past tensor). */
  function truncate(cache, keep) {
    const out = {};
    for (const [name, t] of Object.entries(cache)) {
      const [, h, p, d] = t.dims;
      const data = new Float32Array(h * keep * d);
      for (let j = 0; j < h; j++) data.set(t.data.subarray(j * p * d, j * p * d + keep * d), j * keep * d);
      out[name] = new ort.Tensor('float32', data, [1, h, keep, d]);
    }
    return out;
  }

  async function step(cache, ids, numLogits = 1) {
    const feeds = {
      ...cache,
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      num_logits: new ort.Tensor('int64', BigInt64Array.from([BigInt(numLogits)]), [1]),
    };
    const out = await session.run(feeds);
    const next = {};
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) next[`past_${kind}_${i}`] = out[`present_${kind}_${i}`];
    }
    return { logits: out.logits, cache: next };
  }

  return { session, emptyCache, truncate, step };
}

/** The same helpers over capacity buffers: one [1, H, capacity, D] buffer per past tensor, fed as it is; each call
 * returns the new tokens' entries [1, H, T, D], written into the buffers at the cache's length. A cache is
 * { length, buffers } and a rollback only shortens `length`. Caches share the buffers: continue only from the latest
 * one or a truncation of it. */
function capacityDecoder(session, layers, heads, headDim, capacity) {
  const names = [];
  for (let i = 0; i < layers; i++) for (const kind of ['key', 'value']) names.push(`${kind}_${i}`);
  const buffers = Object.fromEntries(names.map((n) => [n, new ort.Tensor('float32', new Float32Array(heads * capacity * headDim), [1, heads, capacity, headDim])]));
  const emptyCache = () => ({ length: 0, buffers });
  const truncate = (cache, keep) => ({ length: Math.min(keep, cache.length), buffers });

  async function step(cache, ids, numLogits = 1) {
    if (cache.length + ids.length > capacity) throw new Error(`the cache holds ${capacity} tokens`);
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      num_logits: new ort.Tensor('int64', BigInt64Array.from([BigInt(numLogits)]), [1]),
      past_length: new ort.Tensor('int64', BigInt64Array.from([BigInt(cache.length)]), [1]),
    };
    for (const n of names) feeds[`past_${n}`] = buffers[n];
    const out = await session.run(feeds);
    const T = ids.length;
    for (const n of names) {
      const fresh = out[`present_${n}`].data;
      for (let h = 0; h < heads; h++) buffers[n].data.set(fresh.subarray(h * T * headDim, (h + 1) * T * headDim), (h * capacity + cache.length) * headDim);
    }
    return { logits: out.logits, cache: { length: cache.length + T, buffers } };
  }

  return { session, emptyCache, truncate, step };
}

/** Per position: the negative log-likelihood of its target token and the argmax id. */
function scoreTargets(logits, targets) {
  const v = logits.dims[2];
  const nll = [];
  const argmax = [];
  targets.forEach((target, p) => {
    const row = logits.data.subarray(p * v, (p + 1) * v);
    let best = 0;
    for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
    let sum = 0;
    for (let i = 0; i < v; i++) sum += Math.exp(row[i] - row[best]);
    nll.push(Math.log(sum) + row[best] - row[target]);
    argmax.push(best);
  });
  return { nll, argmax };
}

async function main(requestPath, responsePath) {
  const request = JSON.parse(readFileSync(requestPath, 'utf8'));
  const decoder = await openDecoder(request.model, request.threads ?? 1, request.capacity ?? 512);
  const response = { calls: [] };
  let cache = decoder.emptyCache();
  for (const call of request.calls ?? []) {
    if (call.keep !== undefined) cache = decoder.truncate(cache, call.keep);
    const r = await decoder.step(cache, call.ids, call.numLogits ?? 1);
    cache = r.cache;
    response.calls.push(call.targets ? scoreTargets(r.logits, call.targets)
      : { dims: r.logits.dims, logits: Array.from(r.logits.data) });
  }
  writeFileSync(responsePath, JSON.stringify(response));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(...process.argv.slice(2));
