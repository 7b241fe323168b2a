/**
 * Prompt building in the worker: the request's parts tokenized, cut to their budgets and to the context, and
 * token healing (the last token at the cursor taken back, and the choice of tokens that re-create its bytes).
 */
import { WorkerError } from './errors';
import type { ModelInfo, PromptPart } from '../shared/protocol';
import type { ModelTokenizer } from './tokenizer';

export interface BuiltPrompt {
  ids: number[];
  /** Bytes the first generated tokens must reproduce (token healing); empty when not healing. */
  healBytes: Uint8Array;
}

/** One part's token ids, cut as the prompt is fitted. */
interface TokenizedPart {
  ids: number[];
  readonly part: PromptPart;
}

/**
 * A part kept by its end (the prefix) loses its head in steps of this many tokens. Cut token by token, its first
 * token would move with every keystroke once the text is over its budget, and nothing after it could come from the
 * KV cache; cut in steps, it stays put for about this many typed tokens.
 */
export const HEAD_CUT_STEP = 64;

/** The ids of a part kept by its end, at most `maxTokens` of them, its head cut in steps of HEAD_CUT_STEP. */
export function keepEnd(ids: readonly number[], maxTokens: number): number[] {
  if (ids.length <= maxTokens) return ids.slice();
  const cut = Math.min(ids.length, Math.ceil((ids.length - maxTokens) / HEAD_CUT_STEP) * HEAD_CUT_STEP);
  return ids.slice(cut);
}

function startsWithBytes(a: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

/** Whether a token with these bytes agrees with the bytes still owed to token healing. */
export function agreesWithHealing(bytes: Uint8Array, owed: Uint8Array): boolean {
  return startsWithBytes(bytes, owed) || startsWithBytes(owed, bytes);
}

/** Greedy choice among tokens compatible with the bytes still owed to token healing; -1 when none is. */
export function pickHealing(tokenizer: ModelTokenizer, logits: Float32Array, owed: Uint8Array): number {
  let best = -1;
  let bestValue = -Infinity;
  const table = tokenizer.tokenBytes;
  for (let id = 0; id < table.length; id++) {
    const b = table[id]!;
    if (b.length === 0 || tokenizer.specialIds.has(id)) continue;
    if (!agreesWithHealing(b, owed)) continue;
    const v = logits[id]!;
    if (v > bestValue) {
      bestValue = v;
      best = id;
    }
  }
  return best;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Builds prompts for one model: its tokenizer, special tokens and context length. */
export class PromptBuilder {
  constructor(
    private readonly tokenizer: ModelTokenizer,
    private readonly info: Pick<ModelInfo, 'specialTokens' | 'contextLength'>,
  ) {}

  /** Tokenizes the parts, applies per-part budgets, the context limit (leaving `reserve` tokens) and token healing. */
  async build(parts: readonly PromptPart[], reserve: number): Promise<BuiltPrompt> {
    const { tokenized, healIndex } = await this.tokenizeParts(parts);
    this.fitContext(tokenized, reserve);
    const healBytes = healIndex >= 0 ? await this.heal(tokenized[healIndex]!) : new Uint8Array(0);
    return { ids: tokenized.flatMap((t) => t.ids), healBytes };
  }

  /** Each part's ids within its own budget, and the index of the part to heal (-1 when none). */
  private async tokenizeParts(parts: readonly PromptPart[]): Promise<{ tokenized: TokenizedPart[]; healIndex: number }> {
    const tokenized: TokenizedPart[] = [];
    let healIndex = -1;
    for (const part of parts) {
      if (part.kind === 'special') {
        const st = this.info.specialTokens[part.token];
        if (!st) throw new WorkerError('BAD_REQUEST', `unknown special token ${String(part.token)}`);
        tokenized.push({ ids: [st.id], part });
        continue;
      }
      let ids = await this.tokenizer.encode(part.text);
      if (part.maxTokens !== undefined && ids.length > part.maxTokens) {
        ids = part.keep === 'end' ? keepEnd(ids, part.maxTokens) : ids.slice(0, part.maxTokens);
      }
      if (part.heal) {
        if (healIndex >= 0) throw new WorkerError('BAD_REQUEST', 'only one prompt part may set heal');
        healIndex = tokenized.length;
      }
      tokenized.push({ ids, part });
    }
    return { tokenized, healIndex };
  }

  /** Fits the context: prompt + tokens to generate <= contextLength. Cuts parts by trimPriority (highest first). */
  private fitContext(tokenized: TokenizedPart[], reserve: number): void {
    const limit = this.info.contextLength - reserve;
    if (limit < 8) throw new WorkerError('BAD_REQUEST', `maxTokens ${reserve} leaves no room for a prompt in context ${this.info.contextLength}`);
    let total = tokenized.reduce((n, t) => n + t.ids.length, 0);
    const order = tokenized
      .filter((t) => t.part.kind === 'text')
      .sort((a, b) => ((b.part as { trimPriority?: number }).trimPriority ?? 0) - ((a.part as { trimPriority?: number }).trimPriority ?? 0));
    for (const t of order) {
      if (total <= limit) break;
      const cut = Math.min(t.ids.length, total - limit);
      t.ids = (t.part as { keep?: string }).keep === 'end' ? t.ids.slice(cut) : t.ids.slice(0, t.ids.length - cut);
      total -= cut;
    }
    if (total > limit) throw new WorkerError('BAD_REQUEST', 'prompt special tokens alone exceed the context');
  }

  /**
   * Token healing: takes the part's last token back, and with it the whitespace tokens before it that running text
   * would have split otherwise, and returns their bytes (empty when it cannot heal). A byte-level BPE splits
   * whitespace at the end of a text unlike in the middle of one: a cursor after a blank line and indentation ends
   * the prompt with `\n` and `\n        `, where code that goes on has `\n\n       ` and ` while`. Taking back only
   * the last token left a lone `\n` that the model rarely saw before another newline, and it answered with more
   * whitespace. So the whitespace at the end is tokenized again with a character after it, as code goes on after a
   * cursor, and every token from the first one that changed is taken back; a blank line with trailing spaces before
   * the cursor's line stays, since running text keeps it as its own token too.
   */
  private async heal(healed: TokenizedPart): Promise<Uint8Array> {
    const ids = healed.ids;
    const last = ids[ids.length - 1];
    if (last === undefined || !this.healable(last)) return new Uint8Array(0);
    const bytesOf = (from: number): Uint8Array => concatBytes(ids.slice(from).map((id) => this.tokenizer.tokenBytes[id]!));
    let spaces = 0; // whitespace-only tokens at the end
    while (spaces < Math.min(ids.length, MAX_HEALED_TOKENS) && isWhitespace(this.tokenizer.tokenBytes[ids[ids.length - 1 - spaces]!]!)) spaces++;
    let taken = 1;
    if (spaces >= 2) {
      const run = ids.slice(ids.length - spaces);
      const goingOn = await this.tokenizer.encode(utf8Strict.decode(bytesOf(ids.length - spaces)) + 'x');
      let same = 0;
      while (same < run.length && goingOn[same] === run[same]) same++;
      taken = Math.max(1, spaces - same);
    }
    const bytes = bytesOf(ids.length - taken);
    healed.ids = ids.slice(0, ids.length - taken);
    return bytes;
  }

  /** A token healing may take back: text (not special, not empty) that ends on a whole character. */
  private healable(id: number): boolean {
    const bytes = this.tokenizer.tokenBytes[id]!;
    if (this.tokenizer.specialIds.has(id) || bytes.length === 0) return false;
    try {
      utf8Strict.decode(bytes);
      return true;
    } catch {
      return false; // the token ends inside a multi-byte character
    }
  }
}

/** Whitespace tokens before the cursor looked at by healing: more than a run of blank lines and indentation takes. */
const MAX_HEALED_TOKENS = 8;

/** Whether the bytes are spaces, tabs and line ends only. */
export function isWhitespace(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
