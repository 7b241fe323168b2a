/**
 * The ONNX Runtime session and the KV cache it owns (graph contract: models/README.md).
 *
 * The cache is the graph's KV tensors plus the token ids they cover. A new prompt reuses the longest common prefix
 * with the cached ids, up to the first token that ran alone (`firstRanAlone`), and rolls the rest back. Two layouts (the manifest's kvCache.layout): "concat" keeps the
 * `present_*` tensors of the last call and feeds them back as `past_*`, and a rollback slices dimension 2 (keys are
 * stored after RoPE, so a sliced cache equals a fresh prefill); "capacity" allocates one buffer per tensor at load,
 * feeds it as it is (onnxruntime-node wraps input buffers without copying), writes the new tokens' entries that
 * the graph returns into it, and a rollback only shortens the valid length, so no call copies the whole cache.
 * Memory is bounded: the worker never lets the cache grow past the model's context length.
 *
 * The capacity fed is not the context length but the cached tokens rounded up (`fedCapacity`): onnxruntime's
 * GroupQueryAttention clears its whole present buffer, as long as the past fed, on every call, and copies the valid
 * past into it once per query head, so a 2,048-position buffer made a decode step at 512 tokens cost 1.4x one fed
 * 640 positions (models/LOG.md, 2026-12-06, fourth session). The buffers are allocated at the context length once;
 * the fed capacity is a view of their start, laid out [1, H, capacity, D], and when it changes the valid entries of
 * each head move to their new place (a copy of the cached tokens, at most once per step of 128 positions).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
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
  readonly threads: ThreadPlan;
  /** The most tokens the cache holds (the manifest's contextLength): the capacity layout's buffer length. */
  readonly contextLength: number;
}

/** The most intra-op threads for decoding: batch-1 decoding gains little beyond this, and a setting above it is clamped. */
export const MAX_THREADS = 4;
/** The most intra-op threads a prefill takes when the setting leaves the choice to the worker. */
export const MAX_PREFILL_THREADS = 8;
/** A forward of more new tokens than this runs on the prefill session; a keystroke's few typed tokens decode. */
const DECODE_MAX_NEW_TOKENS = 8;
/** The capacity layout's fed capacity moves in steps of 1/KV_CAPACITY_STEPS of the context length. */
const KV_CAPACITY_STEPS = 16;

/**
 * The capacity to feed for a call that needs `need` positions, given the one fed now: a multiple of the step (128
 * positions of 2,048) at least a step beyond `need` (a completion's decode steps fit without moving), kept while it
 * holds `need` and exceeds that fresh choice by at most two steps (no back and forth at a boundary).
 */
export function fedCapacity(need: number, current: number, contextLength: number): number {
  const step = Math.max(1, Math.floor(contextLength / KV_CAPACITY_STEPS));
  const fresh = Math.min(contextLength, Math.ceil((need + step) / step) * step);
  return need <= current && current <= fresh + 2 * step ? current : fresh;
}

/** Intra-op threads: a prefill's, and the decode counts to choose from by a probe at load (one: no probe). */
export interface ThreadPlan {
  readonly prefill: number;
  readonly decodeCandidates: readonly number[];
}

/**
 * The `threads` setting, when above 0, is used for everything (clamped to MAX_THREADS). Otherwise a cold prefill,
 * which parallelises well, takes every physical core up to MAX_PREFILL_THREADS (hyper-threads share a core's
 * vector units), and decoding, whose best count depends on the CPU and on what else runs, takes the fastest of 1, 2
 * and 4 threads (up to the physical cores) in a probe at load.
 */
export function threadPlan(setting: number, physical: number): ThreadPlan {
  if (setting > 0) {
    const t = Math.min(MAX_THREADS, Math.floor(setting));
    return { prefill: t, decodeCandidates: [t] };
  }
  const cores = Math.max(1, physical);
  return { prefill: Math.min(MAX_PREFILL_THREADS, cores), decodeCandidates: [1, 2, 4].filter((n) => n <= Math.min(MAX_THREADS, cores)) };
}

/**
 * Physical cores: distinct (package, core) pairs of the CPUs in Linux's topology (SMT siblings share one), else the
 * logical count (macOS and Windows; Apple silicon has no SMT).
 */
export function physicalCores(cpuDir = '/sys/devices/system/cpu'): number {
  const logical = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  try {
    const cores = new Set<string>();
    for (const cpu of fs.readdirSync(cpuDir).filter((d) => /^cpu\d+$/.test(d))) {
      const topology = path.join(cpuDir, cpu, 'topology');
      if (!fs.existsSync(topology)) continue; // offline
      const read = (f: string): string => fs.readFileSync(path.join(topology, f), 'utf8').trim();
      cores.add(`${read('physical_package_id')}:${read('core_id')}`);
    }
    return cores.size > 0 ? Math.min(cores.size, logical) : logical;
  } catch {
    return logical;
  }
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
  if (inputs.has('past_length') !== (opts.kv.layout === 'capacity')) {
    fail(`kvCache.layout is ${opts.kv.layout}, the graph ${inputs.has('past_length') ? 'has' : 'has no'} past_length input`);
  }
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
  /**
   * The first cached position that ran alone (a decode step); the cached length when none did. Its keys and values
   * carry a one-row forward's rounding, which differs from a prompt prefill's (Engine.prefill says why that matters),
   * so a later prompt reuses the cache only up to it and runs the rest with its other tokens.
   */
  private firstRanAlone = 0;
  /**
   * past_key_0, past_value_0, past_key_1, ... : concat layout, each [1, H, P, D] with P = cachedIds.length,
   * replaced by the graph's present tensors after every call; capacity layout, each [1, H, capacity, D], a view of
   * the start of its buffer in `storage`, the graph's present tensors (the new tokens only) written into it at P.
   */
  private past: ort.Tensor[];
  /** Capacity layout: one buffer per past tensor, H * contextLength * D values, allocated at load. */
  private readonly storage: Float32Array[];
  /** Capacity layout: the positions per head of the layout the views in `past` have. */
  private capacity = 0;
  private readonly pastLength = new BigInt64Array(1);
  private readonly pastLengthTensor = new ort.Tensor('int64', this.pastLength, [1]);
  private readonly pastNames: string[] = [];
  private readonly presentNames: string[] = [];
  private readonly emptyPast: ort.Tensor;
  private readonly oneLogit = new ort.Tensor('int64', BigInt64Array.from([1n]), [1]);
  private readonly stepIds = new BigInt64Array(1);
  private readonly stepTensor = new ort.Tensor('int64', this.stepIds, [1, 1]);

  /** Runs decode steps and a keystroke's few tokens; the prefill session itself when the counts are equal. */
  private decodeSession: ort.InferenceSession;
  private decodeThreadCount: number;

  private constructor(
    private readonly prefillSession: ort.InferenceSession,
    private readonly opts: SessionOptions,
  ) {
    this.decodeSession = prefillSession;
    this.decodeThreadCount = opts.threads.prefill;
    const { numLayers, numKvHeads, headDim } = opts.kv;
    for (let i = 0; i < numLayers; i++) {
      this.pastNames.push(`past_key_${i}`, `past_value_${i}`);
      this.presentNames.push(`present_key_${i}`, `present_value_${i}`);
    }
    this.emptyPast = new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]);
    this.past = this.pastNames.map(() => this.emptyPast);
    const capacity = opts.kv.layout === 'capacity';
    this.storage = capacity ? this.pastNames.map(() => new Float32Array(numKvHeads * opts.contextLength * headDim)) : [];
    if (capacity) this.setCapacity(0); // the first call sizes it
  }

  /**
   * Capacity layout: lays the buffers out for `capacity` positions per head, moving each head's cached entries to
   * their new offset (heads in the order that never overwrites entries not yet moved), and makes the views.
   */
  private setCapacity(capacity: number): void {
    const { numKvHeads: h, headDim: d } = this.opts.kv;
    const old = this.capacity;
    const valid = this.cachedIds.length * d;
    if (valid > 0 && capacity !== old) {
      const heads = [...Array(h).keys()].slice(1);
      for (const head of capacity > old ? heads.reverse() : heads) {
        for (const buffer of this.storage) buffer.copyWithin(head * capacity * d, head * old * d, head * old * d + valid);
      }
    }
    this.capacity = capacity;
    this.past = this.storage.map((buffer) => new ort.Tensor('float32', buffer.subarray(0, h * capacity * d), [1, h, capacity, d]));
  }

  private static async open(opts: SessionOptions, threads: number): Promise<ort.InferenceSession> {
    try {
      return await ort.InferenceSession.create(opts.graphPath, { ...WORKER_SESSION_OPTIONS, intraOpNumThreads: threads });
    } catch (e) {
      throw new WorkerError('GRAPH_CONTRACT', `Graph ${opts.graphPath} does not load in onnxruntime: ${(e as Error).message}`);
    }
  }

  static async create(opts: SessionOptions): Promise<ModelSession> {
    const session = await ModelSession.open(opts, opts.threads.prefill);
    try {
      checkContract(session, opts);
    } catch (e) {
      await session.release();
      throw e;
    }
    const s = new ModelSession(session, opts);
    const { prefill, decodeCandidates } = opts.threads;
    if (decodeCandidates.length > 1 || decodeCandidates[0] !== prefill) {
      try {
        await s.chooseDecodeSession(decodeCandidates);
      } catch (e) {
        await s.release();
        throw e;
      }
    }
    return s;
  }

  get prefillThreads(): number {
    return this.opts.threads.prefill;
  }

  get decodeThreads(): number {
    return this.decodeThreadCount;
  }

  /**
   * Opens a session per candidate thread count, times the same decode step (after a short prefill) on each in
   * interleaved rounds, and keeps the fastest; the others are released.
   */
  private async chooseDecodeSession(candidates: readonly number[]): Promise<void> {
    const sessions = new Map<number, ort.InferenceSession>([[this.prefillThreads, this.prefillSession]]);
    try {
      for (const n of candidates) if (!sessions.has(n)) sessions.set(n, await ModelSession.open(this.opts, n));
      await this.forward(Array.from({ length: 32 }, (_, i) => i % this.opts.vocabSize));
      const feeds = this.feeds([1]);
      const times = new Map<number, number[]>(candidates.map((n) => [n, []]));
      for (let round = 0; round < 6; round++) {
        for (const n of candidates) {
          const t0 = performance.now();
          await sessions.get(n)!.run(feeds);
          if (round > 0) times.get(n)!.push(performance.now() - t0); // the first run of a session initialises it
        }
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      const best = candidates.reduce((a, b) => (median(times.get(b)!) < median(times.get(a)!) ? b : a));
      this.decodeSession = sessions.get(best)!;
      this.decodeThreadCount = best;
    } finally {
      this.reset();
      for (const session of sessions.values()) if (session !== this.prefillSession && session !== this.decodeSession) await session.release();
    }
  }

  get cachedTokens(): number {
    return this.cachedIds.length;
  }

  /** Bytes the cache holds: what is cached (concat) or the buffers allocated at load (capacity). */
  get kvBytes(): number {
    const { numLayers, numKvHeads, headDim, layout } = this.opts.kv;
    return 2 * numLayers * numKvHeads * headDim * 4 * (layout === 'capacity' ? this.opts.contextLength : this.cachedIds.length);
  }

  /** How many leading tokens of `ids` are in the cache, computed as a prompt's are (not decode steps). */
  commonPrefix(ids: readonly number[]): number {
    return Math.min(longestCommonPrefix(this.cachedIds, ids), this.firstRanAlone);
  }

  /** Keeps the first k cached tokens (rollback): present[:, :, :k, :], or for capacity buffers a shorter length. */
  truncate(k: number): void {
    const p = this.cachedIds.length;
    if (k >= p) return;
    this.cachedIds.length = k;
    this.firstRanAlone = Math.min(this.firstRanAlone, k);
    if (this.opts.kv.layout === 'capacity') return;
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

  /** The graph's inputs for `newIds` after the cached tokens. */
  private feeds(newIds: readonly number[]): Record<string, ort.Tensor> {
    let ids: ort.Tensor;
    if (newIds.length === 1) {
      this.stepIds[0] = BigInt(newIds[0]!);
      ids = this.stepTensor;
    } else {
      ids = new ort.Tensor('int64', BigInt64Array.from(newIds, (x) => BigInt(x)), [1, newIds.length]);
    }
    const feeds: Record<string, ort.Tensor> = { input_ids: ids, num_logits: this.oneLogit };
    for (let i = 0; i < this.pastNames.length; i++) feeds[this.pastNames[i]!] = this.past[i]!;
    if (this.opts.kv.layout === 'capacity') {
      this.pastLength[0] = BigInt(this.cachedIds.length);
      feeds['past_length'] = this.pastLengthTensor;
    }
    return feeds;
  }

  /**
   * Runs the graph on new tokens after the cached ones and appends them to the cache.
   * Returns the logits of the last new token (a view valid until the next call).
   */
  async forward(newIds: readonly number[]): Promise<Float32Array> {
    if (newIds.length === 0) throw new WorkerError('INTERNAL', 'forward needs at least one new token');
    const session = newIds.length > DECODE_MAX_NEW_TOKENS ? this.prefillSession : this.decodeSession;
    if (this.opts.kv.layout === 'capacity') {
      const need = this.cachedIds.length + newIds.length;
      if (need > this.opts.contextLength) throw new WorkerError('INTERNAL', `the cache holds ${this.opts.contextLength} tokens`);
      const capacity = fedCapacity(need, this.capacity, this.opts.contextLength);
      if (capacity !== this.capacity) this.setCapacity(capacity);
    }
    const out = await session.run(this.feeds(newIds));
    const next: ort.Tensor[] = [];
    for (const name of this.presentNames) {
      const t = out[name];
      if (!t) throw new WorkerError('GRAPH_CONTRACT', `Graph returned no ${name}`);
      next.push(t);
    }
    if (this.opts.kv.layout === 'capacity') this.writeNewEntries(next, newIds.length);
    else this.past = next;
    if (newIds.length > 1 && this.firstRanAlone === this.cachedIds.length) this.firstRanAlone += newIds.length;
    for (const id of newIds) this.cachedIds.push(id);
    const logits = out['logits'];
    if (!logits) throw new WorkerError('GRAPH_CONTRACT', 'Graph returned no logits');
    const data = logits.data as Float32Array;
    const v = this.opts.vocabSize;
    if (data.length < v) throw new WorkerError('GRAPH_CONTRACT', `logits have ${data.length} values, expected at least vocabSize ${v}`);
    return data.subarray(data.length - v);
  }

  /** Capacity layout: each present [1, H, T, D] goes into its buffer at the cached length, head by head. */
  private writeNewEntries(fresh: readonly ort.Tensor[], T: number): void {
    const { numKvHeads: h, headDim: d } = this.opts.kv;
    const p = this.cachedIds.length;
    for (let i = 0; i < fresh.length; i++) {
      const src = fresh[i]!.data as Float32Array;
      if (src.length !== h * T * d) throw new WorkerError('GRAPH_CONTRACT', `${this.presentNames[i]} holds ${src.length} values, expected ${h * T * d}`);
      const dst = this.storage[i]!;
      for (let head = 0; head < h; head++) dst.set(src.subarray(head * T * d, (head + 1) * T * d), (head * this.capacity + p) * d);
    }
  }

  async release(): Promise<void> {
    this.reset();
    if (this.decodeSession !== this.prefillSession) await this.decodeSession.release();
    await this.prefillSession.release();
  }
}
