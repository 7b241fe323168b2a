// ORT CPU timing of one graph at batch 1, with the worker's session options (ort_session.mjs reads them from
// src/worker/sessionOptions.json): prefill of 512, 1024 and 2048 tokens; decode ms/token after a 512- and a
// 1,536-token prefill (forward passes of one given token each: no token is chosen, decoding is the worker's); and a
// keystroke at those contexts (roll the last token back, feed two, as a typed character that re-tokenizes does).
// Graphs of either KV layout (concat or capacity). Prints one JSON line.
// Usage: node models/scripts/bench_ort.mjs model.onnx THREADS VOCAB
import { openDecoder } from './ort_session.mjs';

const [model, threads = '1', vocab = '1000'] = process.argv.slice(2);
const decoder = await openDecoder(model, Number(threads), 2048);
const randomIds = (n, seed = 13) => Array.from({ length: n }, (_, i) => (i * 7919 + seed) % Number(vocab));
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

/** Median decode step and keystroke after a prefill of `context` tokens. */
async function timeAtContext(context) {
  let { cache } = await decoder.step(decoder.emptyCache(), randomIds(context));
  const decode = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    ({ cache } = await decoder.step(cache, [(i * 31) % Number(vocab)]));
    decode.push(performance.now() - t0);
  }
  const keystroke = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    ({ cache } = await decoder.step(decoder.truncate(cache, context - 1), [(i * 17) % Number(vocab), (i * 29) % Number(vocab)]));
    keystroke.push(performance.now() - t0);
    ({ cache } = await decoder.step(decoder.truncate(cache, context - 1), [(i * 37) % Number(vocab)]));  // back to context
  }
  return { decode: median(decode.slice(8)), keystroke: median(keystroke.slice(2)) };
}

await timePrefill(64, 2); // warm-up: first run allocates and plans
const prefill512 = await timePrefill(512, 3);
const prefill1024 = await timePrefill(1024, 3);
const prefill2048 = await timePrefill(2048, 2);
const at512 = await timeAtContext(512);
const at1536 = await timeAtContext(1536);
console.log(JSON.stringify({ model, threads: Number(threads), prefill512Ms: prefill512, prefill1024Ms: prefill1024, prefill2048Ms: prefill2048,
  decodeMsPerToken: at512.decode, decode1536MsPerToken: at1536.decode, keystroke512Ms: at512.keystroke, keystroke1536Ms: at1536.keystroke }));
