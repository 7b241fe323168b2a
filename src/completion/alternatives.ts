/**
 * Alternatives to a shown suggestion, for VS Code's Show Next / Previous Inline Suggestion (issue 14, point 8).
 *
 * Copilot and Tabby decode more choices when the user asks to cycle (an explicit request) and the user waits for
 * them. Here they are decoded right after the first suggestion is finished, at the lowest priority, so cycling
 * usually finds them ready: the worker starts each from another of the most likely first tokens at the same prompt,
 * reusing its KV cache, and decodes greedily with the same stop rules (protocol `alternatives`); the pipeline runs
 * them through the same filters as the first. Any request for another prompt cancels them (typing), as it does a
 * background prefill.
 */

/** Alternatives decoded beside the first suggestion: with it, up to 3 suggestions to cycle through. */
export const ALTERNATIVES = 2;

/**
 * The alternatives worth offering beside `first`, in order: those the filters left non-empty and that differ from
 * the first and from each other (compared without trailing whitespace, which the ghost text does not show anyway).
 */
export function distinctAlternatives(first: string, candidates: readonly string[]): string[] {
  const seen = new Set([first.trimEnd()]);
  const out: string[] = [];
  for (const text of candidates) {
    const key = text.trimEnd();
    if (key.trim() === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(text);
  }
  return out;
}

/** The alternatives of one prompt: being decoded, or decoded. */
export interface AlternativesRun {
  /** The prompt's cache key (language, prefix window, suffix window). */
  readonly key: string;
  readonly controller: AbortController;
  /** After the filters; null while they are decoded. */
  texts: readonly string[] | null;
  /** Settles when the worker has answered (or the request failed). */
  done: Promise<void>;
}
