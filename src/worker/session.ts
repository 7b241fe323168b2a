/**
 * The ONNX Runtime session and the KV cache it owns (graph contract: models/README.md).
 *
 * The cache is the `present_*` tensors of the last call, kept as they are and fed back as `past_*`, plus the
 * token ids they cover. A new prompt reuses the longest common prefix with the cached ids; the rest is
 * rolled back by slicing dimension 2 (keys are stored after RoPE, so a sliced cache equals a fresh prefill).
 * Memory is bounded: the worker never lets the cache grow past the model's context length.
 */
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { WorkerError } from './errors';
import type { KvCacheSpec } from './manifest';
import SESSION_OPTIONS_JSON from './sessionOptions.json';

/**
 * The options every runner of our graphs uses (this worker, models/scripts/ort_session.mjs and the benchmarks), from
 * a JSON file that plain JavaScript reads too: CPU provider, all graph optimizations, sequential execution with one
 * inter-op thread (batch 1 has nothing to run in parallel), the memory arena on, and memory patterns off because
 * shapes change on every call (the past grows), so they cannot be planned ahead. Intra-op threads come per session.
 */
export const WORKER_SESSION_OPTIONS = SESSION_OPTIONS_JSON as ort.InferenceSession.SessionOptions;

export interface SessionOptions {
  readonly graphPath: string;
  readonly kv: KvCacheSpec;
  readonly vocabSize: number;
  readonly threads: number;
}

/** The most intra-op threads: batch-1 decoding gains little beyond this, and a setting above it is clamped. */
export const MAX_THREADS = 4;

/** Half the logical cores, at least 1 and at most MAX_THREADS. */
export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(cores / 2)));
}

export function longestCommonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A few names of a list, and how many more: messages stay short whatever the manifest claims. */
function someOf(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 4).join(', ')} and ${names.length - 4} more`;
}

/**
 * The manifest's numbers against the graph's own signature: the layers of the KV cache (past/present pairs), the
 * cache's heads and head size, and the vocabulary (the last dimension of the logits). Checked before anything is
 * sized by them, so a manifest cannot make the worker allocate for a model that does not exist.
 */
function checkContract(session: ort.InferenceSession, opts: SessionOptions): void {
  const fail = (what: string): never => {
    throw new WorkerError('GRAPH_CONTRACT', `Graph ${opts.graphPath} does not match the manifest: ${what}`);
  };
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const graphLayers = session.inputNames.filter((n) => /^past_key_\d+$/.test(n)).length;
  if (graphLayers !== opts.kv.numLayers) fail(`kvCache.numLayers is ${opts.kv.numLayers}, the graph has ${graphLayers} past_key inputs`);
  const wantIn = ['input_ids', 'num_logits'];
  const wantOut = ['logits'];
  for (let i = 0; i < graphLayers; i++) {
    wantIn.push(`past_key_${i}`, `past_value_${i}`);
    wantOut.push(`present_key_${i}`, `present_value_${i}`);
  }
  const missing = [...wantIn.filter((n) => !inputs.has(n)).map((n) => `input ${n}`), ...wantOut.filter((n) => !outputs.has(n)).map((n) => `output ${n}`)];
  if (missing.length > 0) fail(`missing ${someOf(missing)}`);
  const shapeOf = (list: readonly ort.InferenceSession.ValueMetadata[], name: string): readonly (number | string)[] => {
    const m = list.find((v) => v.name === name);
    return m && m.isTensor ? m.shape : [];
  };
  const vocab = shapeOf(session.outputMetadata, 'logits').at(-1);
  if (vocab !== opts.vocabSize) fail(`vocabSize is ${opts.vocabSize}, the logits have ${String(vocab)}`);
  const pastKey = shapeOf(session.inputMetadata, 'past_key_0');
  if (graphLayers > 0 && (pastKey[1] !== opts.kv.numKvHeads || pastKey[3] !== opts.kv.headDim)) {
    fail(`kvCache is ${opts.kv.numKvHeads} heads of ${opts.kv.headDim}, the graph's past_key_0 is [${pastKey.join(', ')}]`);
  }
}

export class ModelSession {
  private cachedIds: number[] = [];
  /** past_key_0, past_value_0, past_key_1, ... : each [1, H, P, D] with P = cachedIds.length. */
  private past: ort.Tensor[];
  private readonly pastNames: string[] = [];
  private readonly presentNames: string[] = [];
  private readonly emptyPast: ort.Tensor;
  private readonly oneLogit = new ort.Tensor('int64', BigInt64Array.from([1n]), [1]);
  private readonly stepIds = new BigInt64Array(1);
  private readonly stepTensor = new ort.Tensor('int64', this.stepIds, [1, 1]);

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly opts: SessionOptions,
  ) {
    const { numLayers, numKvHeads, headDim } = opts.kv;
    for (let i = 0; i < numLayers; i++) {
      this.pastNames.push(`past_key_${i}`, `past_value_${i}`);
      this.presentNames.push(`present_key_${i}`, `present_value_${i}`);
    }
    this.emptyPast = new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]);
    this.past = this.pastNames.map(() => this.emptyPast);
  }

  static async create(opts: SessionOptions): Promise<ModelSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(opts.graphPath, { ...WORKER_SESSION_OPTIONS, intraOpNumThreads: opts.threads });
    } catch (e) {
      throw new WorkerError('GRAPH_CONTRACT', `Graph ${opts.graphPath} does not load in onnxruntime: ${(e as Error).message}`);
    }
    try {
      checkContract(session, opts);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new ModelSession(session, opts);
  }

  get cachedTokens(): number {
    return this.cachedIds.length;
  }

  get kvBytes(): number {
    const { numLayers, numKvHeads, headDim } = this.opts.kv;
    return 2 * numLayers * numKvHeads * headDim * 4 * this.cachedIds.length;
  }

  /** How many leading tokens of `ids` are already in the cache. */
  commonPrefix(ids: readonly number[]): number {
    return longestCommonPrefix(this.cachedIds, ids);
  }

  /** Keeps the first k cached tokens (rollback): present[:, :, :k, :]. */
  truncate(k: number): void {
    const p = this.cachedIds.length;
    if (k >= p) return;
    this.cachedIds.length = k;
    if (k === 0) {
      this.past = this.pastNames.map(() => this.emptyPast);
      return;
    }
    const { numKvHeads: h, headDim: d } = this.opts.kv;
    this.past = this.past.map((t) => {
      const src = t.data as Float32Array;
      const out = new Float32Array(h * k * d);
      for (let head = 0; head < h; head++) {
        out.set(src.subarray(head * p * d, head * p * d + k * d), head * k * d);
      }
      return new ort.Tensor('float32', out, [1, h, k, d]);
    });
  }

  reset(): void {
    this.truncate(0);
  }

  /**
   * Runs the graph on new tokens after the cached ones and appends them to the cache.
   * Returns the logits of the last new token (a view valid until the next call).
   */
  async forward(newIds: readonly number[]): Promise<Float32Array> {
    if (newIds.length === 0) throw new WorkerError('INTERNAL', 'forward needs at least one new token');
    let ids: ort.Tensor;
    if (newIds.length === 1) {
      this.stepIds[0] = BigInt(newIds[0]!);
      ids = this.stepTensor;
    } else {
      ids = new ort.Tensor('int64', BigInt64Array.from(newIds, (x) => BigInt(x)), [1, newIds.length]);
    }
    const feeds: Record<string, ort.Tensor> = { input_ids: ids, num_logits: this.oneLogit };
    for (let i = 0; i < this.pastNames.length; i++) feeds[this.pastNames[i]!] = this.past[i]!;
    const out = await this.session.run(feeds);
    const next: ort.Tensor[] = [];
    for (const name of this.presentNames) {
      const t = out[name];
      if (!t) throw new WorkerError('GRAPH_CONTRACT', `Graph returned no ${name}`);
      next.push(t);
    }
    this.past = next;
    for (const id of newIds) this.cachedIds.push(id);
    const logits = out['logits'];
    if (!logits) throw new WorkerError('GRAPH_CONTRACT', 'Graph returned no logits');
    const data = logits.data as Float32Array;
    const v = this.opts.vocabSize;
    if (data.length < v) throw new WorkerError('GRAPH_CONTRACT', `logits have ${data.length} values, expected at least vocabSize ${v}`);
    return data.subarray(data.length - v);
  }

  async release(): Promise<void> {
    this.reset();
    await this.session.release();
  }
}
