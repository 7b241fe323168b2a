/**
 * When to prefill in the background (issue 12, point 4): an editor gaining focus, a file opening, the model becoming
 * ready, and a pause after typing or moving the cursor each (re)start one debounce timer; when it runs out, the
 * prompt at the cursor of the active editor is prefilled through the pipeline (CompletionPipeline.prefill, the same
 * prompt builder as a completion), so that the first keystroke there prefills only its new tokens.
 *
 * An idle editor costs nothing: a timer exists only between an event and its debounce's end, nothing repeats, and a
 * target already prefilled (same document, version and cursor) is not sent again (the pipeline also skips a prompt
 * equal to the last one it sent, and the worker runs only tokens its cache lacks). Targets whose language is off
 * (the `enable` and `disabledLanguages` settings) are skipped; the pipeline applies the file guards (size, long
 * lines, binary, minified). No `vscode` import: src/extension/backgroundPrefill.ts feeds it editor events, and the
 * unit tests and `npm run bench` drive it directly.
 */
import type { PrefillAnswer } from '../completion/pipeline';
import type { CompletionRequest } from '../completion/types';

export type PrefillTrigger = 'focus' | 'open' | 'modelReady' | 'edit' | 'cursor';

/**
 * The debounce of each trigger: short after a switch of editor (a quick run through tabs still sends one prefill, for
 * the editor it stops at), longer after typing or a cursor move (a pause, not every keystroke; a keystroke's own
 * completion usually leaves its prompt in the cache already).
 */
export const PREFILL_DELAY_MS: Readonly<Record<PrefillTrigger, number>> = { focus: 150, open: 150, modelReady: 150, edit: 600, cursor: 600 };

/** The active editor's document and cursor as the scheduler sees them. */
export interface PrefillTarget {
  /** The document's identity (its URI). */
  readonly document: string;
  readonly version: number;
  /** The cursor's offset in the document. */
  readonly offset: number;
  readonly languageId: string;
  /** The completion request at the cursor; read only when a prefill is sent. */
  readonly request: () => CompletionRequest;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BackgroundPrefillDeps {
  /** The active editor now, or null (no editor, or one that is not a text document). */
  readonly target: () => PrefillTarget | null;
  /** Automatic completions are on for this language (global switch and disabled languages). */
  readonly allowed: (languageId: string) => boolean;
  /** The pipeline's prefill (CompletionPipeline.prefill). */
  readonly prefill: (req: CompletionRequest, signal: AbortSignal) => Promise<PrefillAnswer>;
  readonly timers?: Timers;
  readonly delays?: Partial<Record<PrefillTrigger, number>>;
  readonly log?: (message: string) => void;
}

/** What one debounce's end did. */
export type FireOutcome =
  | { readonly kind: 'noTarget' }
  | { readonly kind: 'disallowed'; readonly languageId: string }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'answered'; readonly answer: PrefillAnswer };

export class BackgroundPrefiller {
  private timer: unknown = null;
  /** The last target sent (document, version, cursor), cleared when its prefill did not finish. */
  private lastKey: string | null = null;
  private inflight: { controller: AbortController; done: Promise<FireOutcome> } | null = null;
  private disposed = false;
  private readonly timers: Timers;
  /** Counters for the log, the bench and the tests. */
  readonly counts = { triggers: 0, fired: 0, sent: 0, skipped: 0, duplicates: 0, disallowed: 0, cancelled: 0, prefilledTokens: 0 };

  constructor(private readonly deps: BackgroundPrefillDeps) {
    this.timers = deps.timers ?? realTimers;
  }

  /** An editor event: (re)starts the debounce; when it ends, the active editor's cursor is prefilled. */
  trigger(kind: PrefillTrigger): void {
    if (this.disposed) return;
    this.counts.triggers++;
    // A new model (or a restarted worker) starts with an empty cache: the same target is worth sending again.
    if (kind === 'modelReady') this.lastKey = null;
    if (this.timer !== null) this.timers.clear(this.timer);
    const ms = this.deps.delays?.[kind] ?? PREFILL_DELAY_MS[kind];
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.fire();
    }, ms);
  }

  /** Whether a debounce timer is pending (an idle editor has none). */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** The prefill in flight, if any (resolves when the worker answered it). */
  get settled(): Promise<FireOutcome | null> {
    return this.inflight?.done ?? Promise.resolve(null);
  }

  /** The debounce's end: prefills the active editor's cursor unless it is off, already sent, or not there. */
  async fire(): Promise<FireOutcome> {
    this.counts.fired++;
    const target = this.deps.target();
    if (!target) return { kind: 'noTarget' };
    if (!this.deps.allowed(target.languageId)) {
      this.counts.disallowed++;
      return { kind: 'disallowed', languageId: target.languageId };
    }
    const key = `${target.document}\n${target.version}\n${target.offset}\n${target.languageId}`;
    if (key === this.lastKey) {
      this.counts.duplicates++;
      return { kind: 'duplicate' };
    }
    this.lastKey = key;
    // A newer target replaces the one in flight (the worker would cancel it anyway when this one arrives).
    this.inflight?.controller.abort();
    const controller = new AbortController();
    const done = this.send(target, key, controller);
    const mine = { controller, done };
    this.inflight = mine;
    try {
      return await done;
    } finally {
      if (this.inflight === mine) this.inflight = null;
    }
  }

  private async send(target: PrefillTarget, key: string, controller: AbortController): Promise<FireOutcome> {
    const answer = await this.deps.prefill(target.request(), controller.signal);
    if (answer.sent) {
      this.counts.sent++;
      this.counts.prefilledTokens += answer.result.prefilledTokens;
      if (answer.result.cancelled) this.counts.cancelled++;
    } else {
      this.counts.skipped++;
    }
    // Not all of it is in the cache: a later trigger for the same target may send it again (only the rest runs).
    const incomplete = answer.sent ? answer.result.cancelled : answer.skip === 'failed';
    if (incomplete && this.lastKey === key) this.lastKey = null;
    this.deps.log?.(`background prefill at ${target.document}:${target.offset}: ${answer.sent ? `${answer.result.prefilledTokens} tokens${answer.result.cancelled ? ', cancelled' : ''}` : `skipped (${answer.skip})`}`);
    return { kind: 'answered', answer };
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.inflight?.controller.abort();
  }
}
