/**
 * `npm run bench`: replays typing of real source files, keystroke by keystroke, through the real pipeline
 * and worker, and prints a table: time to first ghost text, time to the whole suggestion, decode and
 * prefill tokens/s, cache and KV-reuse hit rates, worker RSS, and one cold completion on a long context.
 *
 *   node dist/bench.js [--model DIR] [--threads N] [--keystrokes N] [--json FILE] [--heldout DIR] [FILE ...]
 * Sources, in order: the FILEs given; else held-out files of the corpus (`data/corpus/shards/heldout/
 * <lang>-NNNNN.jsonl.xz`, read with `xz -dc`) in several languages; else some of this repository's sources.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EngineHost } from '../client/engineHost';
import { defaultModel } from '../client/modelCatalog';
import { languageOf } from '../cli/files';
import { CompletionPipeline, type PipelineOptions } from '../completion/pipeline';
import { percentile } from '../completion/stats';
import { detectInsertSpaces } from '../completion/text';

const DEFAULT_FILES = ['src/completion/cache.ts', 'src/worker/session.ts', 'models/ultramem/model.py', 'test/runAll.mjs', 'esbuild.mjs'];
const HELDOUT_LANGS = ['python', 'typescript', 'javascript', 'go', 'rust', 'java', 'c'];
const LANGUAGE_IDS: Record<string, string> = { c: 'c', cpp: 'cpp', go: 'go', java: 'java', javascript: 'javascript', python: 'python', rust: 'rust', typescript: 'typescript' };

interface Args {
  model?: string;
  threads: number;
  keystrokes: number;
  json?: string;
  heldout?: string;
  files: string[];
}

interface Source {
  readonly name: string;
  readonly languageId: string;
  readonly text: string;
}

/** One mid-sized document per language from the corpus's held-out shards. */
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
    for (const line of text.split('\n')) {
      if (!line) continue;
      const doc = JSON.parse(line) as { text: string; path?: string; package?: string };
      if (doc.text.length >= 2000 && doc.text.length <= 20000 && doc.text.split('\n').length >= 40) {
        out.push({ name: `${lang}:${doc.package ?? ''}/${doc.path ?? ''}`, languageId: LANGUAGE_IDS[lang] ?? lang, text: doc.text });
        break;
      }
    }
  }
  return out;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { threads: 0, keystrokes: 240, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--model') a.model = argv[++i];
    else if (arg === '--threads') a.threads = Number(argv[++i]);
    else if (arg === '--keystrokes') a.keystrokes = Number(argv[++i]);
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

const fmt = (v: number, unit = ''): string => (Number.isFinite(v) ? `${v >= 100 ? Math.round(v) : v.toFixed(1)}${unit}` : '–');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.join(__dirname, '..');
  const modelDir = args.model ? path.resolve(args.model) : defaultModel(path.join(root, 'models'))?.dir;
  if (!modelDir) throw new Error('no model: pass --model DIR');
  const fromFiles = (files: string[]): Source[] =>
    files.filter((f) => fs.existsSync(f)).map((f) => ({ name: path.relative(root, f) || f, languageId: languageOf(f), text: fs.readFileSync(f, 'utf8') }));
  let sources = args.files.length ? fromFiles(args.files) : heldoutSources(args.heldout ?? path.join(root, 'data', 'corpus', 'shards', 'heldout'));
  if (sources.length === 0) sources = fromFiles(DEFAULT_FILES.map((f) => path.join(root, f)));
  const host = new EngineHost({ threads: () => args.threads });
  const info = await host.load(modelDir);
  const options: PipelineOptions = { maxPromptTokens: 1024, maxTokens: 64, maxLines: 8, neighbourSnippets: false, contextLength: info.contextLength,
    fimTemplate: info.fimTemplate };
  const pipeline = new CompletionPipeline(host, () => options);

  const firstText: number[] = [];
  const whole: number[] = [];
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
        const req = { prefix: before + line.slice(0, c), suffix: after, languageId: source.languageId, path: source.name, tabSize: 4, insertSpaces, trigger: 'automatic' as const };
        const t0 = performance.now();
        const a = await pipeline.complete(req, { early: true, noDebounce: true });
        if (!a.result.isEmpty) {
          firstText.push(performance.now() - t0);
          shown++;
        }
        await pipeline.idle();
        whole.push(performance.now() - t0);
      }
    }
  }

  // A cold completion on a long context (1,500 tokens, or what the model's context allows).
  const longTokens = Math.min(1500, info.contextLength - options.maxTokens - 16);
  const corpus = sources.map((s) => s.text).join('\n').replace(/\r\n/g, '\n');
  pipeline.reset();
  const coldPipeline = new CompletionPipeline(host, () => ({ ...options, maxPromptTokens: longTokens }));
  const prefix = corpus.slice(0, Math.min(corpus.length, longTokens * 4));
  const tCold = performance.now();
  const cold = await coldPipeline.complete({ prefix: prefix.slice(0, prefix.lastIndexOf('\n') + 1), suffix: '\n', languageId: 'typescript', path: 'cold.ts', tabSize: 4, insertSpaces: true, trigger: 'manual' }, { noDebounce: true });
  const coldMs = performance.now() - tCold;

  const s = pipeline.stats.summary();
  const worker = await host.stats();
  const hits = pipeline.stats.cacheHits + pipeline.stats.typedThroughHits + pipeline.stats.inflightReuse;
  const rows: [string, string, string][] = [
    ['model', `${info.name} (${info.graph}, ${info.threads} threads)`, ''],
    ['keystrokes replayed', String(keystrokes), `${sources.length} files: ${[...new Set(sources.map((s) => s.languageId))].join(', ')}`],
    ['suggestions shown', String(shown), ''],
    ['time to first ghost text p50', fmt(percentile(firstText, 50), ' ms'), 'target ≤ 50 ms'],
    ['time to first ghost text p95', fmt(percentile(firstText, 95), ' ms'), 'target ≤ 150 ms'],
    ['time to whole suggestion p50', fmt(percentile(whole, 50), ' ms'), ''],
    ['time to whole suggestion p95', fmt(percentile(whole, 95), ' ms'), ''],
    [`cold completion, ${cold.result.timings?.promptTokens ?? '?'}-token prompt`, fmt(coldMs, ' ms'), 'target ≤ 400 ms at 1,500 tokens'],
    ['decode', fmt(s['decodeTokensPerSec']!, ' tokens/s'), 'target ≥ 100'],
    ['prefill', fmt(s['prefillTokensPerSec']!, ' tokens/s'), ''],
    ['cache + typed-through + in-flight hit rate', fmt((100 * hits) / Math.max(1, pipeline.stats.requests), ' %'), ''],
    ['KV reuse (prompt tokens not prefilled again)', fmt(100 * s['kvReuseRate']!, ' %'), ''],
    ['worker RSS', worker ? fmt(worker.rssBytes / 2 ** 20, ' MB') : '–', 'target ≤ 400 MB'],
  ];
  console.log('| measure | value | note |\n|---|---|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ rows, summary: s, worker, date: new Date().toISOString() }, null, 2));
  await host.stop();
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
