// Paired timing of several graphs in one process, for A/B comparisons on a machine that other jobs load: each
// repetition runs every graph once, in an order that rotates, and the ratios to the first graph are taken within a
// repetition (paired) before their median; process CPU time (user + system) is reported beside wall time, since it
// moves far less when other processes take the cores. Prefill: a cold prompt of PROMPT tokens; decode: one token at
// that context (the cache rolled back to PROMPT before each step). The worker's session options (ort_session.mjs).
// Prints one JSON object, with the CPU flags and the load average before and after.
// Usage: node models/scripts/bench_paired.mjs --graphs a.onnx,b.onnx[,...] [--threads 1] [--prompt 512]
//          [--prefills 12] [--decodes 200] [--vocab 16000]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { openDecoder } from './ort_session.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const graphs = args.graphs.split(',');
const threads = Number(args.threads ?? 1);
const prompt = Number(args.prompt ?? 512);
const prefills = Number(args.prefills ?? 12);
const decodes = Number(args.decodes ?? 200);
const vocab = Number(args.vocab ?? 16000);
const ids = (n, seed) => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729 + 13) % vocab);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuFlags = [...new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/\b(avx512[a-z_0-9]*|avx2|fma|avx_vnni)\b/g) ?? [])].sort();

/** Wall and process CPU milliseconds of one awaited call. */
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, result };
}

/** Runs `measure(graphIndex, repetition)` for every graph in each repetition, rotating the order. */
async function interleaved(repetitions, measure) {
  const samples = graphs.map(() => []);
  for (let r = 0; r < repetitions; r++) {
    for (let j = 0; j < graphs.length; j++) {
      const g = (j + r) % graphs.length;
      samples[g].push(await measure(g, r));
    }
  }
  const summary = (g) => ({
    graph: graphs[g],
    medianMs: { wall: median(samples[g].map((s) => s.wall)), cpu: median(samples[g].map((s) => s.cpu)) },
    medianRatioToFirst: {
      wall: median(samples[g].map((s, r) => s.wall / samples[0][r].wall)),
      cpu: median(samples[g].map((s, r) => s.cpu / samples[0][r].cpu)),
    },
  });
  return { repetitions, graphs: graphs.map((_, g) => summary(g)) };
}

const before = loadavg();
const decoders = [];
for (const g of graphs) decoders.push(await openDecoder(g, threads, prompt + 8));
for (const d of decoders) { // warm-up: the arena grows on the first prefill of a size
  for (let i = 0; i < 2; i++) await d.step(d.emptyCache(), ids(prompt, 99));
}
const prefill = await interleaved(prefills, (g, r) => timed(() => decoders[g].step(decoders[g].emptyCache(), ids(prompt, r))));
const contexts = [];
for (const d of decoders) contexts.push((await d.step(d.emptyCache(), ids(prompt, 7))).cache);
const decode = await interleaved(decodes, (g, r) => timed(() => decoders[g].step(decoders[g].truncate(contexts[g], prompt), [(r * 31) % vocab])));
console.log(JSON.stringify({ date: new Date().toISOString(), cpuFlags: cpuFlags.join(' '), loadAverage: { before, after: loadavg() }, threads, prompt,
  prefill, decode }, null, 1));
