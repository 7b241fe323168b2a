/**
 * Keeps one worker process alive with a model loaded: starts it, loads (and switches) models, restarts it
 * when it crashes or hangs, and serves the pipeline's CompletionBackend.
 * The model that serves keeps serving until a new one has loaded: a failed switch (a broken folder, a load that
 * times out) leaves it in place. A worker that dies is restarted at once and reloads the serving model; only
 * restarts that fail in a row back off (exponentially), and after MAX_RESTARTS of them the engine gives up in a
 * 'modelError' state. A load failure of a folder with no model serving is not retried: it is 'modelError' too.
 * No `vscode` import; the extension, CLI and bench share it.
 */
import type { CompletionBackend } from '../completion/pipeline';
import type { AlternativesParams, AlternativesResult, CompleteParams, CompleteResult, ModelInfo, PrefillParams, PrefillResult, WireError, WorkerStats } from '../shared/protocol';
import { isWorkerRequestError, WorkerClient, WorkerGoneError, WorkerRequestError } from './workerClient';

export type EngineState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'starting'; readonly modelDir: string }
  | { readonly kind: 'ready'; readonly model: ModelInfo }
  | { readonly kind: 'restarting'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'modelError'; readonly modelDir: string; readonly error: WireError };

export interface EngineHostOptions {
  readonly workerPath?: string;
  readonly threads?: () => number;
  readonly log?: (level: string, message: string) => void;
  readonly onState?: (state: EngineState) => void;
  /** A completion with no progress (no partial, no answer) for this long is a hang: the worker is restarted. */
  readonly hangMs?: number;
  /** A load (worker start included) that takes longer than this fails with LOAD_TIMEOUT and the worker is restarted. */
  readonly loadTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export class EngineNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineNotReadyError';
  }
}

/** Restarts in a row that fail before the engine stops trying. */
export const MAX_RESTARTS = 5;

export class EngineHost implements CompletionBackend {
  private worker: WorkerClient | null = null;
  /** The folder a restarted worker loads: the serving model's, or while none serves, the one being loaded. */
  private modelDir: string | null = null;
  private model: ModelInfo | null = null;
  /** The worker process that loaded `model` (a restarted one holds no model until it reloads). */
  private modelWorker: WorkerClient | null = null;
  /** Restarts since the last successful load. */
  private attempt = 0;
  /** Counts load() calls, and the number of the one whose model serves: an earlier one may not replace it. */
  private loads = 0;
  private installedLoad = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private current: EngineState = { kind: 'stopped' };
  restarts = 0;
  /** Counts the models installed (restarts' reloads too): each starts with an empty KV cache. */
  cacheEpoch = 0;

  constructor(private readonly opts: EngineHostOptions = {}) {}

  get state(): EngineState {
    return this.current;
  }

  get modelInfo(): ModelInfo | null {
    return this.model;
  }

  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  private setState(s: EngineState): void {
    this.current = s;
    this.opts.onState?.(s);
  }

  private log(level: string, message: string): void {
    this.opts.log?.(level, message);
  }

  private spawn(): WorkerClient {
    const w = new WorkerClient({
      ...(this.opts.workerPath ? { workerPath: this.opts.workerPath } : {}),
      ...(this.opts.env ? { env: this.opts.env } : {}),
      onLog: (level, message) => this.log(level, `[worker] ${message}`),
      onExit: (code, signal) => this.onExit(w, code, signal),
    });
    return w;
  }

  private onExit(w: WorkerClient, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.worker !== w) return;
    this.worker = null;
    if (this.stopping) return;
    const reason = `worker exited (code ${code}, signal ${signal})`;
    this.log('warn', reason);
    if (!this.modelDir || this.current.kind === 'modelError') return;
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string): void {
    if (this.restartTimer) return;
    const dir = this.modelDir;
    if (!dir) return;
    this.attempt++;
    if (this.attempt > MAX_RESTARTS) {
      this.model = null;
      this.setState({ kind: 'modelError', modelDir: dir, error: { code: 'INTERNAL', message: `the worker exited ${MAX_RESTARTS} times in a row while loading ${dir} (last: ${reason})` } });
      return;
    }
    // The first restart after a healthy run is immediate; only a worker that keeps failing to come back waits.
    const base = this.opts.backoffBaseMs ?? 500;
    const delayMs = this.attempt === 1 ? 0 : Math.min(this.opts.backoffMaxMs ?? 30_000, base * 2 ** (this.attempt - 2));
    this.setState({ kind: 'restarting', attempt: this.attempt, delayMs, reason });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      if (!this.stopping) this.load(dir).catch((e: unknown) => this.log('error', `restart failed: ${(e as Error).message}`));
    }, delayMs);
  }

  /** The worker's load answer, or LOAD_TIMEOUT (the worker is then killed: a stuck read cannot be abandoned otherwise). */
  private loadWithin(w: WorkerClient, modelDir: string): Promise<ModelInfo> {
    const ms = this.opts.loadTimeoutMs ?? 60_000;
    return new Promise<ModelInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new WorkerRequestError({ code: 'LOAD_TIMEOUT', message: `Model folder ${modelDir} did not load within ${ms / 1000} s` }));
        w.kill();
      }, ms);
      w.ready
        .then(() => w.request('load', { modelDir, threads: this.opts.threads?.() ?? 0 }))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /**
   * Loads a model folder, starting the worker if needed. The old model serves until the new one is ready, and
   * keeps serving when the new one fails; the error is thrown for the caller to report.
   */
  async load(modelDir: string): Promise<ModelInfo> {
    this.stopping = false;
    const seq = ++this.loads;
    if (!this.worker || !this.worker.alive) this.worker = this.spawn();
    const w = this.worker;
    if (!this.model) {
      this.modelDir = modelDir;
      this.setState({ kind: 'starting', modelDir });
    }
    try {
      const info = await this.loadWithin(w, modelDir);
      if (seq > this.installedLoad) {
        this.installedLoad = seq;
        this.model = info;
        this.modelWorker = w;
        this.modelDir = modelDir;
        this.attempt = 0;
        this.cacheEpoch++;
        this.setState({ kind: 'ready', model: info });
      }
      return info;
    } catch (e) {
      // A model error while this worker still serves a model changes nothing; with none serving (a first load, a
      // restart) it is final. A timeout is not: the worker was killed, and the restarts (at most MAX_RESTARTS) retry.
      const serving = this.model !== null && this.modelWorker === w && w.alive;
      const final = isWorkerRequestError(e) && e.code !== 'LOAD_TIMEOUT' && !serving;
      if (seq === this.loads && final) {
        this.model = null;
        this.setState({ kind: 'modelError', modelDir, error: e.wire });
      }
      throw e;
    }
  }

  async complete(params: CompleteParams, opts: { signal: AbortSignal; onPartial: (text: string) => void }): Promise<CompleteResult> {
    const w = this.worker;
    if (!w || !w.alive || this.current.kind !== 'ready') throw new EngineNotReadyError(`engine is ${this.current.kind}`);
    const hangMs = this.opts.hangMs ?? 15_000;
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        this.log('error', `worker made no progress for ${hangMs} ms: restarting it`);
        w.kill();
      }, hangMs);
    };
    arm();
    try {
      return await w.request('complete', params, {
        signal: opts.signal,
        onPartial: (p) => {
          arm();
          opts.onPartial(p.text);
        },
      });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * A background prefill (protocol `prefill`): the worker runs it when nothing else is waiting and any later request
   * cancels it. No hang watchdog: the next completion arms its own.
   */
  async prefill(params: PrefillParams, opts: { signal: AbortSignal }): Promise<PrefillResult> {
    const w = this.worker;
    if (!w || !w.alive || this.current.kind !== 'ready') throw new EngineNotReadyError(`engine is ${this.current.kind}`);
    return w.request('prefill', params, { signal: opts.signal });
  }

  /** Alternatives to a completion (protocol `alternatives`): background work like prefill, which any later request cancels. */
  async alternatives(params: AlternativesParams, opts: { signal: AbortSignal }): Promise<AlternativesResult> {
    const w = this.worker;
    if (!w || !w.alive || this.current.kind !== 'ready') throw new EngineNotReadyError(`engine is ${this.current.kind}`);
    return w.request('alternatives', params, { signal: opts.signal });
  }

  /** Empties the worker's KV cache (protocol `resetCache`): the benchmark's cold prompt starts from nothing. */
  async resetCache(): Promise<void> {
    const w = this.worker;
    if (!w || !w.alive || this.current.kind !== 'ready') throw new EngineNotReadyError(`engine is ${this.current.kind}`);
    await w.request('resetCache', {});
  }

  async stats(): Promise<WorkerStats | null> {
    try {
      return (await this.worker?.request('stats', {})) ?? null;
    } catch {
      return null;
    }
  }

  /** Kills the worker (tests of the restart path, and the 'restart' command). */
  kill(): void {
    this.worker?.kill();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const w = this.worker;
    this.worker = null;
    this.model = null;
    if (w) await w.stop();
    this.setState({ kind: 'stopped' });
  }
}

export const isEngineNotReady = (e: unknown): e is EngineNotReadyError => e instanceof EngineNotReadyError;
export { WorkerGoneError };
