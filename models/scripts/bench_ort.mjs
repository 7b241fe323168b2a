// ORT CPU timing of one graph at batch 1, with the worker's session options (ort_session.mjs reads them from
// src/worker/sessionOptions.json): prefill of 512, 1024 and 2048 tokens, and decode ms/token after a 512-token
// prefill. Prints one JSON line. Usage: node models/scripts/bench_ort.mjs model.onnx THREADS VOCAB
import { openDecoder } from './ort_session.mjs';

const [model, threads = '1', vocab = '1000'] = process.argv.slice(2);
const decoder = await openDecoder(model, Number(threads));
const randomIds = (n) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % Number(vocab));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timePrefill(n, repeats) {
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await decoder.step(decoder.emptyCache(), randomIds(n));
    times.push(performance.now() - t0);
  }
  return median(times);
}

await timePrefill(64, 2); // warm-up: first run allocates and plans
const prefill512 = await timePrefill(512, 3);
const prefill1024 = await timePrefill(1024, 3);
const prefill2048 = await timePrefill(2048, 2);
let { cache } = await decoder.step(decoder.emptyCache(), randomIds(512));
const decode = [];
for (let i = 0; i < 48; i++) {
  const t0 = performance.now();
  ({ cache } = await decoder.step(cache, [(i * 31) % Number(vocab)]));
  decode.push(performance.now() - t0);
}
console.log(JSON.stringify({ model, threads: Number(threads), prefill512Ms: prefill512, prefill1024Ms: prefill1024, prefill2048Ms: prefill2048,
  decodeMsPerToken: median(decode.slice(8)) }));
