/**
 * One model generation of the pipeline and its reuse rules: the text it has decoded so far (or its result), and
 * when it can serve a request other than the one that started it. A request continues it when it has the same
 * language and suffix and its prefix is the generation's prefix plus characters the generation produced (typed
 * through); the typed characters must also go through the suggestion shown for the shorter prefix, or its rest was
 * never shown. The rest is cut where the worker's stop rules would have stopped for the new cursor, then filtered
 * for it, so a reused answer equals what a fresh request there would show as far as the stop rules can tell.
 */
import { performance } from 'node:perf_hooks';
import type { CompleteResult, StopReason } from '../shared/protocol';
import { checkStop } from '../shared/stopRules';
import { typesThrough } from './cache';
import { POST_CACHE_FILTERS, PRE_CACHE_FILTERS, runFilters, STREAM_FILTERS } from './filters';
import { stopOptionsFor } from './prompt';
import type { CursorContext, RawCompletion, SkipReason } from './types';

/** The latest answered request with an onUpdate: its view of the text and what it was last given. */
export interface Watcher {
  readonly typed: string;
  readonly ctx: CursorContext;
  readonly answered: string;
  shown: string;
  readonly onUpdate: (finished: boolean) => void;
}

/**
 * Text decoded for an earlier cursor, reused at `ctx` (typed through): cut where the stop rules stop for this
 * cursor, and while it may still grow, to what no later token can cut. The stop reason is the new one if it cut.
 */
function cutForCursor(text: string, ctx: CursorContext, maxLines: number, finished: boolean, stopReason: StopReason | null): { text: string; stopReason: StopReason | null } {
  const check = checkStop(text, stopOptionsFor(ctx, Infinity, maxLines));
  if (check.stop) return { text: text.slice(0, check.keep), stopReason: check.stop };
  return { text: finished ? text : text.slice(0, check.safe), stopReason };
}

/** A finished completion as shown at `ctx` once `typed` was typed after its cursor; '' when typed leaves it. */
export function displayText(raw: RawCompletion, typed: string, ctx: CursorContext, maxLines: number): string {
  const text = runFilters(PRE_CACHE_FILTERS, raw.text, ctx, raw.stopReason);
  if (!text.startsWith(typed)) return '';
  const rest = typed ? cutForCursor(text.slice(typed.length), ctx, maxLines, true, raw.stopReason) : { text, stopReason: raw.stopReason };
  return runFilters(POST_CACHE_FILTERS, rest.text, ctx, rest.stopReason);
}

export class Generation {
  readonly controller = new AbortController();
  readonly started = performance.now();
  text = '';
  done = false;
  result: RawCompletion | null = null;
  timings: CompleteResult['timings'] | null = null;
  failed: SkipReason | null = null;
  finished: Promise<void> = Promise.resolve();
  watcher: Watcher | null = null;
  /** The typed text after which its suggestion was counted as shown: the editor's re-trigger as the ghost text grows
   * asks again at the same spot, and that is the same suggestion, not another one shown. */
  readonly counted = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly languageId: string,
    /** The context of the request that started it: its own suggestion is filtered for this. */
    readonly ctx: CursorContext,
    private readonly maxLines: () => number,
  ) {}

  get prefix(): string {
    return this.ctx.prefix;
  }

  get suffix(): string {
    return this.ctx.suffix;
  }

  /** The worker streamed more text. */
  grew(text: string): void {
    this.text = text;
    this.notify();
  }

  /** The worker's answer (not cancelled): its text is the result. */
  resolved(r: CompleteResult): RawCompletion {
    this.text = r.text;
    this.timings = r.timings;
    this.result = { text: r.text, stopReason: r.stopReason };
    return this.result;
  }

  /** The generation is over (answered, cancelled or failed): wakes those waiting. */
  ended(): void {
    this.done = true;
    this.notify();
  }

  /** If a request at `ctx` continues this generation, the characters typed since it began; otherwise null. */
  typedSince(languageId: string, ctx: CursorContext): string | null {
    if (this.failed || this.languageId !== languageId || this.suffix !== ctx.suffix) return null;
    if (!ctx.prefix.startsWith(this.prefix)) return null;
    const typed = ctx.prefix.slice(this.prefix.length);
    const ok = this.text.startsWith(typed) || (!this.done && typed.startsWith(this.text));
    return ok ? typed : null;
  }

  /** The streamed text so far as shown at `ctx` after `typed`; '' when typed leaves it. */
  partialText(typed: string, ctx: CursorContext): string {
    if (!this.text.startsWith(typed)) return '';
    const rest = typed ? cutForCursor(this.text.slice(typed.length), ctx, this.maxLines(), false, null).text : this.text;
    const partial = runFilters(STREAM_FILTERS, rest, ctx, null);
    // Trailing whitespace waits for what follows it (the finished text is trimmed at its end).
    return partial.trimEnd();
  }

  /** The suggestion its own request shows: the finished text through the filters, or the streamed part so far. */
  private shown(): string {
    if (this.done) return this.result ? displayText(this.result, '', this.ctx, this.maxLines()) : '';
    return this.partialText('', this.ctx);
  }

  /** Whether characters typed since the generation began go through the suggestion it shows (so far). */
  goesThrough(typed: string): boolean {
    // typed is empty for the generation's own request: no need to run the filters on every token for it
    return typed === '' || (this.text.startsWith(typed) && typesThrough(this.shown(), typed));
  }

  /** Resolves at the next change of the text or state, or when `signal` aborts. */
  changed(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.listeners.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.listeners.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Wakes those waiting for a change, and calls the watcher if the text it would be answered with now differs. */
  notify(): void {
    for (const l of [...this.listeners]) l();
    const w = this.watcher;
    if (!w || this.failed) return;
    const now = this.done && this.result ? displayText(this.result, w.typed, w.ctx, this.maxLines()) : this.partialText(w.typed, w.ctx);
    if (now === (this.done ? w.answered : w.shown)) return;
    w.shown = now;
    w.onUpdate(this.done);
  }
}
