/**
 * `npm run soak`: keystrokes through the real pipeline and worker for a while, with random cancels, supersession
 * (typing on before the answer comes) and hostile text; with --faults it also kills the worker (SIGKILL), stops it
 * (SIGSTOP, then SIGCONT) and switches to broken model folders at random. It checks that every request is answered
 * exactly once, that the text the worker streams for a completion only grows (outOfOrder counts a partial that does
 * not extend the last one, or a result that does not extend its partials), that a failed switch leaves the model
 * serving, and measures how long the engine takes to serve again after a kill -9. Prints (and with --json writes) one JSON object:
 * {"requests", "lost", "duplicated", "outOfOrder", "workerExits", "recoveryP95Ms", "rssStartMb", "rssEndMb", ...}.
 * Exits 1 when something was lost, duplicated or out of order, a failed switch lost the model, or the recovery p95
 * is over --max-recovery-ms.
 *
 *   node dist/soak.js --seconds N [--faults] [--model DIR] [--json FILE] [--seed N] [--threads N] [--max-recovery-ms N]
 *                     [--hang-ms N]   (the hang watchdog, default the extension's 15 s; a SIGSTOP outlasts it at times)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EngineHost } from '../client/engineHost';
import { defaultModel } from '../client/modelCatalog';
import { languageOf, numberOption } from '../cli/files';
import { SHIPPED_DEFAULTS } from '../completion/defaults';
import { CompletionPipeline, type CompletionBackend, type PipelineAnswer, type PipelineOptions } from '../completion/pipeline';
import { percentile } from '../completion/stats';
import type { CompletionRequest } from '../completion/types';
import type { CompleteParams, CompleteResult } from '../shared/protocol';

interface Args {
  seconds: number;
  faults: boolean;
  model?: string;
  json?: string;
  seed: number;
  threads: number;
  maxRecoveryMs: number;
  hangMs: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 60, faults: false, seed: 1, threads: 1, maxRecoveryMs: Infinity, hangMs: 15_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const num = (): number => numberOption(arg, argv[++i]);
    if (arg === '--seconds') a.seconds = num();
    else if (arg === '--faults') a.faults = true;
    else if (arg === '--model') a.model = argv[++i];
    else if (arg === '--json') a.json = argv[++i];
    else if (arg === '--seed') a.seed = num();
    else if (arg === '--threads') a.threads = num();
    else if (arg === '--max-recovery-ms') a.maxRecoveryMs = num();
    else if (arg === '--hang-ms') a.hangMs = num();
    else throw new Error(`unknown argument ${arg}`);
  }
  return a;
}

/** mulberry32: a small seeded generator, so a run can be repeated. */
function randomFrom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Text that has broken editors and tokenizers: control characters, special-token spellings, lone surrogates, long lines. */
const HOSTILE = [
  '\u0000',
  '<|fim_prefix|><|fim_middle|><|endoftext|>',
  '\ud800',
  '\udfff x',
  '😀 日本語 Größe',
  '\r',
  '\r\n',
  'x'.repeat(2500),
  '(((((((((([[[[[[{{{{{{',
  ')]}',
  `var a=${'x,'.repeat(600)};`,
  '\t\t\t\t',
  '',
];

/** Counts what the worker streams for each completion: partials after the answer, partials that do not extend the last. */
class CheckedBackend implements CompletionBackend {
  calls = 0;
  settled = 0;
  duplicated = 0;
  outOfOrder = 0;

  constructor(private readonly inner: CompletionBackend) {}

  async complete(params: CompleteParams, opts: { signal: AbortSignal; onPartial: (text: string) => void }): Promise<CompleteResult> {
    this.calls++;
    let last = '';
    let done = false;
    try {
      const r = await this.inner.complete(params, {
        signal: opts.signal,
        onPartial: (text) => {
          if (done) this.duplicated++;
          else if (!text.startsWith(last)) this.outOfOrder++;
          last = text;
          opts.onPartial(text);
        },
      });
      if (!r.text.startsWith(last)) this.outOfOrder++;
      return r;
    } finally {
      done = true;
      this.settled++;
    }
  }
}

/** Model folders that must fail to load, each in its own way, made from copies of the good one. */
function brokenFolders(root: string, good: string): string[] {
  /** `manifest` edits the manifest before it is written back; `files` then changes files (manifest.json too). */
  const copy = (name: string, manifest: (m: Record<string, unknown>) => void, files: (dir: string, m: Record<string, unknown>) => void = () => undefined): string => {
    const dir = path.join(root, name);
    fs.cpSync(good, dir, { recursive: true });
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    manifest(m);
    fs.writeFileSync(file, JSON.stringify(m));
    files(dir, m);
    return dir;
  };
  const unchanged = (): void => undefined;
  const bigFile = 64 * 2 ** 30;
  return [
    copy('not-json', unchanged, (dir) => fs.writeFileSync(path.join(dir, 'manifest.json'), '{"format": ')),
    copy('no-tokenizer', unchanged, (dir, m) => fs.rmSync(path.join(dir, m['tokenizer'] as string))),
    copy('wrong-hash', unchanged, (dir, m) => {
      const f = path.join(dir, m['config'] as string);
      const b = fs.readFileSync(f);
      b[0] = b[0] === 0x20 ? 0x09 : 0x20;
      fs.writeFileSync(f, b);
    }),
    copy('huge-vocab', (m) => (m['vocabSize'] = 6e8)),
    copy('million-layers', (m) => ((m['kvCache'] as Record<string, number>)['numLayers'] = 1e6)),
    copy('huge-context', (m) => (m['contextLength'] = 1e9)),
    copy('fifo-manifest', unchanged, (dir) => {
      fs.rmSync(path.join(dir, 'manifest.json'));
      spawnSync('mkfifo', [path.join(dir, 'manifest.json')]);
    }),
    // a load that outlasts the load timeout: a sparse file that takes far longer to hash
    copy(
      'never-loads',
      (m) => ((m['files'] as Record<string, unknown>)['big.bin'] = { bytes: bigFile, sha256: '0'.repeat(64) }),
      (dir) => {
        fs.writeFileSync(path.join(dir, 'big.bin'), '');
        fs.truncateSync(path.join(dir, 'big.bin'), bigFile);
      },
    ),
  ];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.join(__dirname, '..');
  const modelDir = args.model ? path.resolve(args.model) : (await defaultModel(path.join(root, 'models')))?.dir;
  if (!modelDir) throw new Error('no model: pass --model DIR');
  const random = randomFrom(args.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  let workerExits = 0;
  /** Times the engine stopped trying (modelError): the soak then reloads the model, as a user would switch back. */
  const gaveUp: string[] = [];
  const host = new EngineHost({
    threads: () => args.threads,
    hangMs: args.hangMs,
    // long enough for the shipped model on a busy machine; the never-loading folder takes minutes
    loadTimeoutMs: 30_000,
    log: (level, message) => {
      if (message.startsWith('worker exited')) workerExits++;
      if (process.env['ULTRAMEM_SOAK_VERBOSE']) console.error(`${new Date().toISOString()} ${level} ${message}`);
    },
    onState: (s) => {
      if (s.kind === 'modelError') gaveUp.push(`${s.modelDir}: ${s.error.code} ${s.error.message}`);
      if (process.env['ULTRAMEM_SOAK_VERBOSE']) console.error(`${new Date().toISOString()} state ${JSON.stringify(s).slice(0, 300)}`);
    },
  });
  const info = await host.load(modelDir);
  const backend = new CheckedBackend(host);
  const options: PipelineOptions = { ...SHIPPED_DEFAULTS, neighbourSnippets: false, contextLength: info.contextLength, fimTemplate: info.fimTemplate };
  const pipeline = new CompletionPipeline(backend, () => options);

  const docs = ['src/completion/pipeline.ts', 'src/shared/stopRules.ts', 'test/fixtures/workspace/stats.py', 'test/fixtures/workspace/shapes.ts', 'models/ultramem/model.py']
    .map((f) => path.join(root, f))
    .filter((f) => fs.existsSync(f))
    .map((f) => ({ file: f, text: fs.readFileSync(f, 'utf8') }));
  if (docs.length === 0) throw new Error(`no documents to type under ${root}`);

  let requests = 0;
  let unsettled = 0;
  let shrunk = 0;
  const skips: Record<string, number> = {};
  const asked = (req: CompletionRequest, opts: Parameters<CompletionPipeline['complete']>[1]): Promise<PipelineAnswer> => {
    requests++;
    unsettled++;
    return pipeline.complete(req, opts).then((a) => {
      unsettled--;
      const why = a.result.skip ?? a.result.source;
      skips[why] = (skips[why] ?? 0) + 1;
      return a;
    });
  };

  /** One typing session: a line of a document typed anew (the rest of the document after it), each keystroke asked
   * without waiting for the answer to the last, some cancelled. */
  let activeSessions = 0;
  let sessionsStarted = 0;
  const typeSession = async (): Promise<void> => {
    activeSessions++;
    sessionsStarted++;
    try {
      await typeLine();
    } finally {
      activeSessions--;
    }
  };
  const typeLine = async (): Promise<void> => {
    const doc = pick(docs);
    const lines = doc.text.split('\n');
    const row = Math.floor(random() * lines.length);
    const line = lines[row]!;
    const indent = /^\s*/.exec(line)![0];
    const before = `${lines.slice(0, row).join('\n')}${row > 0 ? '\n' : ''}${indent}`;
    const hostile = random() < 0.3 ? pick(HOSTILE) : '';
    const typed = hostile ? `${line.slice(indent.length, indent.length + 3)}${hostile}${line.slice(indent.length + 3)}` : line.slice(indent.length);
    const after = `\n${lines.slice(row + 1).join('\n')}`;
    const keys = Math.min(typed.length, 1 + Math.floor(random() * 12));
    const start = Math.floor(random() * (typed.length - keys + 1));
    let latest = 0;
    const pending: Promise<unknown>[] = [];
    for (let k = start; k <= start + keys; k++) {
      const key = ++latest;
      const req: CompletionRequest = {
        prefix: before + typed.slice(0, k),
        suffix: after,
        languageId: languageOf(doc.file),
        path: doc.file,
        tabSize: 4,
        insertSpaces: true,
        trigger: random() < 0.2 ? 'manual' : 'automatic',
        ...(random() < 0.02 ? { documentLength: 6_000_000 } : {}),
      };
      const controller = new AbortController();
      if (random() < 0.25) setTimeout(() => controller.abort(), Math.floor(random() * 40));
      // As the provider does: when the pipeline says the answer would grow, ask again for the same keystroke while it
      // is the latest. What is shown must only grow, unless another session's request took the generation meanwhile
      // (sessions overlap here; in an editor one has the focus).
      const ask = async (): Promise<void> => {
        let shown = '';
        for (;;) {
          let updated = (): void => undefined;
          const update = new Promise<boolean>((resolve) => (updated = () => resolve(true)));
          const others = sessionsStarted;
          const alone = activeSessions === 1;
          const a = await asked(req, { signal: controller.signal, early: true, onUpdate: () => updated() });
          const got = a.result.text;
          if (alone && sessionsStarted === others && shown && got && !got.startsWith(shown.trimEnd())) shrunk++;
          if (got) shown = got;
          if (!a.streaming) return;
          // no update before the generation ends: nothing to ask again for
          if (!(await Promise.race([update, pipeline.idle().then(() => false)]))) return;
          if (key !== latest || controller.signal.aborted) return;
        }
      };
      pending.push(ask());
      await sleep(Math.floor(random() * 200));
    }
    await Promise.all(pending);
  };

  const recoveries: number[] = [];
  const faults = { kills: 0, stops: 0, brokenSwitches: 0, switches: 0, modelLostOnFailedSwitch: 0 };
  let recovering = false;
  /** The time from a kill -9 to the next good completion: probes (each a new prompt) until the model answers one. */
  const measureRecovery = async (t0: number): Promise<void> => {
    const down = new Set(['workerError', 'noModel', 'cancelled']);
    for (let n = 0; ; n++) {
      if (host.state.kind === 'modelError') {
        await host.load(modelDir).catch(() => undefined);
        continue;
      }
      const probe: CompletionRequest = { prefix: `// probe ${t0} ${n}\nconst total = `, suffix: ';\n', languageId: 'typescript', path: 'probe.ts', tabSize: 2, insertSpaces: true, trigger: 'manual' };
      const r = (await asked(probe, { noDebounce: true })).result;
      if (!down.has(r.skip ?? '')) break;
      await sleep(20);
    }
    recoveries.push(performance.now() - t0);
  };

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-soak-'));
  // an interrupted run removes its broken folders too (the worker exits with us: it watches the IPC channel)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const broken = args.faults ? brokenFolders(tmp, modelDir) : [];
  const injectFault = async (): Promise<void> => {
    const roll = random();
    const pid = host.workerPid;
    if (roll < 0.5 && pid) {
      faults.kills++;
      recovering = true;
      const t0 = performance.now();
      process.kill(pid, 'SIGKILL');
      await measureRecovery(t0);
      recovering = false;
    } else if (roll < 0.65 && pid) {
      faults.stops++;
      process.kill(pid, 'SIGSTOP');
      // mostly a short stop the engine rides out; at times one the hang watchdog must end
      await sleep(random() < 0.7 ? 200 + Math.floor(random() * 2000) : args.hangMs + 500);
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // the hang watchdog killed it meanwhile
      }
    } else if (roll < 0.95) {
      faults.brokenSwitches++;
      const before = host.modelInfo?.dir;
      await host.load(pick(broken)).then(
        () => undefined,
        () => undefined,
      );
      const deadline = performance.now() + 30_000;
      while (host.state.kind !== 'ready' && host.state.kind !== 'modelError' && performance.now() < deadline) await sleep(50);
      if (host.modelInfo?.dir !== before) faults.modelLostOnFailedSwitch++;
    } else {
      faults.switches++;
      await host.load(modelDir).catch(() => undefined);
    }
  };

  /** The worker's RSS with the model loaded (waits for a restart to finish, and for a worker that a fault just
   * stopped to be replaced and answer, at most 60 s). */
  const stats = async (): Promise<number> => {
    const deadline = performance.now() + 60_000;
    for (;;) {
      while (host.state.kind !== 'ready' && performance.now() < deadline) await sleep(50);
      const rss = (await host.stats())?.rssBytes ?? 0;
      if (rss > 0 || performance.now() >= deadline) return rss / 2 ** 20;
      await sleep(100);
    }
  };
  const t0 = performance.now();
  const end = t0 + args.seconds * 1000;
  const warmUpEnd = t0 + Math.min(10_000, args.seconds * 100);
  let rssStartMb = 0;
  let hostRssStartMb = 0;
  const sessions: Promise<void>[] = [];
  let nextFault = t0 + 2000 + random() * 3000;
  let faultRunning: Promise<void> | null = null;
  while (performance.now() < end) {
    if (!rssStartMb && performance.now() > warmUpEnd) {
      rssStartMb = await stats();
      hostRssStartMb = process.memoryUsage.rss() / 2 ** 20;
    }
    if (args.faults && !faultRunning && performance.now() > nextFault) {
      faultRunning = injectFault().finally(() => {
        faultRunning = null;
        nextFault = performance.now() + 1500 + random() * 3500;
      });
    }
    if (recovering) {
      await sleep(20);
      continue;
    }
    if (host.state.kind === 'modelError') await host.load(modelDir).catch(() => undefined);
    // mostly one session after another; sometimes a second one starts while the first still types
    const session = typeSession();
    sessions.push(session);
    if (random() < 0.7) await session;
    await sleep(Math.floor(random() * 150));
  }
  await faultRunning;
  // Every request must be answered: one still open 30 s after the run is lost.
  await Promise.race([Promise.all(sessions), sleep(30_000)]);
  const rssEndMb = await stats();
  const hostRssEndMb = process.memoryUsage.rss() / 2 ** 20;
  await host.stop();
  fs.rmSync(tmp, { recursive: true, force: true });

  const round = (v: number): number => Math.round(v * 10) / 10;
  const report = {
    requests,
    lost: unsettled + (backend.calls - backend.settled),
    duplicated: backend.duplicated,
    outOfOrder: backend.outOfOrder,
    workerExits,
    recoveryP95Ms: recoveries.length ? Math.round(percentile(recoveries, 95)) : null,
    rssStartMb: round(rssStartMb),
    rssEndMb: round(rssEndMb),
    seconds: args.seconds,
    model: info.name,
    seed: args.seed,
    faults: args.faults ? faults : null,
    recoveries: recoveries.length,
    recoveryMaxMs: recoveries.length ? Math.round(Math.max(...recoveries)) : null,
    hostRssStartMb: round(hostRssStartMb),
    hostRssEndMb: round(hostRssEndMb),
    // the pipeline's answers for one keystroke, asked again on its updates, that did not extend the last one shown
    // (not counted as out of order: the worker's stream for each completion is what that counts)
    shownShrank: shrunk,
    // the engine stopped trying to load (modelError) with a good model: each is a failure
    engineGaveUp: gaveUp,
    answers: skips,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  if (args.json) fs.writeFileSync(args.json, `${json}\n`);
  const failed =
    report.lost > 0 ||
    report.duplicated > 0 ||
    report.outOfOrder > 0 ||
    faults.modelLostOnFailedSwitch > 0 ||
    gaveUp.length > 0 ||
    (report.recoveryP95Ms !== null && report.recoveryP95Ms > args.maxRecoveryMs);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`soak: ${(e as Error).stack ?? String(e)}`);
    process.exit(2);
  },
);
