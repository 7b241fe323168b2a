/**
 * The model worker process (started with child_process.fork). It owns the model and serves the protocol
 * in src/shared/protocol.ts over Node IPC. Requests run one at a time, in arrival order; a newer `complete` or
 * `generateIds` cancels the running one, and a `cancel` message cancels a request by id. A `prefill` (background
 * prefill) or `alternatives` waits behind the requests queued before it and is cancelled by any request that arrives
 * after it (a newer one too), running or queued: it stops at its next chunk boundary or decode step, so it never holds a request
 * up by more than one of those.
 * A `load` runs beside them: the current model keeps answering until the new one is checked and warmed up,
 * then replaces it between two requests. Of loads that overlap, a later one replaces an earlier one, never the
 * other way round; one that fails leaves whatever serves in place.
 */
import { Engine } from './engine';
import { toWireError, WorkerError } from './errors';
import {
  isHostMessage,
  PROTOCOL_VERSION,
  type AlternativesParams,
  type CompleteParams,
  type GenerateIdsParams,
  type HostMessage,
  type LoadParams,
  type PrefillParams,
  type TokenizeParams,
  type WorkerMessage,
} from '../shared/protocol';

// Belt and braces: the host sets this in our environment before onnxruntime is loaded.
process.env['ORT_DISABLE_TELEMETRY'] = '1';

type Request = Extract<HostMessage, { type: 'request' }>;

let engine: Engine | null = null;
/** Engines replaced by a load while a request may still be using them; released once no request runs. */
const retired: Engine[] = [];
/** Counts load requests, and the number of the one whose engine serves: an earlier one may not replace it. */
let loads = 0;
let installed = 0;
const queue: Request[] = [];
const cancelled = new Set<number>();
let running: Request | null = null;
let draining = false;

function send(msg: WorkerMessage): void {
  if (process.connected) process.send?.(msg);
}

function log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
  send({ type: 'log', level, message });
}

function needEngine(): Engine {
  if (!engine) throw new WorkerError('NO_MODEL', 'No model is loaded; send load first');
  return engine;
}

const isDecoding = (r: Request): boolean => r.method === 'complete' || r.method === 'generateIds';
/** Background work (a prefill, alternatives) gives way to any request that comes after it. */
const isBackground = (r: Request): boolean => r.method === 'prefill' || r.method === 'alternatives';

async function handle(req: Request): Promise<unknown> {
  const control = {
    isCancelled: () => cancelled.has(req.id),
    onPartial: (() => {
      let seq = 0;
      return (text: string, tokens: number) => send({ type: 'partial', id: req.id, seq: seq++, text, tokens });
    })(),
  };
  switch (req.method) {
    case 'complete':
      return needEngine().complete(req.params as CompleteParams, control);
    case 'generateIds':
      return needEngine().generateIds(req.params as GenerateIdsParams, control);
    case 'prefill':
      return needEngine().prefillPrompt(req.params as PrefillParams, control);
    case 'alternatives':
      return needEngine().alternatives(req.params as AlternativesParams, control);
    case 'tokenize':
      return { ids: await needEngine().tokenize((req.params as TokenizeParams).text) };
    case 'stats':
      return engine
        ? engine.stats()
        : {
            pid: process.pid, rssBytes: process.memoryUsage.rss(), model: null, cachedTokens: 0, kvBytes: 0, requests: 0, promptTokens: 0, reusedTokens: 0,
            generatedTokens: 0, prefillMs: 0, decodeMs: 0, backgroundPrefills: 0, backgroundPrefillsCancelled: 0, backgroundPrefilledTokens: 0,
          };
    case 'resetCache':
      needEngine().resetCache();
      return {};
    case 'shutdown':
      setTimeout(() => void shutdown(0), 0);
      return {};
    default:
      throw new WorkerError('BAD_REQUEST', `unknown method ${String(req.method)}`);
  }
}

async function releaseRetired(): Promise<void> {
  if (running) return; // drain calls again once the running request is done with it
  for (const old of retired.splice(0)) await old.release().catch((e: unknown) => log('warn', `releasing a replaced model: ${(e as Error).message}`));
}

async function load(params: LoadParams): Promise<Engine['info']> {
  const seq = ++loads;
  const next = await Engine.load(params);
  if (seq < installed) {
    await next.release();
    throw new WorkerError('BAD_REQUEST', `the load of ${params.modelDir} was superseded by a later load`);
  }
  installed = seq;
  if (engine) retired.push(engine);
  engine = next;
  void releaseRetired();
  return next.info;
}

/** Answers a request with its result or its error. */
async function answer(req: Request, run: () => Promise<unknown>): Promise<void> {
  try {
    send({ type: 'response', id: req.id, result: await run() });
  } catch (e) {
    send({ type: 'error', id: req.id, error: toWireError(e) });
  }
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      const req = queue.shift()!;
      running = req;
      try {
        await answer(req, () => handle(req));
      } finally {
        cancelled.delete(req.id);
        running = null;
      }
      await releaseRetired();
    }
  } finally {
    draining = false;
  }
}

async function shutdown(code: number): Promise<void> {
  try {
    await engine?.release();
  } catch {
    // exiting anyway
  }
  process.exit(code);
}

process.on('message', (raw: unknown) => {
  if (!isHostMessage(raw)) {
    log('warn', `ignored a malformed message: ${JSON.stringify(raw).slice(0, 200)}`);
    return;
  }
  if (raw.type === 'request' && raw.method === 'load') {
    void answer(raw, () => load(raw.params as LoadParams));
    return;
  }
  if (raw.type === 'cancel') {
    if (running?.id === raw.id || queue.some((q) => q.id === raw.id)) cancelled.add(raw.id);
    return;
  }
  if (running && isBackground(running)) cancelled.add(running.id);
  for (const q of queue) if (isBackground(q)) cancelled.add(q.id);
  if (isDecoding(raw) || raw.method === 'shutdown') {
    // Newest wins: a new decoding request (or shutdown) supersedes the running one and any queued ones.
    if (running && isDecoding(running)) cancelled.add(running.id);
    for (const q of queue) if (isDecoding(q)) cancelled.add(q.id);
  }
  queue.push(raw);
  void drain();
});

// The host went away: nobody can read our answers.
process.on('disconnect', () => void shutdown(0));

send({ type: 'ready', protocol: PROTOCOL_VERSION, pid: process.pid });
