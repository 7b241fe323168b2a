/**
 * `npm run bench`: replays typing of real source files, keystroke by keystroke, through the real pipeline
 * and worker with the extension's shipped settings (src/completion/defaults.ts; the other files of the language
 * are the open editors that snippets come from), and prints a table: time to first ghost text and to the whole
 * suggestion, over all keystrokes and apart for those that needed the model and those the cache answered, decode
 * and prefill tokens/s, cache and KV-reuse hit rates, worker RSS, one cold completion on a long context, the
 * first keystroke after switching files with and without background prefill (switchKeystrokes below), the worker
 * time that alternatives (Show Next Inline Suggestion) cost per keystroke, and the next suggestion after an accept
 * with and without preparing it at the accept (acceptNext below).
 *
 *   node dist/bench.js [--model DIR] [--threads N] [--keystrokes N] [--switches N] [--think-ms MS] [--accepts N]
 *                      [--json FILE] [--heldout DIR] [FILE ...]
 * Sources, in order: the FILEs given; else held-out files of the corpus (`data/corpus/shards/heldout/
 * <lang>-NNNNN.jsonl.xz`, read with `xz -dc`) in several languages, each typed with the next documents of its
 * shard open beside it; else some of this repository's sources.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BackgroundPrefiller, type PrefillTarget } from '../client/backgroundPrefill';
import { EngineHost } from '../client/engineHost';
import { defaultModel } from '../client/modelCatalog';
import { languageOf } from '../cli/files';
import { ALTERNATIVES } from '../completion/alternatives';
import { SHIPPED_DEFAULTS } from '../completion/defaults';
import { CompletionPipeline, type PipelineOptions } from '../completion/pipeline';
import { percentile } from '../completion/stats';
import { detectInsertSpaces } from '../shared/text';
import { describeCpu, readCpuInfo } from './cpu';
import type { CompletionRequest, NeighbourFile } from '../completion/types';

const DEFAULT_FILES = ['src/completion/cache.ts', 'src/worker/session.ts', 'models/ultramem/model.py', 'test/runAll.mjs', 'esbuild.mjs'];
const HELDOUT_LANGS = ['python', 'typescript', 'javascript', 'go', 'rust', 'java', 'c'];
const LANGUAGE_IDS: Record<string, string> = { c: 'c', cpp: 'cpp', go: 'go', java: 'java', javascript: 'javascript', python: 'python', rust: 'rust', typescript: 'typescript' };

interface Args {
  model?: string;
  threads: number;
  keystrokes: number;
  /** Switches of files timed with and without background prefill (0: none). */
  switches: number;
  /** From the switch to the first keystroke. */
  thinkMs: number;
  /** Accepts timed with and without preparing the next suggestion at the accept (0: none). */
  accepts: number;
  json?: string;
  heldout?: string;
  files: string[];
}

interface Source {
  readonly name: string;
  readonly languageId: string;
  readonly text: string;
  /** Files open beside it, where the extension takes snippets from. */
  readonly neighbours: readonly NeighbourFile[];
}

/**
 * After an accept, VS Code asks for the next suggestion once its own debounce has run out and the request has reached
 * the extension host: about this long (its inline-completion debounce is 50 ms in VS Code 1.100).
 */
const ACCEPT_ASK_MS = 50;

/** Held-out documents of a language that are typed or kept open beside the typed one. */
const OPEN_BESIDE = 2;

/** One mid-sized document per language from the corpus's held-out shards, with the next ones open beside it. */
function heldoutSources(dir: string): Source[] {
  const out: Source[] = [];
  for (const lang of HELDOUT_LANGS) {
    const shard = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(`${lang}-`) && f.endsWith('.jsonl.xz')).sort()[0] : undefined;
    if (!shard) continue;
    let text = '';
    try {
      text = execFileSync('xz', ['-dc', path.join(dir, shard)], { maxBuffer: 512 * 2 ** 20, encoding: 'utf8' });
    } catch {
      continue;
    }
    const languageId = LANGUAGE_IDS[lang] ?? lang;
    const docs: NeighbourFile[] = [];
    for (const line of text.split('\n')) {
      if (docs.length > OPEN_BESIDE) break;
      if (!line) continue;
      const doc = JSON.parse(line) as { text: string; path?: string; package?: string };
      if (doc.text.length >= 2000 && doc.text.length <= 20000 && doc.text.split('\n').length >= 40) {
        docs.push({ path: `${lang}:${doc.package ?? ''}/${doc.path ?? ''}`, languageId, text: doc.text });
      }
    }
    const [typed, ...beside] = docs;
    if (typed) out.push({ name: typed.path, languageId, text: typed.text, neighbours: beside });
  }
  return out;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { threads: SHIPPED_DEFAULTS.threads, keystrokes: 240, switches: 20, thinkMs: 1000, accepts: 12, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--model') a.model = argv[++i];
    else if (arg === '--threads') a.threads = Number(argv[++i]);
    else if (arg === '--keystrokes') a.keystrokes = Number(argv[++i]);
    else if (arg === '--switches') a.switches = Number(argv[++i]);
    else if (arg === '--think-ms') a.thinkMs = Number(argv[++i]);
    else if (arg === '--accepts') a.accepts = Number(argv[++i]);
    else if (arg === '--json') a.json = argv[++i];
    else if (arg === '--heldout') a.heldout = argv[++i];
    else a.files.push(arg);
  }
  return a;
}

/** Lines worth typing: non-blank, not too long, from the middle of the file (there is context before). */
function typingTargets(text: string, count: number): number[] {
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => ({ l, i })).filter(({ l, i }) => i >= 8 && l.trim().length >= 12 && l.length <= 100);
  const step = Math.max(1, Math.floor(candidates.length / Math.max(1, count)));
  return candidates.filter((_, k) => k % step === 0).slice(0, count).map(({ i }) => i);
}

/** Times of keystrokes: to the first ghost text (those that showed one) and to the whole suggestion (all). */
class Latencies {
  readonly firstText: number[] = [];
  readonly whole: number[] = [];

  add(firstTextMs: number | undefined, wholeMs: number): void {
    if (firstTextMs !== undefined) this.firstText.push(firstTextMs);
    this.whole.push(wholeMs);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A place to start typing a line of a source: the request with the line's first `typed` characters after its indentation. */
interface Spot {
  readonly source: Source;
  readonly lineNo: number;
}

function requestAtSpot(spot: Spot, typed: number): CompletionRequest {
  const text = spot.source.text.replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const line = lines[spot.lineNo]!;
  const indent = /^\s*/.exec(line)![0].length;
  return {
    prefix: lines.slice(0, spot.lineNo).join('\n') + '\n' + line.slice(0, indent + typed),
    suffix: '\n' + lines.slice(spot.lineNo + 1).join('\n'),
    languageId: spot.source.languageId,
    path: spot.source.name,
    tabSize: 4,
    insertSpaces: detectInsertSpaces(text),
    trigger: 'automatic',
    neighbours: () => spot.source.neighbours,
  };
}

interface SwitchRun {
  readonly latencies: Latencies;
  /** Prompt tokens the first keystroke prefilled (not found in the KV cache). */
  readonly prefilled: number[];
}

/**
 * The first keystroke after switching files. Each sample: the user has just had a completion in another file (its
 * prompt is what the worker's KV cache holds), switches to a spot in this file (the editor gains focus), looks for
 * `thinkMs`, then types the first character of a line. With background prefill, the switch triggers the extension's
 * scheduler (BackgroundPrefiller, its debounce included), which prefills the prompt at the cursor through the
 * pipeline; a keystroke that comes before it is done cancels it and prefills the rest. Without, nothing happens before
 * the keystroke. Both are timed at every spot, in alternating order, with the pipeline's result cache emptied.
 */
async function switchKeystrokes(host: EngineHost, options: PipelineOptions, sources: readonly Source[], count: number, thinkMs: number) {
  const spots: Spot[][] = sources.map((source) => typingTargets(source.text.replace(/\r\n/g, '\n'), 6).map((lineNo) => ({ source, lineNo })));
  const usable = spots.filter((s) => s.length > 0);
  if (usable.length < 2 || count <= 0) return null;
  const pipeline = new CompletionPipeline(host, () => options);
  let current: PrefillTarget | null = null;
  const prefiller = new BackgroundPrefiller({ target: () => current, allowed: () => true, prefill: (req, signal) => pipeline.prefill(req, { signal }) });
  const runs = { without: { latencies: new Latencies(), prefilled: [] as number[] }, with: { latencies: new Latencies(), prefilled: [] as number[] } };
  for (let k = 0; k < count; k++) {
    const file = k % usable.length;
    const spot = usable[file]![Math.floor(k / usable.length) % usable[file]!.length]!;
    const before = usable[(file + usable.length - 1) % usable.length]!;
    const elsewhere = before[k % before.length]!;
    for (const mode of k % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
      pipeline.reset();
      await pipeline.complete(requestAtSpot(elsewhere, 1), { noDebounce: true });
      await pipeline.idle();
      const at = requestAtSpot(spot, 0);
      current = { document: spot.source.name, version: k, offset: at.prefix.length, languageId: spot.source.languageId, request: () => at };
      if (mode === 'with') prefiller.trigger('focus');
      await sleep(thinkMs);
      const prefilledBefore = pipeline.stats.prefilledTokens;
      const t0 = performance.now();
      const a = await pipeline.complete(requestAtSpot(spot, 1), { early: true, noDebounce: true });
      const firstMs = a.result.isEmpty ? undefined : performance.now() - t0;
      await pipeline.idle();
      runs[mode].latencies.add(firstMs, performance.now() - t0);
      runs[mode].prefilled.push(pipeline.stats.prefilledTokens - prefilledBefore);
      await prefiller.settled;
    }
  }
  prefiller.dispose();
  return { ...runs, background: { ...prefiller.counts } };
}

/**
 * Accepting a suggestion, then the next one. At each spot (the first character of a line typed) the suggestion is
 * decoded, then its alternatives, undisturbed (their worker time is the cost of one uninterrupted run), and the
 * suggestion is accepted: the document now ends the accepted text at the cursor. 'prepared': the extension's
 * accept handler calls prefetch() at once and the editor's request there (automatic) comes `askMs` later and
 * attaches to it; 'onAsk': nothing until the editor's request, which starts the generation itself (the
 * behaviour before prefetch). Timed from the accept; both at every spot, in alternating order, the cache emptied.
 */
async function acceptNext(host: EngineHost, options: PipelineOptions, sources: readonly Source[], count: number, askMs: number) {
  const spots: Spot[] = sources.flatMap((source) => typingTargets(source.text.replace(/\r\n/g, '\n'), 6).map((lineNo) => ({ source, lineNo })));
  const pipeline = new CompletionPipeline(host, () => options);
  const runs = { prepared: new Latencies(), onAsk: new Latencies() };
  const alternatives = { ms: [] as number[], kept: [] as number[] };
  // every spot once at most, spread over the files (a stride prime to the count)
  const stride = [7, 5, 3, 1].find((n) => spots.length % n !== 0) ?? 1;
  for (let k = 0, tried = 0; k < count && tried < spots.length; tried++) {
    const spot = spots[(tried * stride) % spots.length]!;
    const at = requestAtSpot(spot, 1);
    let accepted = '';
    for (const mode of k % 2 === 0 ? (['prepared', 'onAsk'] as const) : (['onAsk', 'prepared'] as const)) {
      pipeline.reset();
      const msBefore = pipeline.stats.alternatives.ms;
      const offeredBefore = pipeline.stats.alternatives.offered;
      const first = await pipeline.complete(at, { noDebounce: true });
      await pipeline.idle();
      await pipeline.alternativesIdle();
      if (first.result.isEmpty) break;
      if (mode === 'prepared') {
        alternatives.ms.push(pipeline.stats.alternatives.ms - msBefore);
        alternatives.kept.push(pipeline.stats.alternatives.offered - offeredBefore);
      }
      accepted = first.result.text;
      const next: CompletionRequest = { ...at, prefix: at.prefix + accepted };
      const t0 = performance.now();
      if (mode === 'prepared') pipeline.prefetch(next);
      await sleep(askMs);
      const a = await pipeline.complete(next, { early: true });
      const firstMs = a.result.isEmpty ? undefined : performance.now() - t0;
      await pipeline.idle();
      runs[mode].add(firstMs, performance.now() - t0);
    }
    if (accepted) k++;
  }
  return { ...runs, alternatives };
}

const fmt = (v: number, unit = ''): string => (Number.isFinite(v) ? `${v >= 100 ? Math.round(v) : v.toFixed(1)}${unit}` : '–');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpu = readCpuInfo();
  const loadBefore = os.loadavg();
  console.log(`CPU: ${describeCpu(cpu)}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (other jobs make the timings noisy)`);
  const root = path.join(__dirname, '..');
  const modelDir = args.model ? path.resolve(args.model) : (await defaultModel(path.join(root, 'models')))?.dir;
  if (!modelDir) throw new Error('no model: pass --model DIR');
  const fromFiles = (files: string[]): Source[] => {
    const open = files.filter((f) => fs.existsSync(f)).map((f) => ({ path: path.relative(root, f) || f, languageId: languageOf(f), text: fs.readFileSync(f, 'utf8') }));
    return open.map((f) => ({ name: f.path, languageId: f.languageId, text: f.text, neighbours: open.filter((o) => o !== f && o.languageId === f.languageId) }));
  };
  let sources = args.files.length ? fromFiles(args.files) : heldoutSources(args.heldout ?? path.join(root, 'data', 'corpus', 'shards', 'heldout'));
  if (sources.length === 0) sources = fromFiles(DEFAULT_FILES.map((f) => path.join(root, f)));
  const host = new EngineHost({ threads: () => args.threads });
  const info = await host.load(modelDir);
  const options: PipelineOptions = { ...SHIPPED_DEFAULTS, contextLength: info.contextLength, fimTemplate: info.fimTemplate, alternatives: ALTERNATIVES };
  const pipeline = new CompletionPipeline(host, () => options);

  // Every keystroke, and apart: those that started a generation and those the cache, a suggestion typed through
  // or a skip answered (their near-zero times would hide the model's latency in the overall percentiles).
  const all = new Latencies();
  const neededModel = new Latencies();
  const withoutModel = new Latencies();
  let keystrokes = 0;
  let shown = 0;
  const perFile = Math.max(1, Math.floor(args.keystrokes / Math.max(1, sources.length)));
  for (const source of sources) {
    const text = source.text.replace(/\r\n/g, '\n');
    const lines = text.split('\n');
    const insertSpaces = detectInsertSpaces(text);
    let budget = perFile;
    for (const lineNo of typingTargets(text, 6)) {
      if (budget <= 0) break;
      const before = lines.slice(0, lineNo).join('\n') + '\n';
      const after = '\n' + lines.slice(lineNo + 1).join('\n');
      const line = lines[lineNo]!;
      const indent = /^\s*/.exec(line)![0].length;
      for (let c = indent; c <= line.length && budget > 0; c++, budget--) {
        keystrokes++;
        const req = { prefix: before + line.slice(0, c), suffix: after, languageId: source.languageId, path: source.name, tabSize: 4, insertSpaces,
          trigger: 'automatic' as const, neighbours: () => source.neighbours };
        const generations = pipeline.stats.modelRequests;
        const t0 = performance.now();
        const a = await pipeline.complete(req, { early: true, noDebounce: true });
        const firstMs = a.result.isEmpty ? undefined : performance.now() - t0;
        if (firstMs !== undefined) shown++;
        await pipeline.idle();
        const wholeMs = performance.now() - t0;
        for (const l of [all, pipeline.stats.modelRequests > generations ? neededModel : withoutModel]) l.add(firstMs, wholeMs);
      }
    }
  }

  const alternativesInReplay = { ...pipeline.stats.alternatives };
  const switched = await switchKeystrokes(host, options, sources, args.switches, args.thinkMs);
  const accepts = args.accepts > 0 ? await acceptNext(host, options, sources, args.accepts, ACCEPT_ASK_MS) : null;

  // A cold completion on a long context: the largest prompt budget the model's context leaves (1,936 tokens of
  // 2,048; the pipeline's character windows, 3 characters a token, fill about 1,500 of them with code), the cursor
  // in the middle of the held-out files laid one after the other (again from the first if they are short), so that
  // the prefix and the suffix both fill their windows, on an empty cache (the replay typed these files).
  const longTokens = info.contextLength - options.maxTokens - 16;
  const files = sources.map((s) => s.text.replace(/\r\n/g, '\n'));
  let corpus = '';
  for (let i = 0; corpus.length < longTokens * 16 && files.length > 0; i++) corpus += `${files[i % files.length]}\n`;
  const cursor = corpus.lastIndexOf('\n', corpus.length >> 1) + 1;
  pipeline.reset();
  await host.resetCache();
  const coldPipeline = new CompletionPipeline(host, () => ({ ...options, maxPromptTokens: longTokens }));
  const promptTokensBefore = (await host.stats())?.promptTokens ?? 0;
  const tCold = performance.now();
  const cold = await coldPipeline.complete({ prefix: corpus.slice(0, cursor), suffix: corpus.slice(cursor), languageId: 'typescript', path: 'cold.ts', tabSize: 4, insertSpaces: true, trigger: 'manual' }, { noDebounce: true });
  const coldMs = performance.now() - tCold;
  // from the worker's totals: the result carries no timings when the filters left nothing to show
  const coldTokens = ((await host.stats())?.promptTokens ?? promptTokensBefore) - promptTokensBefore;

  const s = pipeline.stats.summary();
  const worker = await host.stats();
  const hits = pipeline.stats.cacheHits + pipeline.stats.typedThroughHits + pipeline.stats.inflightReuse;
  const pq = (xs: readonly number[]): string => `${fmt(percentile(xs, 50), ' ms')} / ${fmt(percentile(xs, 95), ' ms')}`;
  const rows: [string, string, string][] = [
    ['model', `${info.name} (${info.graph}, ${info.threads} decode / ${info.prefillThreads} prefill threads)`, `shipped settings: ${JSON.stringify(SHIPPED_DEFAULTS)}`],
    ['keystrokes replayed', String(keystrokes), `${sources.length} files: ${[...new Set(sources.map((s) => s.languageId))].join(', ')}`],
    ['suggestions shown', String(shown), ''],
    ['keystrokes that needed the model / answered without it', `${neededModel.whole.length} / ${withoutModel.whole.length}`, 'without: cache, typed through, or skipped'],
    ['time to first ghost text p50', fmt(percentile(all.firstText, 50), ' ms'), 'target ≤ 50 ms'],
    ['time to first ghost text p95', fmt(percentile(all.firstText, 95), ' ms'), 'target ≤ 150 ms'],
    ['time to whole suggestion p50', fmt(percentile(all.whole, 50), ' ms'), ''],
    ['time to whole suggestion p95', fmt(percentile(all.whole, 95), ' ms'), ''],
    ['needed the model: first ghost text p50 / p95', `${fmt(percentile(neededModel.firstText, 50), ' ms')} / ${fmt(percentile(neededModel.firstText, 95), ' ms')}`, ''],
    ['needed the model: whole suggestion p50 / p95', `${fmt(percentile(neededModel.whole, 50), ' ms')} / ${fmt(percentile(neededModel.whole, 95), ' ms')}`, ''],
    ['without the model: first ghost text p50 / p95', `${fmt(percentile(withoutModel.firstText, 50), ' ms')} / ${fmt(percentile(withoutModel.firstText, 95), ' ms')}`, ''],
    [`cold completion, ${coldTokens}-token prompt${cold.result.skip ? ` (nothing shown: ${cold.result.skip})` : ''}`, fmt(coldMs, ' ms'), 'target ≤ 400 ms at 1,500 tokens'],
    ['decode', fmt(s['decodeTokensPerSec']!, ' tokens/s'), 'target ≥ 100'],
    ['prefill', fmt(s['prefillTokensPerSec']!, ' tokens/s'), ''],
    ['cache + typed-through + in-flight hit rate', fmt((100 * hits) / Math.max(1, pipeline.stats.requests), ' %'), ''],
    ['KV reuse (prompt tokens not prefilled again)', fmt(100 * s['kvReuseRate']!, ' %'), ''],
    ['worker RSS', worker ? fmt(worker.rssBytes / 2 ** 20, ' MB') : '–', 'target ≤ 400 MB'],
  ];
  if (switched) {
    const note = `${args.switches} switches, ${args.thinkMs} ms from the switch to the keystroke`;
    for (const mode of ['without', 'with'] as const) {
      const r = switched[mode];
      const label = `first keystroke after switching files, ${mode} background prefill`;
      rows.push([`${label}: first ghost text p50 / p95`, pq(r.latencies.firstText), `${note}; ${r.latencies.firstText.length} showed one`]);
      rows.push([`${label}: whole suggestion p50 / p95`, pq(r.latencies.whole), '']);
      rows.push([`${label}: tokens prefilled at the keystroke p50 / p95`, `${percentile(r.prefilled, 50)} / ${percentile(r.prefilled, 95)}`, mode === 'with' ? `background: ${switched.background.sent} prefills, ${switched.background.cancelled} cancelled by the keystroke, ${switched.background.prefilledTokens} tokens` : '']);
    }
  }
  const ar = alternativesInReplay;
  rows.push([
    'alternatives: worker time per keystroke (replay)',
    fmt(ar.ms / Math.max(1, keystrokes), ' ms'),
    `${ALTERNATIVES} per suggestion, decoded after it; ${ar.runs} runs, ${ar.cancelled} cancelled by the next keystroke, ${ar.generatedTokens} tokens, ${ar.offered} kept`,
  ]);
  if (accepts) {
    rows.push(['alternatives: worker time of one undisturbed run p50 / p95', pq(accepts.alternatives.ms), `${accepts.alternatives.ms.length} suggestions; kept after the filters: ${accepts.alternatives.kept.reduce((x, y) => x + y, 0)}`]);
    for (const mode of ['prepared', 'onAsk'] as const) {
      const r = accepts[mode];
      const label = `next suggestion after an accept, ${mode === 'prepared' ? 'prepared at the accept' : 'started when the editor asks'}`;
      rows.push([`${label}: first ghost text p50 / p95`, pq(r.firstText), `from the accept; the editor asks ${ACCEPT_ASK_MS} ms after it; ${r.firstText.length} of ${r.whole.length} showed one`]);
      rows.push([`${label}: whole suggestion p50 / p95`, pq(r.whole), '']);
    }
  }
  console.log('| measure | value | note |\n|---|---|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  const switchJson = (r: SwitchRun) => ({
    samples: r.latencies.whole.length,
    firstTextP50Ms: percentile(r.latencies.firstText, 50),
    firstTextP95Ms: percentile(r.latencies.firstText, 95),
    wholeP50Ms: percentile(r.latencies.whole, 50),
    wholeP95Ms: percentile(r.latencies.whole, 95),
    prefilledTokensP50: percentile(r.prefilled, 50),
    prefilledTokensP95: percentile(r.prefilled, 95),
  });
  const firstKeystrokeAfterSwitch = switched
    ? { switches: args.switches, thinkMs: args.thinkMs, without: switchJson(switched.without), with: switchJson(switched.with), background: switched.background }
    : null;
  if (args.json) {
    const latencyJson = (l: Latencies) => ({ samples: l.whole.length, firstTextP50Ms: percentile(l.firstText, 50), firstTextP95Ms: percentile(l.firstText, 95), wholeP50Ms: percentile(l.whole, 50), wholeP95Ms: percentile(l.whole, 95) });
    const alternatives = {
      count: ALTERNATIVES,
      replay: { ...alternativesInReplay, msPerKeystroke: alternativesInReplay.ms / Math.max(1, keystrokes) },
      undisturbedMsP50: accepts ? percentile(accepts.alternatives.ms, 50) : null,
      undisturbedMsP95: accepts ? percentile(accepts.alternatives.ms, 95) : null,
    };
    const nextAfterAccept = accepts ? { askMs: ACCEPT_ASK_MS, prepared: latencyJson(accepts.prepared), onAsk: latencyJson(accepts.onAsk) } : null;
    fs.writeFileSync(args.json, JSON.stringify({ rows, settings: SHIPPED_DEFAULTS, summary: s, worker, firstKeystrokeAfterSwitch, alternatives, nextAfterAccept, cpu, loadAverage: { before: loadBefore, after: os.loadavg() }, date: new Date().toISOString() }, null, 2));
  }
  await host.stop();
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
