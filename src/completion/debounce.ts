/**
 * Debounce adapted to typing speed (after Tabby's adaptive debouncer): wait about half the user's usual
 * interval between keystrokes, less where a completion is likely wanted (after a non-word character or at
 * the end of a line), nothing for the first keystroke after a pause. Pure; time is passed in.
 */
export interface DebounceOptions {
  readonly maxMs: number;
  /** Intervals longer than this are pauses, not typing. */
  readonly pauseMs: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { maxMs: 150, pauseMs: 1000 };

export class AdaptiveDebouncer {
  private last = -Infinity;
  private avgInterval = -1;

  constructor(private readonly opts: DebounceOptions = DEFAULT_DEBOUNCE) {}

  /** Records a keystroke at `now` and returns how long to wait before asking the model. */
  delayFor(now: number, linePrefix: string, lineSuffix: string): number {
    const interval = now - this.last;
    this.last = now;
    if (interval > this.opts.pauseMs) return 0;
    this.avgInterval = this.avgInterval < 0 ? interval : 0.8 * this.avgInterval + 0.2 * interval;
    const afterNonWord = /[^\w]$/.test(linePrefix) ? 1 : 0;
    const atLineEnd = lineSuffix.trim().length === 0 ? 1 : 0;
    const score = 0.6 * afterNonWord + 0.4 * atLineEnd;
    const factor = 1.2 - 0.8 * score;
    return Math.round(Math.max(0, Math.min(this.opts.maxMs, factor * this.avgInterval)));
  }

  get averageIntervalMs(): number {
    return this.avgInterval;
  }
}
