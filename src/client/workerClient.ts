/**
 * Host side of the worker protocol: forks dist/worker.js, sends typed requests, routes partial results,
 * forwards cancellation (AbortSignal -> `cancel`). Used by the extension, the CLI, the bench and tests.
 * No `vscode` import.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Methods, MethodName, PartialMessage, WireError, WorkerMessage } from '../shared/protocol';

/** The worker answered with an error. */
export class WorkerRequestError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = 'WorkerRequestError';
  }
  get code(): WireError['code'] {
    return this.wire.code;
  }
}

/** The worker process exited (crash, kill, shutdown) before answering. */
export class WorkerGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerGoneError';
  }
}

export const isWorkerGone = (e: unknown): e is WorkerGoneError => e instanceof WorkerGoneError;
export const isWorkerRequestError = (e: unknown): e is WorkerRequestError => e instanceof WorkerRequestError;

export interface WorkerClientOptions {
  /** Path of the bundled worker script; default: worker.js next to this bundle. */
  readonly workerPath?: string;
  /** Extra environment for the worker. */
  readonly env?: NodeJS.ProcessEnv;
  readonly onLog?: (level: string, message: string) => void;
  readonly onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  readonly onPartial?: (p: PartialMessage) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onPartial?: (p: PartialMessage) => void;
  cleanup: () => void;
}

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'worker.js');
}

export class WorkerClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  readonly ready: Promise<number>;

  constructor(private readonly options: WorkerClientOptions = {}) {
    const workerPath = options.workerPath ?? defaultWorkerPath();
    this.child = fork(workerPath, [], {
      env: {
        ...process.env,
        ...options.env,
        ORT_DISABLE_TELEMETRY: '1',
        // Inside VS Code, process.execPath is Electron; this makes it behave as plain Node.
        ELECTRON_RUN_AS_NODE: '1',
      },
      execArgv: [],
      serialization: 'json',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout?.on('data', (d: Buffer) => options.onLog?.('info', d.toString().trimEnd()));
    this.child.stderr?.on('data', (d: Buffer) => options.onLog?.('warn', d.toString().trimEnd()));
    this.ready = new Promise<number>((resolve, reject) => {
      const onMsg = (m: WorkerMessage): void => {
        if (m.type === 'ready') {
          this.child.off('message', onMsg);
          resolve(m.pid);
        }
      };
      this.child.on('message', onMsg);
      this.child.once('exit', () => reject(new WorkerGoneError('worker exited before it was ready')));
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (m: WorkerMessage) => this.onMessage(m));
    this.child.on('error', (e) => options.onLog?.('error', `worker process error: ${e.message}`));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const err = new WorkerGoneError(`worker exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) {
        p.cleanup();
        p.reject(err);
      }
      this.pending.clear();
      options.onExit?.(code, signal);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'partial':
        this.pending.get(m.id)?.onPartial?.(m);
        return;
      case 'response':
      case 'error': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.cleanup();
        if (m.type === 'response') p.resolve(m.result);
        else p.reject(new WorkerRequestError(m.error));
        return;
      }
      case 'log':
        this.options.onLog?.(m.level, m.message);
        return;
      case 'ready':
        return;
    }
  }

  request<M extends MethodName>(method: M, params: Methods[M]['params'], opts: RequestOptions = {}): Promise<Methods[M]['result']> {
    if (this.exited) return Promise.reject(new WorkerGoneError('worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => {
        if (this.pending.has(id) && !this.exited) this.child.send({ type: 'cancel', id });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        ...(opts.onPartial ? { onPartial: opts.onPartial } : {}),
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      this.child.send({ type: 'request', id, method, params }, (err) => {
        if (err && this.pending.has(id)) {
          this.pending.get(id)!.cleanup();
          this.pending.delete(id);
          reject(new WorkerGoneError(`could not send to worker: ${err.message}`));
        }
      });
      if (signal?.aborted) onAbort();
    });
  }

  /** Asks the worker to exit; kills it if it does not within timeoutMs. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.request('shutdown', {}).catch(() => undefined);
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal);
  }
}
