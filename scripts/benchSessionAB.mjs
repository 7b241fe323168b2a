// Interleaved A/B of the worker's own ModelSession (src/worker/session.ts) from one or more checkouts, each compiled
// with `npx tsc -p tsconfig.json` (out/src/worker/session.js), on one or more model folders (two exports of one model,
// say): per repetition and prompt length, every (checkout, model) pair in a rotating order runs a cold prefill of
// PROMPT tokens, then 17 decode steps (the first reported apart); medians over the repetitions after the first. One
// thread, as the engine bench's targets. Prints the CPU's flags, the load average and a table; --json FILE writes the
// rows.
//   git worktree add /tmp/before HEAD~1 && (cd /tmp/before && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.json)
//   node scripts/benchSessionAB.mjs --models models/ultramem-code-s[,DIR2] --checkouts /tmp/before,. [--prompts 512,1536]
//     [--repetitions 8] [--json FILE]
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
if (!args.models) throw new Error('usage: --models DIR[,DIR2...] [--checkouts A,B,...] [--prompts 512,1536] [--repetitions 8] [--json FILE]');
const checkouts = (args.checkouts ?? '.').split(',').map((c) => path.resolve(c));
const models = args.models.split(',');
const prompts = (args.prompts ?? '512,1536').split(',').map(Number);
const repetitions = Number(args.repetitions ?? 8);
const require = createRequire(import.meta.url);
const ids = (n, vocab) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % (vocab - 8));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cpuFlags = [...new Set(fs.readFileSync('/proc/cpuinfo', 'utf8').match(/\b(avx512[a-z_0-9]*|avx2|fma|avx_vnni)\b/g) ?? [])].sort();

const sessions = []; // { checkout, model, vocab, session } per (checkout, model) pair
for (const checkout of checkouts) {
  const { ModelSession } = require(path.join(checkout, 'out', 'src', 'worker', 'session.js'));
  for (const model of models) {
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8'));
    const session = await ModelSession.create({
      graphPath: path.join(model, manifest.graph),
      kv: manifest.kvCache,
      vocabSize: manifest.vocabSize,
      threads: { prefill: 1, decodeCandidates: [1] },
      contextLength: manifest.contextLength,
    });
    sessions.push({ checkout, model, vocab: manifest.vocabSize, session });
  }
}
const loadBefore = os.loadavg();
const samples = new Map(); // `${checkout}\t${model}\t${prompt}` -> { prefill, first, decode }
for (let r = 0; r < repetitions; r++) {
  for (const prompt of prompts) {
    for (let j = 0; j < sessions.length; j++) {
      const { checkout, model, vocab, session } = sessions[(j + r) % sessions.length];
      session.reset();
      const t0 = performance.now();
      await session.forward(ids(prompt, vocab));
      const prefill = performance.now() - t0;
      const steps = [];
      for (let i = 0; i < 17; i++) {
        const t1 = performance.now();
        await session.forward([100 + i]);
        steps.push(performance.now() - t1);
      }
      if (r === 0) continue; // the first repetition warms each session's arena for these shapes
      const key = `${checkout}\t${model}\t${prompt}`;
      if (!samples.has(key)) samples.set(key, { prefill: [], first: [], decode: [] });
      const s = samples.get(key);
      s.prefill.push(prefill);
      s.first.push(steps[0]);
      s.decode.push(median(steps.slice(1)));
    }
  }
}
for (const { session } of sessions) await session.release();

const rows = [...samples].map(([key, s]) => {
  const [checkout, model, prompt] = key.split('\t');
  return { checkout, model, promptTokens: Number(prompt), prefillMs: median(s.prefill), firstDecodeMs: median(s.first), decodeMsPerToken: median(s.decode) };
});
console.log(`${os.cpus()[0]?.model}, flags ${cpuFlags.join(' ')}; load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${repetitions} repetitions, 1 thread`);
console.log('| checkout | model | prompt tokens | prefill ms | first decode step ms | decode ms/token |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.checkout} | ${r.model} | ${r.promptTokens} | ${r.prefillMs.toFixed(1)} | ${r.firstDecodeMs.toFixed(2)} | ${r.decodeMsPerToken.toFixed(2)} |`);
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ cpuFlags, loadBefore, loadAfter: os.loadavg(), repetitions, rows }, null, 2));
