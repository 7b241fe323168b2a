/**
 * `npm run bench:engine`: the engine alone, against llama.cpp on the same shape (issue 12). Random weights in the
 * shipped shapes: UltraMem (the `laptop` preset), its dense twin and its MoE twin of equal activated compute,
 * exported by models/scripts/engine_bench_models.py through the project's export path and int8 quantization, run
 * by the worker's own Engine; and llama.cpp (node-llama-cpp, CPU build, installed on first use) on a GGUF with
 * random Q8_0 weights in the dense twin's shape (src/bench/gguf.ts), flash attention on and off. Interleaved
 * rounds over threads x prompt lengths x engines; per cell a cold prefill, decode steps at that context, and
 * keystrokes (drop the last token, add two, decode one). Prints the CPU flags, the load average and a table, and
 * writes the JSON of src/bench/engineReport.ts with --json.
 *
 *   node dist/benchEngine.js [--quick] [--json FILE] [--rounds N] [--threads 1,2] [--prompts 512,1536]
 *                            [--engines ultramem,dense,moe,llama.cpp] [--cache DIR]
 * The models are generated once into --cache (default .cache/bench-engine, git-ignored) and again when the
 * model code changes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { readCpuInfo } from './cpu';
import { checkTargets, formatReport, summarise, type Cell, type CellTiming, type EngineName, type EngineReport, type ModelWork } from './engineReport';
import { writeLlamaGguf } from './gguf';
import { ensureNodeLlamaCpp, NODE_LLAMA_CPP_VERSION } from './nodeLlamaCpp';
import { WORKER_SESSION_OPTIONS } from '../worker/session';
import { LlamaCppEngine, loadLlamaModel, WorkerEngine, type LlamaModel, type TimedEngine } from './timedEngines';

const ROOT = path.join(__dirname, '..');
const ORT_ENGINES = ['ultramem', 'dense', 'moe'] as const;

interface Args {
  quick: boolean;
  json?: string;
  rounds: number;
  threads: number[];
  prompts: number[];
  engines: EngineName[];
  cache: string;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const a: Args = { quick, rounds: quick ? 1 : 3, threads: [1, 2], prompts: [512, 1536], engines: [...ORT_ENGINES, 'llama.cpp'], cache: path.join(ROOT, '.cache', 'bench-engine') };
  const list = (s: string | undefined): string[] => (s ?? '').split(',').filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') continue;
    else if (arg === '--json') a.json = argv[++i];
    else if (arg === '--rounds') a.rounds = Number(argv[++i]);
    else if (arg === '--threads') a.threads = list(argv[++i]).map(Number);
    else if (arg === '--prompts') a.prompts = list(argv[++i]).map(Number);
    else if (arg === '--engines') a.engines = list(argv[++i]) as EngineName[];
    else if (arg === '--cache') a.cache = path.resolve(argv[++i]!);
    else throw new Error(`unknown argument ${arg}`);
  }
  return a;
}

const log = (m: string): void => console.error(`bench:engine: ${m}`);

function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** The first python3 with torch and onnx (the model tests' rule, models/tests/run.mjs). */
function pythonWithTorch(): string {
  for (const candidate of [process.env['ULTRAMEM_PYTHON'], 'python3', '/usr/bin/python3']) {
    if (candidate && spawnSync(candidate, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('no python3 with torch and onnx (Debian: apt-get install python3-torch python3-onnx)');
}

/** A hash of everything the generated models depend on: the model package, the script and the tokenizer. */
function modelSourceHash(): string {
  const h = createHash('sha256');
  const pkg = path.join(ROOT, 'models', 'ultramem');
  const files = [
    ...fs.readdirSync(pkg).filter((f) => f.endsWith('.py')).sort().map((f) => path.join(pkg, f)),
    path.join(ROOT, 'models', 'scripts', 'engine_bench_models.py'),
    path.join(ROOT, 'models', 'ultramem-code-s', 'tokenizer.json'),
  ];
  for (const f of files) h.update(f).update(fs.readFileSync(f));
  return h.digest('hex');
}

interface ModelListing {
  readonly ultramem: ModelWork & { dir: string };
  readonly dense: ModelWork & { dir: string };
  readonly moe: ModelWork & { dir: string };
  readonly gemm: { path: string; m: number; k: number; n: number };
}

function ensureModels(cache: string): ModelListing {
  const stamp = path.join(cache, 'source.sha256');
  const hash = modelSourceHash();
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== hash) {
    fs.rmSync(cache, { recursive: true, force: true });
    fs.mkdirSync(cache, { recursive: true });
    log(`exporting the random-weight models into ${cache} (about a minute)`);
    // a module of the models package, run from the repository root (python3 -m models.scripts.engine_bench_models)
    const r = spawnSync(pythonWithTorch(), ['-m', 'models.scripts.engine_bench_models', '--out', cache], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`engine_bench_models.py failed:\n${r.stderr.slice(-3000)}`);
    fs.writeFileSync(stamp, hash);
  }
  return JSON.parse(fs.readFileSync(path.join(cache, 'models.json'), 'utf8')) as ModelListing;
}

/**
 * fp32 MatMul GFLOP/s with the worker's session options, by thread count. `measure` runs 30 MatMuls per count and keeps
 * the fastest so far: called once per round, so that a spell of other jobs on the machine does not set the peak.
 */
class GemmPeak {
  private readonly best = new Map<number, number>();

  private constructor(private readonly sessions: Map<number, ort.InferenceSession>, private readonly shape: ModelListing['gemm'], private readonly a: ort.Tensor) {}

  static async open(graph: string, shape: ModelListing['gemm'], threads: readonly number[]): Promise<GemmPeak> {
    const sessions = new Map<number, ort.InferenceSession>();
    for (const t of threads) sessions.set(t, await ort.InferenceSession.create(graph, { ...WORKER_SESSION_OPTIONS, intraOpNumThreads: t }));
    const a = new ort.Tensor('float32', Float32Array.from({ length: shape.m * shape.k }, (_, i) => ((i % 17) - 8) / 8), [shape.m, shape.k]);
    return new GemmPeak(sessions, shape, a);
  }

  async measure(): Promise<void> {
    for (const [threads, session] of this.sessions) {
      await session.run({ a: this.a }); // warm-up
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        await session.run({ a: this.a });
        this.best.set(threads, Math.min(this.best.get(threads) ?? Infinity, performance.now() - t0));
      }
    }
  }

  gflops(): Record<string, number> {
    const { m, k, n } = this.shape;
    return Object.fromEntries([...this.best].map(([threads, ms]) => [String(threads), (2 * m * k * n) / ms / 1e6]));
  }

  async release(): Promise<void> {
    for (const session of this.sessions.values()) await session.release();
  }
}

/** Reproducible token ids below the first special token. */
function tokenIds(n: number, seed: number, ordinary: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729 + 13) % ordinary);
}

async function timeCell(engine: TimedEngine, prompt: readonly number[], decodeSteps: number, keystrokes: number, ordinary: number): Promise<CellTiming> {
  const run = await engine.run(prompt, decodeSteps);
  const keystrokeMs: number[] = [];
  for (let k = 0; k < keystrokes; k++) keystrokeMs.push(await engine.keystroke([(101 + 2 * k) % ordinary, (211 + 3 * k) % ordinary]));
  return { prefillMs: run.prefillMs, decodeStepMs: run.decodeStepMs, keystrokeMs };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpu = readCpuInfo();
  console.log(`CPU: ${cpu.model}; flags: ${cpu['flags']}`);
  const before = loadAverage();
  console.log(`load average: ${before.join(' ')} (other jobs on this machine make the timings noisy)`);
  const listing = ensureModels(args.cache);
  const manifest = JSON.parse(fs.readFileSync(path.join(args.cache, 'ultramem', 'manifest.json'), 'utf8')) as { specialTokens: Record<string, { id: number }> };
  const ordinary = Math.min(...Object.values(manifest.specialTokens).map((t) => t.id));
  const contextSize = 2048;

  const gemm = await GemmPeak.open(path.join(args.cache, listing.gemm.path), listing.gemm, args.threads);

  const instances: { key: Omit<Cell, 'promptTokens'>; engine: TimedEngine }[] = [];
  let llamaModel: LlamaModel | undefined;
  if (args.engines.includes('llama.cpp')) {
    const gguf = path.join(args.cache, 'dense.gguf');
    writeLlamaGguf(path.join(args.cache, 'dense', 'config.json'), path.join(args.cache, 'dense', 'tokenizer.json'), manifest.specialTokens['endOfText']!.id, gguf);
    llamaModel = await loadLlamaModel(ensureNodeLlamaCpp(log), gguf);
  }
  for (const threads of args.threads) {
    for (const name of ORT_ENGINES.filter((e) => args.engines.includes(e))) {
      instances.push({ key: { engine: name, threads }, engine: await WorkerEngine.load(path.join(args.cache, listing[name].dir), threads) });
    }
    for (const flashAttention of llamaModel ? [true, false] : []) {
      instances.push({ key: { engine: 'llama.cpp', threads, flashAttention }, engine: await LlamaCppEngine.create(llamaModel!, threads, flashAttention, contextSize) });
    }
  }
  // Table order: threads, then prompt length, then engine.
  const cells = args.threads.flatMap((threads) =>
    args.prompts.flatMap((promptTokens) =>
      instances.filter((i) => i.key.threads === threads).map((i) => ({ cell: { ...i.key, promptTokens }, engine: i.engine, timings: [] as CellTiming[] })),
    ),
  );

  // Warm-up at the longest prompt: onnxruntime's arena grows on the first prefill of a size (the attention scores of a
  // 1,536-token prompt are tens of MB), which makes that first prefill about 3x slower; llama.cpp sizes its buffers
  // when the context is created. The rounds then time the steady state of both.
  for (const { engine } of instances) await timeCell(engine, tokenIds(Math.max(...args.prompts), 0, ordinary), 2, 1, ordinary);
  const decodeSteps = args.quick ? 8 : 32;
  const keystrokes = args.quick ? 2 : 4;
  for (let round = 0; round < args.rounds; round++) {
    await gemm.measure();
    // Each round starts at another cell, so that no engine always runs right after the same one.
    for (let i = 0; i < cells.length; i++) {
      const c = cells[(i + round * 3) % cells.length]!;
      c.timings.push(await timeCell(c.engine, tokenIds(c.cell.promptTokens, round + 1, ordinary), decodeSteps, keystrokes, ordinary));
    }
    log(`round ${round + 1}/${args.rounds} done`);
  }
  for (const { engine } of instances) await engine.dispose();
  await gemm.release();
  await llamaModel?.dispose();

  const gemmPeak = gemm.gflops();
  log(`GEMM peak: ${JSON.stringify(gemmPeak)}`);
  const rows = cells.map(({ cell, timings }) => summarise(cell, timings, listing[cell.engine === 'llama.cpp' ? 'dense' : cell.engine], gemmPeak[String(cell.threads)]!));
  const report: EngineReport = {
    date: new Date().toISOString(),
    quick: args.quick,
    rounds: args.rounds,
    cpu,
    loadAverage: { before, after: loadAverage() },
    gemmPeakGflops: gemmPeak,
    llamaCpp: args.engines.includes('llama.cpp') ? `node-llama-cpp ${NODE_LLAMA_CPP_VERSION}, Q8_0` : undefined,
    rows,
    targets: checkTargets(rows),
  };
  console.log(formatReport(report));
  // Three decimals are more than the timings' precision.
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v), 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(`bench:engine: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
