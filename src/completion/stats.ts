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
