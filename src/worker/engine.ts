/**
 * The engine inside the worker: one loaded model (manifest, tokenizer, ORT session with its KV cache)
 * and greedy decoding with token healing, stop rules, streaming and token-level cancellation. The prompt
 * (parts, budgets, context fit, healing) is built by prompt.ts.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WorkerError } from './errors';
import { loadManifest, type LoadedManifest } from './manifest';
import {
  MAX_ALTERNATIVES,
  PREFILL_CHUNK_MS,
  type Alternative,
  type AlternativesParams,
  type AlternativesResult,
  type CompleteParams,
  type CompleteResult,
  type GenerateIdsParams,
  type GenerateIdsResult,
  type LoadParams,
  type ModelInfo,
  type PrefillParams,
  type PrefillResult,
  type PromptPart,
  type StopOptions,
  type StopReason,
  type WorkerStats,
} from '../shared/protocol';
import { agreesWithHealing, isWhitespace, pickHealing, PromptBuilder, type BuiltPrompt } from './prompt';
import { ModelSession, physicalCores, threadPlan } from './session';
import { checkStop, endsAtLineStart, stopProbability } from '../shared/stopRules';
import { ModelTokenizer } from './tokenizer';

export interface DecodeControl {
  /** True once the request should stop (cancelled or superseded); checked before every decode step. */
  readonly isCancelled: () => boolean;
  /** Called with the streamable text each time it grows. */
  readonly onPartial: (text: string, tokens: number) => void;
}

/** What one greedy decode produced. */
interface Decoded {
  readonly text: string;
  readonly stopReason: StopReason;
  /** Tokens decoded, the one that hit a stop rule included. */
  readonly generated: number;
  /** From the request's arrival to the first non-empty partial; -1 when none. */
  readonly firstTextMs: number;
  /** CompleteTimings.minMargin; Infinity when no token was decoded freely. */
  readonly minMargin: number;
}

function argmax(logits: Float32Array): number {
  return argmaxWithMargin(logits).id;
}

/** The best token and its lead over the second best (CompleteTimings.minMargin). */
function argmaxWithMargin(logits: Float32Array): { id: number; margin: number } {
  let best = 0;
  let bestValue = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > bestValue) {
      second = bestValue;
      bestValue = v;
      best = i;
    } else if (v > second) {
      second = v;
    }
  }
  return { id: best, margin: bestValue - second };
}

/** Chunk sizes of a background prefill sized by time (PREFILL_CHUNK_MS): the first chunk, and the bounds. */
const PREFILL_FIRST_CHUNK = 64;
const PREFILL_MIN_CHUNK = 32;
const PREFILL_MAX_CHUNK = 512;

export class Engine {
  private readonly stopIds: ReadonlySet<number>;
  private readonly prompts: PromptBuilder;
  private totals = { requests: 0, promptTokens: 0, reusedTokens: 0, generatedTokens: 0, prefillMs: 0, decodeMs: 0 };
  private background = { backgroundPrefills: 0, backgroundPrefillsCancelled: 0, backgroundPrefilledTokens: 0 };

  private constructor(
    readonly info: ModelInfo,
    loaded: LoadedManifest,
    private readonly tokenizer: ModelTokenizer,
    private readonly session: ModelSession,
  ) {
    this.stopIds = new Set(loaded.manifest.stopTokenIds);
    this.prompts = new PromptBuilder(tokenizer, info);
  }

  static async load(params: LoadParams): Promise<Engine> {
    const t0 = performance.now();
    if (typeof params.modelDir !== 'string' || !path.isAbsolute(params.modelDir)) {
      throw new WorkerError('BAD_REQUEST', `load needs an absolute modelDir, got ${JSON.stringify(params.modelDir)}`);
    }
    const loaded = await loadManifest(params.modelDir);
    const m = loaded.manifest;
    const graph = params.useFloatGraph ? m.floatGraph : m.graph;
    if (graph === undefined) throw new WorkerError('BAD_REQUEST', `Model ${m.name} has no floatGraph`);
    // The session first: it checks vocabSize and the cache's shape against the graph before the tokenizer's
    // byte table is sized by vocabSize.
    const session = await ModelSession.create({
      graphPath: path.join(loaded.dir, graph),
      kv: m.kvCache,
      vocabSize: m.vocabSize,
      threads: threadPlan(params.threads ?? 0, physicalCores()),
      contextLength: m.contextLength,
    });
    let tokenizer: ModelTokenizer;
    try {
      tokenizer = await ModelTokenizer.load(path.join(loaded.dir, m.tokenizer), m);
    } catch (e) {
      await session.release();
      throw e;
    }
    // Warm-up: the first run initialises kernels and the arena (its one token ran alone, so no prompt reuses it).
    await session.forward([m.specialTokens.fimPrefix.id]);
    const info: ModelInfo = {
      name: m.name,
      displayName: m.displayName,
      description: m.description,
      dir: loaded.dir,
      architecture: m.architecture,
      vocabSize: m.vocabSize,
      contextLength: m.contextLength,
      fimTemplate: m.fim.template,
      specialTokens: m.specialTokens,
      threads: session.decodeThreads,
      prefillThreads: session.prefillThreads,
      loadMs: Math.round(performance.now() - t0),
      graph,
    };
    return new Engine(info, loaded, tokenizer, session);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  resetCache(): void {
    this.session.reset();
  }

  async tokenize(text: string): Promise<number[]> {
    return this.tokenizer.encode(text);
  }

  stats(): WorkerStats {
    return {
      pid: process.pid,
      rssBytes: process.memoryUsage.rss(),
      model: this.info.name,
      cachedTokens: this.session.cachedTokens,
      kvBytes: this.session.kvBytes,
      ...this.totals,
      ...this.background,
    };
  }

  /**
   * Tokenizes the parts, applies per-part budgets, the context limit and token healing. Public for the golden
   * prompt that the Python side checks too (models/tests/data/fim_prompt.json, test/worker/shippedModel.test.ts).
   */
  async buildPrompt(parts: readonly PromptPart[], reserve: number): Promise<BuiltPrompt> {
    return this.prompts.build(parts, reserve);
  }

  /** Prefills `ids` reusing the KV cache; returns the logits after the last id and how many ids were reused. */
  private async prefill(ids: readonly number[]): Promise<{ logits: Float32Array; reused: number }> {
    // At least two tokens run (one is needed for the logits): onnxruntime's kernels compute a forward of one row with
    // other rounding than one of many, and at a near tie the memory layers' top-m takes another slot for it, so a
    // prompt whose last token ran alone could complete differently than the same prompt prefilled at once (the CLI,
    // the evaluations). Forwards of two or more rows give one prefill's logits exactly (models/LOG.md, 2026-12-06).
    const reused = Math.max(0, Math.min(this.session.commonPrefix(ids), ids.length - 2));
    this.session.truncate(reused);
    const logits = await this.session.forward(ids.slice(reused));
    return { logits, reused };
  }

  /** Checks a complete's (or a prefill's) params; returns the tokens it may decode, which the prompt leaves room for. */
  private maxTokensOf(params: CompleteParams, method: string): number {
    const stop = params.stop;
    if (!Array.isArray(params.prompt) || !stop || !(stop.maxTokens >= 1) || !(stop.maxLines >= 1)) {
      throw new WorkerError('BAD_REQUEST', `${method} needs prompt parts and stop.maxTokens/maxLines >= 1`);
    }
    return Math.min(stop.maxTokens, this.info.contextLength - 8);
  }

  /**
   * Background prefill: builds the prompt exactly as complete() would for the same params and runs the tokens the
   * cache lacks, in chunks, checking for a cancel before each. Decodes nothing. A cache that already holds the whole
   * prompt (and maybe more after it) is left as it is. The chunks that ran stay in the cache when it is cancelled.
   */
  async prefillPrompt(params: PrefillParams, control: Pick<DecodeControl, 'isCancelled'>): Promise<PrefillResult> {
    const t0 = performance.now();
    const maxTokens = this.maxTokensOf(params, 'prefill');
    const fixed = params.chunkTokens;
    if (fixed !== undefined && !(Number.isInteger(fixed) && fixed >= 1)) throw new WorkerError('BAD_REQUEST', 'prefill chunkTokens must be a positive integer');
    const result = (promptTokens: number, reusedTokens: number, prefilledTokens: number, chunks: number, cancelled: boolean): PrefillResult => {
      this.background.backgroundPrefills++;
      if (cancelled) this.background.backgroundPrefillsCancelled++;
      this.background.backgroundPrefilledTokens += prefilledTokens;
      return { promptTokens, reusedTokens, prefilledTokens, chunks, cancelled, ms: performance.now() - t0 };
    };
    if (control.isCancelled()) return result(0, 0, 0, 0, true);
    const { ids } = await this.buildPrompt(params.prompt, maxTokens);
    const reused = this.session.commonPrefix(ids);
    const { pos, chunks } = await this.forwardInChunks(ids, reused, control.isCancelled, fixed);
    return result(ids.length, reused, pos - reused, chunks, pos < ids.length);
  }

  /**
   * Runs ids[from..] into the KV cache in chunks of about PREFILL_CHUNK_MS (or `fixed` tokens), checking for a cancel
   * before each; the cache is rolled back to `from` only once the first chunk goes ahead. Returns how far it got.
   */
  private async forwardInChunks(ids: readonly number[], from: number, isCancelled: () => boolean, fixed?: number): Promise<{ pos: number; chunks: number }> {
    let pos = from;
    let chunks = 0;
    let chunk = fixed ?? PREFILL_FIRST_CHUNK;
    while (pos < ids.length && !isCancelled()) {
      if (chunks === 0) this.session.truncate(pos);
      // no chunk of one token where more follow or came before it (ModelSession.commonPrefix would not reuse it)
      const rest = ids.length - pos;
      const n = rest - chunk === 1 ? rest : Math.min(chunk, rest);
      const t = performance.now();
      await this.session.forward(ids.slice(pos, pos + n));
      pos += n;
      chunks++;
      if (fixed === undefined) {
        const perToken = Math.max(1e-3, (performance.now() - t) / n);
        chunk = Math.max(PREFILL_MIN_CHUNK, Math.min(PREFILL_MAX_CHUNK, Math.round(PREFILL_CHUNK_MS / perToken)));
      }
    }
    return { pos, chunks };
  }

  /**
   * Greedy decoding from the logits after the prompt: token healing, the stop rules after every token, streaming of
   * what no later token can cut, a cancel checked before every step. `first` forces the first token (an alternative).
   */
  private async decodeFrom(logits: Float32Array, built: BuiltPrompt, stop: StopOptions, maxTokens: number, control: DecodeControl, t0: number, first?: number): Promise<Decoded> {
    const healText = new TextDecoder().decode(built.healBytes);
    let firstTextMs = -1;
    let generated = 0;
    let stopReason: StopReason = 'maxTokens';
    let text = '';
    let streamed = 0;
    let owed = built.healBytes;
    const decoder = new TextDecoder('utf-8');
    let decoded = '';
    let minMargin = Infinity;
    const free = (): number => {
      const pick = argmaxWithMargin(logits);
      minMargin = Math.min(minMargin, pick.margin);
      return pick.id;
    };
    for (;;) {
      if (control.isCancelled()) {
        stopReason = 'cancelled';
        break;
      }
      if (owed.length === 0 && endsAtLineStart(text, () => stopProbability(logits, this.stopIds))) {
        stopReason = 'endToken';
        break;
      }
      let id = generated === 0 && first !== undefined ? first : owed.length > 0 ? pickHealing(this.tokenizer, logits, owed) : free();
      if (id < 0) {
        owed = new Uint8Array(0); // cannot happen with a consistent vocab; fall back to free decoding
        id = free();
      }
      generated++;
      if (this.stopIds.has(id)) {
        stopReason = 'endToken';
        break;
      }
      const bytes = this.tokenizer.tokenBytes[id]!;
      if (owed.length > 0) owed = bytes.length >= owed.length ? new Uint8Array(0) : owed.subarray(bytes.length);
      decoded += decoder.decode(bytes, { stream: true });
      if (owed.length === 0 && decoded.length >= healText.length) {
        text = decoded.slice(healText.length);
        const check = checkStop(text, stop);
        if (check.stop) {
          stopReason = check.stop;
          text = text.slice(0, check.keep);
          break;
        }
        if (check.safe > streamed) {
          streamed = check.safe;
          if (firstTextMs < 0 && text.slice(0, streamed).trim().length > 0) firstTextMs = performance.now() - t0;
          control.onPartial(text.slice(0, streamed), generated);
        }
      }
      if (generated >= maxTokens) {
        stopReason = 'maxTokens';
        break;
      }
      if (this.session.cachedTokens + 1 >= this.info.contextLength) {
        stopReason = 'contextFull';
        break;
      }
      logits = await this.session.forward([id]);
    }
    return { text, stopReason, generated, firstTextMs, minMargin };
  }

  async complete(params: CompleteParams, control: DecodeControl): Promise<CompleteResult> {
    const t0 = performance.now();
    const maxTokens = this.maxTokensOf(params, 'complete');
    const built = await this.buildPrompt(params.prompt, maxTokens);
    const t1 = performance.now();
    let reused = 0;
    let prefillMs = 0;
    let out: Decoded = { text: '', stopReason: 'cancelled', generated: 0, firstTextMs: -1, minMargin: Infinity };
    if (!control.isCancelled()) {
      const pre = await this.prefill(built.ids);
      reused = pre.reused;
      prefillMs = performance.now() - t1;
      out = await this.decodeFrom(pre.logits, built, params.stop, maxTokens, control, t0);
    }
    const t2 = performance.now();
    const decodeMs = Math.max(0, t2 - t1 - prefillMs);
    this.totals.requests++;
    this.totals.promptTokens += built.ids.length;
    this.totals.reusedTokens += reused;
    this.totals.generatedTokens += out.generated;
    this.totals.prefillMs += prefillMs;
    this.totals.decodeMs += decodeMs;
    return {
      text: out.text,
      stopReason: out.stopReason,
      healedText: new TextDecoder().decode(built.healBytes),
      timings: {
        promptTokens: built.ids.length,
        reusedTokens: reused,
        generatedTokens: out.generated,
        tokenizeMs: t1 - t0,
        prefillMs,
        decodeMs,
        firstTextMs: out.firstTextMs >= 0 ? out.firstTextMs : t2 - t0,
        totalMs: t2 - t0,
        minMargin: Number.isFinite(out.minMargin) ? out.minMargin : null,
      },
    };
  }

  /**
   * The first tokens of the alternatives: the most likely first tokens after the greedy one, among those a completion
   * may start with (text, not special; under token healing, those that agree with the healed bytes).
   */
  private alternativeFirsts(logits: Float32Array, healBytes: Uint8Array, count: number): number[] {
    const greedy = healBytes.length > 0 ? pickHealing(this.tokenizer, logits, healBytes) : argmax(logits);
    const table = this.tokenizer.tokenBytes;
    const best: number[] = []; // ids by logit, highest first, at most count
    for (let id = 0; id < table.length; id++) {
      const b = table[id]!;
      if (id === greedy || b.length === 0 || this.tokenizer.specialIds.has(id) || this.stopIds.has(id)) continue;
      if (healBytes.length > 0 && !agreesWithHealing(b, healBytes)) continue;
      const v = logits[id]!;
      if (best.length === count && v <= logits[best[count - 1]!]!) continue;
      let at = best.length;
      while (at > 0 && logits[best[at - 1]!]! < v) at--;
      best.splice(at, 0, id);
      if (best.length > count) best.pop();
    }
    return best;
  }

  /**
   * Alternatives to the completion of the same params (issue 14): the prompt comes from the KV cache (the completion
   * just ran it), and each alternative is decoded greedily as complete() does, from one of the next most likely first
   * tokens where text begins (throughHealedWhitespace); the cache is rolled back to that point before each.
   * Background work: a cancel stops it before the next step, and the alternatives finished by then are returned.
   */
  async alternatives(params: AlternativesParams, control: Pick<DecodeControl, 'isCancelled'>): Promise<AlternativesResult> {
    const t0 = performance.now();
    const maxTokens = this.maxTokensOf(params, 'alternatives');
    const count = params.count;
    if (!(Number.isInteger(count) && count >= 1 && count <= MAX_ALTERNATIVES)) throw new WorkerError('BAD_REQUEST', `alternatives count must be an integer in 1..${MAX_ALTERNATIVES}`);
    const alternatives: Alternative[] = [];
    let prefilledTokens = 0;
    let generatedTokens = 0;
    const result = (cancelled: boolean): AlternativesResult => ({ alternatives, cancelled, prefilledTokens, generatedTokens, ms: performance.now() - t0 });
    if (control.isCancelled()) return result(true);
    const built = await this.buildPrompt(params.prompt, maxTokens);
    // Normally the completion just ran this prompt; otherwise (alternatives for a cached suggestion) the prompt goes
    // in by chunks as a background prefill does, so that a keystroke never waits behind a whole prefill.
    const last = built.ids.length - 1;
    const reused = Math.min(last, this.session.commonPrefix(built.ids));
    const { pos } = await this.forwardInChunks(built.ids.slice(0, last), reused, control.isCancelled);
    prefilledTokens = pos - reused;
    if (pos < last) return result(true);
    const pre = await this.prefill(built.ids);
    prefilledTokens += built.ids.length - pre.reused;
    const branch = await this.throughHealedWhitespace(built, pre.logits, control.isCancelled);
    generatedTokens += branch.built.ids.length - built.ids.length;
    if (branch.cancelled) return result(true);
    const quiet: DecodeControl = { isCancelled: control.isCancelled, onPartial: () => undefined };
    for (const first of this.alternativeFirsts(branch.logits, branch.built.healBytes, count)) {
      this.session.truncate(branch.built.ids.length);
      const d = await this.decodeFrom(branch.logits, branch.built, params.stop, maxTokens, quiet, t0, first);
      generatedTokens += d.generated;
      if (d.stopReason === 'cancelled') return result(true);
      alternatives.push({ text: d.text, stopReason: d.stopReason });
    }
    return result(false);
  }

  /**
   * Where alternatives branch: under token healing of whitespace (a blank line, the indentation at the cursor) the
   * first tokens only re-create it, and alternatives that differ there would differ in how that whitespace is split,
   * not in what the user sees. The greedy tokens that stay inside those bytes run as complete() runs them and join
   * the prompt; the alternatives start at the first token that brings text.
   */
  private async throughHealedWhitespace(built: BuiltPrompt, logits: Float32Array, isCancelled: () => boolean): Promise<{ built: BuiltPrompt; logits: Float32Array; cancelled: boolean }> {
    let ids = built.ids;
    let owed = built.healBytes;
    while (owed.length > 0 && isWhitespace(owed)) {
      const id = pickHealing(this.tokenizer, logits, owed);
      const bytes = id >= 0 ? this.tokenizer.tokenBytes[id]! : null;
      if (bytes === null || bytes.length > owed.length) break;
      if (isCancelled()) return { built: { ids, healBytes: owed }, logits, cancelled: true };
      logits = await this.session.forward([id]);
      ids = [...ids, id];
      owed = owed.subarray(bytes.length);
    }
    return { built: { ids, healBytes: owed }, logits, cancelled: false };
  }

  /** Raw greedy decoding of token ids (parity with the PyTorch reference). */
  async generateIds(params: GenerateIdsParams, control: DecodeControl): Promise<GenerateIdsResult> {
    const ids = params.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < this.info.vocabSize)) {
      throw new WorkerError('BAD_REQUEST', `generateIds needs a non-empty array of token ids below ${this.info.vocabSize}`);
    }
    const maxTokens = Math.min(params.maxTokens, this.info.contextLength - ids.length);
    const stopIds = this.stopIds;
    const out: number[] = [];
    const { logits: first, reused } = await this.prefill(ids);
    const firstLogits = params.returnFirstLogits ? Array.from(first) : undefined;
    let logits = first;
    while (out.length < maxTokens && !control.isCancelled()) {
      const id = argmax(logits);
      out.push(id);
      control.onPartial('', out.length);
      if (params.stopAtStopTokens && stopIds.has(id)) break;
      if (out.length >= maxTokens) break;
      logits = await this.session.forward([id]);
    }
    return { ids: out, reusedTokens: reused, ...(firstLogits ? { firstLogits } : {}) };
  }
}
