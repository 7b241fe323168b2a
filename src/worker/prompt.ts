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
    const healBytes = healIndex >= 0 ? this.heal(tokenized[healIndex]!) : new Uint8Array(0);
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
   * Token healing: takes the part's last token back, and with it the rest of a whitespace run it ends, and returns
   * their bytes (empty when it cannot heal). A byte-level BPE splits whitespace at the end of a text unlike in the
   * middle of one: a cursor after a blank line and indentation ends the prompt with `\n` and `\n        `, where
   * training text had `\n\n       ` and ` while`. Taking back only the last token leaves a lone `\n` the model
   * rarely saw before another newline, and it answered with more whitespace; taking back the whole run lets it
   * choose the tokens it knows.
   */
  private heal(healed: TokenizedPart): Uint8Array {
    let taken = 0;
    let bytes: Uint8Array = new Uint8Array(0);
    while (taken < healed.ids.length && taken < MAX_HEALED_TOKENS) {
      const id = healed.ids[healed.ids.length - 1 - taken]!;
      const tokenBytes = this.tokenizer.tokenBytes[id]!;
      if (this.tokenizer.specialIds.has(id) || tokenBytes.length === 0) break;
      if (taken > 0 && !(isWhitespace(tokenBytes) && isWhitespace(bytes))) break;
      try {
        utf8Strict.decode(tokenBytes);
      } catch {
        break; // the token ends inside a multi-byte character: do not heal it
      }
      bytes = concatBytes(tokenBytes, bytes);
      taken++;
    }
    healed.ids = healed.ids.slice(0, healed.ids.length - taken);
    return bytes;
  }
}

/** Whitespace-only tokens taken back at most: a run of blank lines is a few tokens; past that, it is not a cursor. */
const MAX_HEALED_TOKENS = 8;

/** Whether the bytes are spaces, tabs and line ends only. */
export function isWhitespace(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
