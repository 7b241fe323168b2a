/** Local statistics of the completion pipeline: counters and latency percentiles. Nothing leaves the machine. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

class Ring {
  private readonly values: number[] = [];
  constructor(private readonly size: number) {}
  push(v: number): void {
    this.values.push(v);
    if (this.values.length > this.size) this.values.shift();
  }
  get all(): readonly number[] {
    return this.values;
  }
  get last(): number {
    return this.values[this.values.length - 1] ?? NaN;
  }
}

/**
 * Where a suggestion's first ghost text came from: the result cache (typed through included), a generation already
 * running for an earlier keystroke, or a generation started for this request.
 */
export type TextSource = 'cache' | 'running' | 'model';

export class PipelineStats {
  requests = 0;
  modelRequests = 0;
  cacheHits = 0;
  typedThroughHits = 0;
  inflightReuse = 0;
  skipped: Record<string, number> = {};
  promptTokens = 0;
  reusedTokens = 0;
  generatedTokens = 0;
  decodeMs = 0;
  prefillMs = 0;
  prefilledTokens = 0;
  readonly firstText = new Ring(500);
  /** Time to first text of the requests the model decoded for (no cache, no running generation). */
  readonly firstTextFromModel = new Ring(500);
  lastSource: TextSource | null = null;
  readonly shownFrom: Record<TextSource, number> = { cache: 0, running: 0, model: 0 };
  readonly total = new Ring(500);
  /** Generations started by prefetch() (after an accept) before the editor asked. */
  prefetches = 0;
  /** Alternatives decoded in the background: runs, those cancelled, suggestions kept after the filters, worker tokens and time. */
  readonly alternatives = { runs: 0, cancelled: 0, offered: 0, generatedTokens: 0, ms: 0 };
  /** Suggestions shown, accepted and partially accepted, per language (fed by the provider and the editor). */
  readonly acceptance = new AcceptanceStats();
  /** Called after each shown() (the status bar's tooltip follows). */
  onShown: (() => void) | undefined;

  /** A request's first ghost text was shown `ms` after it came in. */
  shown(ms: number, source: TextSource): void {
    this.firstText.push(ms);
    if (source === 'model') this.firstTextFromModel.push(ms);
    this.lastSource = source;
    this.shownFrom[source]++;
    this.onShown?.();
  }

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  summary(): Record<string, number> {
    const ft = this.firstText.all;
    const tt = this.total.all;
    return {
      requests: this.requests,
      modelRequests: this.modelRequests,
      cacheHits: this.cacheHits,
      typedThroughHits: this.typedThroughHits,
      inflightReuse: this.inflightReuse,
      firstTextLastMs: this.firstText.last,
      firstTextP50Ms: percentile(ft, 50),
      firstTextP95Ms: percentile(ft, 95),
      firstTextFromModelP50Ms: percentile(this.firstTextFromModel.all, 50),
      firstTextFromModelP95Ms: percentile(this.firstTextFromModel.all, 95),
      totalP50Ms: percentile(tt, 50),
      totalP95Ms: percentile(tt, 95),
      kvReuseRate: this.promptTokens > 0 ? this.reusedTokens / this.promptTokens : NaN,
      decodeTokensPerSec: this.decodeMs > 0 ? (1000 * this.generatedTokens) / this.decodeMs : NaN,
      prefillTokensPerSec: this.prefillMs > 0 ? (1000 * this.prefilledTokens) / this.prefillMs : NaN,
    };
  }
}

/** Suggestions shown, and what the user took of them, in one language. */
export interface AcceptanceCounts {
  /** Distinct suggestions shown (a suggestion that grows while it streams, or is typed through, counts once). */
  shown: number;
  /** Taken whole (Tab), or to its end a word or line at a time. */
  accepted: number;
  /** A word or a line of it taken (Ctrl+Right and friends), never the rest. */
  partiallyAccepted: number;
}

/** A suggestion as the editor was given it: its document, where its text starts (an offset) and the text. */
export interface Offer {
  readonly languageId: string;
  readonly uri: string;
  readonly offset: number;
  readonly text: string;
}

/**
 * Acceptance per language, from what the provider offers, the accept command VS Code runs after a whole accept, and
 * the document edits (a word or line of the suggestion inserted at its place is a partial accept). The editor asks
 * again while a suggestion streams, after each typed-through character and after each partial accept: an offer that
 * continues the current suggestion (the same document, starting k characters further, its text agreeing with the
 * current text from k) is the same suggestion and is not counted again.
 */
export class AcceptanceStats {
  readonly byLanguage: Record<string, AcceptanceCounts> = {};
  private current: { languageId: string; uri: string; offset: number; text: string; partial: boolean; done: boolean } | null = null;

  private counts(languageId: string): AcceptanceCounts {
    // an own-property record: a language id such as `__proto__` or `constructor` is data
    if (!Object.prototype.hasOwnProperty.call(this.byLanguage, languageId)) {
      Object.defineProperty(this.byLanguage, languageId, { value: { shown: 0, accepted: 0, partiallyAccepted: 0 }, enumerable: true, writable: true, configurable: true });
    }
    return this.byLanguage[languageId]!;
  }

  /** The provider returns `o.text` to be shown at `o.offset`. */
  offered(o: Offer): void {
    if (o.text.length === 0) return;
    const c = this.current;
    if (c && !c.done && c.uri === o.uri && c.languageId === o.languageId) {
      const k = o.offset - c.offset;
      const tail = k >= 0 ? c.text.slice(k) : '';
      if (k >= 0 && tail.length > 0 && (tail.startsWith(o.text) || o.text.startsWith(tail))) {
        if (o.text.length > tail.length) c.text = c.text.slice(0, k) + o.text;
        return;
      }
    }
    this.current = { languageId: o.languageId, uri: o.uri, offset: o.offset, text: o.text, partial: false, done: false };
    this.counts(o.languageId).shown++;
  }

  /** VS Code ran the item's command: the suggestion (what was left of it) was accepted whole. */
  accepted(languageId: string): void {
    const c = this.current;
    if (c?.done && c.languageId === languageId) return; // its edit came first and already counted it
    const n = this.counts(languageId);
    n.accepted++;
    if (c && !c.done && c.languageId === languageId) {
      if (c.partial) n.partiallyAccepted--;
      c.done = true;
    }
  }

  /**
   * A document edit: `inserted` replaced text at `offset`. Inserting two or more characters of the suggestion at its
   * place takes part of it (one character is typing through); inserting all that is left takes it whole.
   */
  edited(uri: string, offset: number, inserted: string): void {
    const c = this.current;
    if (!c || c.done || c.uri !== uri || inserted.length < 2) return;
    const k = offset - c.offset;
    if (k < 0 || k >= c.text.length) return;
    const tail = c.text.slice(k);
    if (!tail.startsWith(inserted)) return;
    const n = this.counts(c.languageId);
    if (inserted.length === tail.length) {
      n.accepted++;
      if (c.partial) n.partiallyAccepted--;
      c.done = true;
    } else if (!c.partial) {
      n.partiallyAccepted++;
      c.partial = true;
    }
  }

  /** Totals over the languages. */
  get total(): AcceptanceCounts {
    const t = { shown: 0, accepted: 0, partiallyAccepted: 0 };
    for (const n of Object.values(this.byLanguage)) {
      t.shown += n.shown;
      t.accepted += n.accepted;
      t.partiallyAccepted += n.partiallyAccepted;
    }
    return t;
  }
}
