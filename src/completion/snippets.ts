/**
 * Snippets from other files of the same language, ranked by similarity to the code just before the cursor
 * (Jaccard similarity of identifier sets over sliding windows of lines, as in Copilot's "neighbouring tabs").
 */
import type { NeighbourFile } from './types';

export interface Snippet {
  readonly path: string;
  readonly text: string;
  readonly score: number;
}

export interface SnippetOptions {
  readonly windowLines: number;
  readonly maxSnippets: number;
  readonly maxChars: number;
  readonly minScore: number;
}

export const DEFAULT_SNIPPET_OPTIONS: SnippetOptions = { windowLines: 16, maxSnippets: 3, maxChars: 1500, minScore: 0.15 };

/** Files bigger than this are not scanned for snippets. */
const MAX_NEIGHBOUR_CHARS = 100_000;

export function identifiers(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_]{2,}/g)) out.add(m[0]);
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

interface Window {
  readonly text: string;
  readonly ids: ReadonlySet<string>;
}

function windowsOf(text: string, windowLines: number): Window[] {
  const lines = text.split('\n');
  const stride = Math.max(1, Math.floor(windowLines / 2));
  const out: Window[] = [];
  for (let i = 0; i < lines.length; i += stride) {
    const w = lines.slice(i, i + windowLines).join('\n');
    out.push({ text: w, ids: identifiers(w) });
    if (i + windowLines >= lines.length) break;
  }
  return out;
}

/** Windows of the files seen last time, reused while their text is unchanged (they rarely change while typing elsewhere). */
export class SnippetIndex {
  private readonly byPath = new Map<string, { text: string; windows: Window[] }>();

  windows(f: NeighbourFile, windowLines: number): Window[] {
    const hit = this.byPath.get(f.path);
    if (hit && hit.text === f.text) return hit.windows;
    const windows = windowsOf(f.text, windowLines);
    this.byPath.set(f.path, { text: f.text, windows });
    if (this.byPath.size > 64) this.byPath.delete(this.byPath.keys().next().value as string);
    return windows;
  }
}

/** Best-matching windows of the neighbour files for the last `windowLines` lines of the prefix. */
export function rankSnippets(
  prefix: string,
  languageId: string,
  currentPath: string,
  files: readonly NeighbourFile[],
  opts = DEFAULT_SNIPPET_OPTIONS,
  index = new SnippetIndex(),
): Snippet[] {
  const query = identifiers(prefix.split('\n').slice(-opts.windowLines).join('\n'));
  if (query.size === 0) return [];
  const candidates: Snippet[] = [];
  for (const f of files) {
    if (f.path === currentPath || f.languageId !== languageId || f.text.length > MAX_NEIGHBOUR_CHARS) continue;
    let best: Snippet | null = null;
    for (const w of index.windows(f, opts.windowLines)) {
      const score = jaccard(query, w.ids);
      if (!best || score > best.score) best = { path: f.path, text: w.text, score };
    }
    if (best && best.score >= opts.minScore) candidates.push(best);
  }
  candidates.sort((a, b) => b.score - a.score);
  const out: Snippet[] = [];
  let chars = 0;
  for (const c of candidates) {
    if (out.length >= opts.maxSnippets || chars + c.text.length > opts.maxChars) continue;
    out.push(c);
    chars += c.text.length;
  }
  return out;
}
