/**
 * Finished completions keyed by (language, prefix window, suffix window), LRU-bounded. A lookup also finds
 * an entry whose prefix plus the characters typed since equals the current prefix, when the suggestion shown
 * for it (and its raw text) starts with those characters: typing through a shown suggestion keeps showing its
 * rest, no new request. A completion the filters discarded there was never shown, so nothing is typed through
 * it: the new prefix gets the model's own completion.
 */
import type { RawCompletion } from './types';

/** How many characters typed after a cached prefix are still matched against its completion. */
export const TYPED_THROUGH_MAX = 128;

export interface CacheHit {
  readonly raw: RawCompletion;
  /** Characters typed since the entry was made ('' for an exact hit). */
  readonly typed: string;
}

/** Typing `typed` goes through a suggestion `text` when the text starts with it and goes on after it. */
export function typesThrough(text: string, typed: string): boolean {
  return typed === '' || (text.length > typed.length && text.startsWith(typed));
}

export function cacheKey(languageId: string, prefix: string, suffix: string): string {
  return `${languageId}\u0000${suffix}\u0000${prefix}`;
}

interface Entry {
  readonly raw: RawCompletion;
  /** The text its own request showed (the raw text after the filters; '' when they discarded it). */
  readonly shown: string;
  /** Other suggestions for the same prompt, after the filters, once decoded (src/completion/alternatives.ts). */
  alternatives?: readonly string[];
}

export class CompletionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 256) {}

  get size(): number {
    return this.entries.size;
  }

  /** `shown`: what the request for this prefix showed; typed-through hits must start in it (default: the raw text). */
  put(languageId: string, prefix: string, suffix: string, raw: RawCompletion, shown: string = raw.text): void {
    const key = cacheKey(languageId, prefix, suffix);
    this.entries.delete(key);
    this.entries.set(key, { raw, shown });
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
      const entry = this.entries.get(key);
      if (!entry) continue;
      const typed = prefix.slice(prefix.length - i);
      if (i > 0 && !(typesThrough(entry.raw.text, typed) && typesThrough(entry.shown, typed))) continue;
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return { raw: entry.raw, typed };
    }
    return null;
  }

  /** Keeps the alternatives decoded for an entry's prompt (none when the entry is gone). */
  setAlternatives(languageId: string, prefix: string, suffix: string, texts: readonly string[]): void {
    const entry = this.entries.get(cacheKey(languageId, prefix, suffix));
    if (entry) entry.alternatives = texts;
  }

  /** The alternatives decoded for exactly this prompt, if any. */
  alternativesOf(languageId: string, prefix: string, suffix: string): readonly string[] | undefined {
    return this.entries.get(cacheKey(languageId, prefix, suffix))?.alternatives;
  }

  clear(): void {
    this.entries.clear();
  }
}
