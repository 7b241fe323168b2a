/**
 * The completion pipeline: request -> prefilter -> context -> cache / running generation -> debounce ->
 * snippets + FIM prompt -> worker (stop rules, streaming) -> filters -> result.
 *
 * One generation runs at a time and belongs to the pipeline, not to a caller: a caller's AbortSignal only
 * stops that caller waiting. A new request that continues the running generation (same suffix, its prefix
 * is the generation's prefix plus characters the generation already produced) attaches to it; any other
 * request cancels it (newest wins) and starts its own. Finished results go to the cache. The generation and its
 * reuse rules (typed through, attaching) are in generation.ts.
 */
import { performance } from 'node:perf_hooks';
import type { AlternativesParams, AlternativesResult, CompleteParams, CompleteResult, FimTemplate, PrefillParams, PrefillResult } from '../shared/protocol';
import { distinctAlternatives, type AlternativesRun } from './alternatives';
import { cacheKey, CompletionCache } from './cache';
import { buildContext } from './context';
import { AdaptiveDebouncer } from './debounce';
import { displayText, Generation } from './generation';
import { prefilter } from './prefilter';
import { buildFimPrompt, splitBudget, stopOptionsFor, type PromptBudget } from './prompt';
import { DEFAULT_SNIPPET_OPTIONS, rankSnippets, SnippetIndex } from './snippets';
import { PipelineStats } from './stats';
import { CompletionResult, type CompletionRequest, type CursorContext, type NeighbourFile, type RawCompletion, type SkipReason } from './types';

/** What the pipeline needs from the worker (WorkerClient satisfies it through a thin adapter). */
export interface CompletionBackend {
  complete(params: CompleteParams, opts: { signal: AbortSignal; onPartial: (text: string) => void }): Promise<CompleteResult>;
  /** Background prefill of the params a complete would send (EngineHost: the worker's low-priority `prefill`). */
  prefill?(params: PrefillParams, opts: { signal: AbortSignal }): Promise<PrefillResult>;
  /** Alternatives to a completion (EngineHost: the worker's low-priority `alternatives`). */
  alternatives?(params: AlternativesParams, opts: { signal: AbortSignal }): Promise<AlternativesResult>;
  /** Changes whenever the worker's KV cache may have been emptied behind the pipeline's back (a model load, a restart). */
  readonly cacheEpoch?: number;
}

/** A background prefill's outcome: sent (the worker's answer), or why not. */
export type PrefillAnswer =
  | { readonly sent: true; readonly result: PrefillResult }
  | { readonly sent: false; readonly skip: 'unsupported' | 'unchanged' | 'failed' | SkipReason };

export interface PipelineOptions {
  readonly maxPromptTokens: number;
  readonly maxTokens: number;
  readonly maxLines: number;
  readonly neighbourSnippets: boolean;
  /** The model's context length; the prompt budget is capped to fit it with maxTokens. */
  readonly contextLength: number;
  /** The model's FIM prompt order (its manifest's fim.template); psm when absent. */
  readonly fimTemplate?: FimTemplate;
  /** Alternatives decoded after a suggestion is finished (src/completion/alternatives.ts); none when absent or 0. */
  readonly alternatives?: number;
}

export interface CompleteOptions {
  readonly signal?: AbortSignal;
  /** Return as soon as the text is useful (first line, or a few words) while decoding goes on. */
  readonly early?: boolean;
  /**
   * Called when the text this request was answered with would now be longer (the generation it uses has
   * decoded more that passes the filters); the caller asks again to get it. Only the latest answered request
   * of a generation is called, and only when its text has changed: since the last call, or, once the generation
   * has `finished`, since the answer (a caller may wait for the whole text and let the partials go by).
   */
  readonly onUpdate?: (finished: boolean) => void;
  /** Skip the debounce (tests, CLI, bench replays that pace themselves). */
  readonly noDebounce?: boolean;
}

export interface PipelineAnswer {
  readonly result: CompletionResult;
  /** The generation behind the result is still decoding; asking again later gives more text. */
  readonly streaming: boolean;
  /** Other suggestions at the same cursor, after the filters, for the editor to cycle through (none while decoding). */
  readonly alternatives?: readonly string[];
}

/** What prefetch() did: the next suggestion is decoding or ready, or why not. */
export type PrefetchAnswer = 'started' | 'running' | 'cached' | SkipReason;

/** What complete() and prefill() compute from a request before building its prompt. */
interface Prepared {
  readonly ctx: CursorContext;
  readonly budget: PromptBudget;
  readonly maxTokens: number;
  readonly o: PipelineOptions;
  readonly neighbours: readonly NeighbourFile[];
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** First line complete, or a few words of it. */
export function isUseful(text: string): boolean {
  const firstNewline = text.indexOf('\n');
  if (firstNewline >= 0 && text.trim().length > 0) return true;
  return text.trim().split(/\s+/).filter((w) => w.length > 0).length >= 3;
}

export class CompletionPipeline {
  readonly cache = new CompletionCache();
  readonly stats = new PipelineStats();
  private readonly debouncer = new AdaptiveDebouncer();
  private readonly snippetIndex = new SnippetIndex();
  private generation: Generation | null = null;
  /** The params of the last prompt sent to the worker (a completion or a finished prefill): its KV cache holds it. */
  private lastPrompt: string | null = null;
  /** The alternatives of the last finished suggestion. */
  private alternatives: AlternativesRun | null = null;

  constructor(
    private readonly backend: CompletionBackend,
    private readonly options: () => PipelineOptions,
    private readonly log: (message: string) => void = () => undefined,
    /** Called when a model generation starts (true) and ends (false): the status bar spinner. */
    private readonly onGenerating: (busy: boolean) => void = () => undefined,
  ) {}

  /** Cancels the running generation and forgets cached results (model switch). */
  reset(): void {
    this.keepAlternativesOf(null);
    this.generation?.controller.abort();
    this.generation = null;
    this.lastPrompt = null;
    this.cache.clear();
  }

  private skip(reason: SkipReason): PipelineAnswer {
    this.stats.skip(reason);
    this.log(`no completion: ${reason}`);
    return { result: CompletionResult.skipped(reason), streaming: false };
  }

  private display(raw: RawCompletion, typed: string, ctx: CursorContext): string {
    return displayText(raw, typed, ctx, this.options().maxLines);
  }

  private answerFrom(gen: Generation, typed: string, ctx: CursorContext): PipelineAnswer {
    if (gen.failed) return this.skip(gen.failed);
    if (gen.done && gen.result) {
      const text = this.display(gen.result, typed, ctx);
      const r = CompletionResult.of(text, typed ? 'typedThrough' : 'model', gen.result.stopReason, gen.timings);
      return text ? { result: r, streaming: false } : this.skip('filteredOut');
    }
    return { result: CompletionResult.of(gen.partialText(typed, ctx), typed ? 'typedThrough' : 'model', null), streaming: true };
  }

  /** The running generation, if this request continues it; returns the characters typed since it began. */
  private attachable(req: CompletionRequest, ctx: CursorContext): { gen: Generation; typed: string } | null {
    const gen = this.generation;
    const typed = gen?.typedSince(req.languageId, ctx) ?? null;
    return gen && typed !== null ? { gen, typed } : null;
  }

  private async wait(gen: Generation, typed: string, ctx: CursorContext, opts: CompleteOptions): Promise<PipelineAnswer> {
    const signal = opts.signal;
    for (;;) {
      if (signal?.aborted) return this.skip('cancelled');
      if (gen.done) break;
      if (opts.early && !gen.text.startsWith(typed) && !typed.startsWith(gen.text)) return this.skip('filteredOut');
      if (opts.early && gen.goesThrough(typed) && isUseful(this.answerFrom(gen, typed, ctx).result.text)) break;
      await gen.changed(signal);
    }
    if (signal?.aborted) return this.skip('cancelled');
    const answer = this.answerFrom(gen, typed, ctx);
    if (opts.onUpdate && answer.streaming) gen.watcher = { typed, ctx, answered: answer.result.text, shown: answer.result.text, onUpdate: opts.onUpdate };
    return answer;
  }

  async complete(req: CompletionRequest, opts: CompleteOptions = {}): Promise<PipelineAnswer> {
    const t0 = performance.now();
    this.stats.requests++;
    const pre = prefilter(req);
    if (pre) return this.skip(pre);
    const prepared = this.prepare(req);
    const ctx = prepared.ctx;
    const key = cacheKey(req.languageId, ctx.prefix, ctx.suffix);
    this.keepAlternativesOf(key);

    const hit = this.cache.get(req.languageId, ctx.prefix, ctx.suffix);
    if (hit) {
      const text = this.display(hit.raw, hit.typed, ctx);
      if (text) {
        if (hit.typed) this.stats.typedThroughHits++;
        else this.stats.cacheHits++;
        this.stats.shown(performance.now() - t0, 'cache');
        const answer = { result: CompletionResult.of(text, hit.typed ? 'typedThrough' : 'cache', hit.raw.stopReason), streaming: false };
        if (hit.typed) return answer;
        this.startAlternatives(req.languageId, ctx, () => this.paramsFor(req, prepared), text);
        return this.withAlternatives(answer, req.languageId, ctx);
      }
      // The same prompt again: greedy decoding would give the same text, which the filters discard again.
      if (!hit.typed) return this.skip('filteredOut');
    }
    const attached = this.attachable(req, ctx);
    let diverged = false;
    if (attached) {
      this.stats.inflightReuse++;
      const answer = await this.wait(attached.gen, attached.typed, ctx, opts);
      if (!answer.result.isEmpty && !attached.gen.counted.has(attached.typed)) {
        attached.gen.counted.add(attached.typed);
        this.stats.shown(performance.now() - t0, 'running');
      }
      // A generation attached to before it had text may turn out not to continue what was typed since it
      // began, or its own suggestion (filtered) may not: then this request gets its own generation rather
      // than no suggestion, or the rest of a suggestion that was never shown.
      diverged = !attached.gen.failed && !attached.gen.goesThrough(attached.typed) && !opts.signal?.aborted;
      if (!diverged) return attached.typed ? answer : this.withAlternatives(answer, req.languageId, ctx);
    }

    if (req.trigger === 'automatic' && !opts.noDebounce && !diverged) {
      await sleep(this.debouncer.delayFor(Date.now(), ctx.linePrefix, ctx.lineSuffix), opts.signal);
      if (opts.signal?.aborted) return this.skip('cancelled');
    }

    const gen = this.start(req, prepared);
    const answer = await this.wait(gen, '', ctx, opts);
    if (!answer.result.isEmpty) {
      gen.counted.add('');
      this.stats.shown(performance.now() - t0, 'model');
    }
    return this.withAlternatives(answer, req.languageId, ctx);
  }

  /**
   * The next suggestion prepared at once, without waiting for the editor to ask (after an accept, as llama.vscode
   * does): a generation starts now, with no debounce, unless the cache or the running generation has one for this
   * cursor already; the editor's request there attaches to it or finds it in the cache. Not counted as shown.
   */
  prefetch(req: CompletionRequest): PrefetchAnswer {
    const skip = prefilter(req);
    if (skip) return skip;
    const prepared = this.prepare(req);
    const ctx = prepared.ctx;
    this.keepAlternativesOf(cacheKey(req.languageId, ctx.prefix, ctx.suffix));
    const hit = this.cache.get(req.languageId, ctx.prefix, ctx.suffix);
    if (hit && this.display(hit.raw, hit.typed, ctx)) return 'cached';
    const attached = this.attachable(req, ctx);
    if (attached && !attached.gen.done && attached.gen.goesThrough(attached.typed)) return 'running';
    this.stats.prefetches++;
    this.start(req, prepared);
    return 'started';
  }

  /** Typing cancels alternatives: a request for another prompt (null: any) stops those of the last one. */
  private keepAlternativesOf(key: string | null): void {
    if (this.alternatives && this.alternatives.key !== key) {
      this.alternatives.controller.abort();
      this.alternatives = null;
    }
  }

  /**
   * Starts decoding the alternatives of a shown suggestion `first` (unless they are decoding or decoded already):
   * the worker decodes them in the background, they go through the same filters as `first` and into its cache entry.
   */
  private startAlternatives(languageId: string, ctx: CursorContext, params: () => CompleteParams, first: string): void {
    const count = this.options().alternatives ?? 0;
    const backend = this.backend;
    const key = cacheKey(languageId, ctx.prefix, ctx.suffix);
    if (!backend.alternatives || count < 1 || this.alternatives?.key === key || this.cache.alternativesOf(languageId, ctx.prefix, ctx.suffix)) return;
    this.keepAlternativesOf(key);
    const run: AlternativesRun = { key, controller: new AbortController(), texts: null, done: Promise.resolve() };
    this.alternatives = run;
    this.stats.alternatives.runs++;
    run.done = backend
      .alternatives({ ...params(), count }, { signal: run.controller.signal })
      .then((r) => {
        const s = this.stats.alternatives;
        s.generatedTokens += r.generatedTokens;
        s.ms += r.ms;
        if (r.cancelled) s.cancelled++;
        if (this.alternatives !== run) return;
        const texts = distinctAlternatives(first, r.alternatives.map((a) => this.display(a, '', ctx)));
        s.offered += texts.length;
        if (r.cancelled && texts.length === 0) {
          this.alternatives = null; // cancelled by another request before any was decoded: the next ask starts again
          return;
        }
        run.texts = texts;
        if (!r.cancelled) this.cache.setAlternatives(languageId, ctx.prefix, ctx.suffix, texts);
        this.log(`alternatives: ${texts.length} of ${r.alternatives.length} kept, ${r.generatedTokens} tokens, ${r.ms.toFixed(0)} ms${r.cancelled ? ', cancelled' : ''}`);
      })
      .catch((e: unknown) => {
        if (this.alternatives === run) this.alternatives = null;
        if (!run.controller.signal.aborted) this.log(`alternatives failed: ${(e as Error).message}`);
      });
  }

  /** An answer at the cursor where its suggestion was decoded: with its alternatives, once they are decoded. */
  private withAlternatives(answer: PipelineAnswer, languageId: string, ctx: CursorContext): PipelineAnswer {
    if (answer.result.isEmpty) return answer;
    const key = cacheKey(languageId, ctx.prefix, ctx.suffix);
    const texts = this.cache.alternativesOf(languageId, ctx.prefix, ctx.suffix) ?? (this.alternatives?.key === key ? this.alternatives.texts : null);
    return texts && texts.length > 0 ? { ...answer, alternatives: texts } : answer;
  }

  /** The cursor context of a request, and the budgets its prompt is built with. */
  private prepare(req: CompletionRequest): Prepared {
    const o = this.options();
    const maxTokens = Math.max(1, Math.min(o.maxTokens, Math.floor(o.contextLength / 4)));
    const promptTokens = Math.max(32, Math.min(o.maxPromptTokens, o.contextLength - maxTokens - 8));
    // Room for snippets only when there are neighbour files to take them from; otherwise the prefix keeps it.
    const neighbours = o.neighbourSnippets ? (req.neighbours?.() ?? []) : [];
    const budget = splitBudget(promptTokens, neighbours.length > 0);
    return { ctx: buildContext(req, budget), budget, maxTokens, o, neighbours };
  }

  /** The worker's params for a request: the one prompt builder, for completions and background prefills alike. */
  private paramsFor(req: CompletionRequest, p: Prepared): CompleteParams {
    const { ctx, budget, maxTokens, o, neighbours } = p;
    const snippets = budget.snippetTokens > 0 ? rankSnippets(ctx.prefix, req.languageId, req.path, neighbours, DEFAULT_SNIPPET_OPTIONS, this.snippetIndex) : [];
    return { prompt: buildFimPrompt(ctx, snippets, budget, o.fimTemplate), stop: stopOptionsFor(ctx, maxTokens, o.maxLines) };
  }

  /**
   * Background prefill: puts the prompt a completion at this cursor would send into the worker's KV cache, so the
   * first keystroke there prefills only its new tokens. The request goes through the same context and prompt
   * builder as complete(); of the prefilters only the file guards apply (size, long lines, binary, minified), not
   * those about the cursor's place in the line, since the next keystroke moves it anyway. Skipped when the prompt is
   * the last one this pipeline sent to the worker (the cache holds it already). The worker runs it only while no
   * other request waits; any request cancels it.
   */
  async prefill(req: CompletionRequest, opts: { signal?: AbortSignal } = {}): Promise<PrefillAnswer> {
    const backend = this.backend;
    if (!backend.prefill) return { sent: false, skip: 'unsupported' };
    const guard = prefilter({ ...req, trigger: 'manual' });
    if (guard) return { sent: false, skip: guard };
    const params = this.paramsFor(req, this.prepare(req));
    const key = this.promptKey(params);
    if (key === this.lastPrompt) return { sent: false, skip: 'unchanged' };
    this.lastPrompt = key;
    try {
      const result = await backend.prefill(params, { signal: opts.signal ?? new AbortController().signal });
      if (result.cancelled && this.lastPrompt === key) this.lastPrompt = null;
      this.log(`background prefill: ${result.prefilledTokens} of ${result.promptTokens} tokens (${result.reusedTokens} cached)${result.cancelled ? ', cancelled' : ''}, ${result.ms.toFixed(0)} ms`);
      return { sent: true, result };
    } catch (e) {
      if (this.lastPrompt === key) this.lastPrompt = null;
      this.log(`background prefill failed: ${(e as Error).message}`);
      return { sent: false, skip: 'failed' };
    }
  }

  private promptKey(params: CompleteParams): string {
    return `${this.backend.cacheEpoch ?? 0} ${JSON.stringify(params)}`;
  }

  private start(req: CompletionRequest, prepared: Prepared): Generation {
    this.generation?.controller.abort();
    const { ctx } = prepared;
    const params = this.paramsFor(req, prepared);
    const key = this.promptKey(params);
    this.lastPrompt = key;
    const gen = new Generation(req.languageId, ctx, () => this.options().maxLines);
    const controller = gen.controller;
    this.stats.modelRequests++;
    this.onGenerating(true);
    const finished = this.backend
      .complete(params, {
        signal: controller.signal,
        onPartial: (text) => gen.grew(text),
      })
      .then((r) => {
        this.recordTimings(r);
        // Superseded (newest wins) or reset: its caller gets 'cancelled' even where the worker finished it before
        // the cancel message reached it (a short completion under load), and a reset's old model fills no cache.
        if (r.stopReason === 'cancelled' || controller.signal.aborted) {
          gen.failed = 'cancelled';
          return;
        }
        const result = gen.resolved(r);
        const shown = this.display(result, '', ctx);
        this.cache.put(req.languageId, ctx.prefix, ctx.suffix, result, shown);
        if (shown) this.startAlternatives(req.languageId, ctx, () => params, shown);
        this.stats.total.push(performance.now() - gen.started);
        this.log(`completion: ${r.timings.generatedTokens} tokens, stop ${r.stopReason}, prompt ${r.timings.promptTokens} (${r.timings.reusedTokens} reused), ${r.timings.totalMs.toFixed(0)} ms, min margin ${r.timings.minMargin?.toFixed(3) ?? 'none'}`);
      })
      .catch((e: unknown) => {
        if (this.lastPrompt === key) this.lastPrompt = null;
        gen.failed = controller.signal.aborted ? 'cancelled' : 'workerError';
        if (!controller.signal.aborted) this.log(`worker error: ${(e as Error).message}`);
      })
      .finally(() => {
        this.onGenerating(false);
        if (this.generation === gen && gen.failed) this.generation = null;
        gen.ended();
      });
    gen.finished = finished;
    this.generation = gen;
    return gen;
  }

  private recordTimings(r: CompleteResult): void {
    const t = r.timings;
    this.stats.promptTokens += t.promptTokens;
    this.stats.reusedTokens += t.reusedTokens;
    this.stats.prefilledTokens += t.promptTokens - t.reusedTokens;
    this.stats.generatedTokens += t.generatedTokens;
    this.stats.decodeMs += t.decodeMs;
    this.stats.prefillMs += t.prefillMs;
  }

  /** Waits for the running generation (tests, CLI). */
  async idle(): Promise<void> {
    await this.generation?.finished;
  }

  /** Waits for the alternatives being decoded, if any (the Alt+] / Alt+[ keys, the bench). */
  async alternativesIdle(): Promise<void> {
    await this.alternatives?.done;
  }

  /** For tests and logs: the key a request maps to. */
  keyOf(req: CompletionRequest): string {
    const o = this.options();
    const ctx = buildContext(req, splitBudget(o.maxPromptTokens, false));
    return cacheKey(req.languageId, ctx.prefix, ctx.suffix);
  }
}
