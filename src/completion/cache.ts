/**
 * Finished completions keyed by (language, prefix window, suffix window), LRU-bounded. A lookup also finds
 * an entry whose prefix plus the characters typed since equals the current prefix, when the cached text
 * starts with those characters: typing through a shown suggestion keeps showing its rest, no new request.
 */
import type { RawCompletion } from './types';

/** How many characters typed after a cached prefix are still matched against its completion. */
export const TYPED_THROUGH_MAX = 128;

export interface CacheHit {
  readonly raw: RawCompletion;
  /** Characters typed since the entry was made ('' for an exact hit). */
  readonly typed: string;
}

export function cacheKey(languageId: string, prefix: string, suffix: string): string {
  return `${languageId}\u0000${suffix}\u0000${prefix}`;
}

export class CompletionCache {
  private readonly entries = new Map<string, RawCompletion>();

  constructor(private readonly capacity = 256) {}

  get size(): number {
    return this.entries.size;
  }

  put(languageId: string, prefix: string, suffix: string, raw: RawCompletion): void {
    const key = cacheKey(languageId, prefix, suffix);
    this.entries.delete(key);
    this.entries.set(key, raw);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get(languageId: string, prefix: string, suffix: string): CacheHit | null {
    const max = Math.min(TYPED_THROUGH_MAX, prefix.length);
    for (let i = 0; i <= max; i++) {
      const key = cacheKey(languageId, prefix.slice(0, prefix.length - i), suffix);
      const raw = this.entries.get(key);
      if (!raw) continue;
      const typed = prefix.slice(prefix.length - i);
      if (i > 0 && !(raw.text.startsWith(typed) && raw.text.length > typed.length)) continue;
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, raw);
      return { raw, typed };
    }
    return null;
  }

  clear(): void {
    this.entries.clear();
  }
}
