/**
 * Keeps one worker process alive with a model loaded: starts it, loads (and switches) models, restarts it
 * with exponential backoff when it crashes or hangs, and serves the pipeline's CompletionBackend.
 * A load failure (missing or corrupt model) is not retried: it is reported once as a 'modelError' state.
 * No `vscode` import; the extension, CLI and bench share it.
 */
import type { CompletionBackend } from '../completion/pipeline';
import type { CompleteParams, CompleteResult, ModelInfo, WireError, WorkerStats } from '../worker/protocol';
import { isWorkerRequestError, WorkerClient, WorkerGoneError } from './workerClient';

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

export class EngineHost implements CompletionBackend {
  private worker: WorkerClient | null = null;
  private modelDir: string | null = null;
  private model: ModelInfo | null = null;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private current: EngineState = { kind: 'stopped' };
  restarts = 0;

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
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.attempt++;
    const base = this.opts.backoffBaseMs ?? 500;
    const delayMs = Math.min(this.opts.backoffMaxMs ?? 30_000, base * 2 ** (this.attempt - 1));
    this.setState({ kind: 'restarting', attempt: this.attempt, delayMs, reason });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      const dir = this.modelDir;
      if (dir && !this.stopping) this.load(dir).catch((e: unknown) => this.log('error', `restart failed: ${(e as Error).message}`));
    }, delayMs);
  }

  /** Loads a model folder, starting the worker if needed. The old model serves until the new one is ready. */
  async load(modelDir: string): Promise<ModelInfo> {
    this.stopping = false;
    this.modelDir = modelDir;
    if (!this.worker || !this.worker.alive) this.worker = this.spawn();
    const w = this.worker;
    if (!this.model) this.setState({ kind: 'starting', modelDir });
    try {
      await w.ready;
      const threads = this.opts.threads?.() ?? 0;
      const info = await w.request('load', { modelDir, threads });
      this.model = info;
      this.setState({ kind: 'ready', model: info });
      if (this.stableTimer) clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => (this.attempt = 0), 60_000);
      this.stableTimer.unref?.();
      return info;
    } catch (e) {
      if (isWorkerRequestError(e)) {
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
    if (this.stableTimer) clearTimeout(this.stableTimer);
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
