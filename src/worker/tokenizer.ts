/**
 * The model's tokenizer: encoding with Hugging Face `tokenizers` (native), and a table of the bytes of
 * every token, so that decoded text is built incrementally without calling decode per token and token
 * healing can compare token bytes with the text at the cursor.
 */
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { WorkerError } from './errors';
import { MAX_TEXT_FILE_BYTES, readBoundedText, SPECIAL_TOKEN_NAMES, type Manifest } from './manifest';

/** GPT-2's byte-level alphabet: byte value -> printable code point used in the vocab strings. */
function byteLevelDecodeTable(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n);
      n++;
    }
  }
  const table = new Map<string, number>();
  bytes.forEach((b, i) => table.set(String.fromCodePoint(chars[i]!), b));
  return table;
}

export class ModelTokenizer {
  /** bytes of each token id (special tokens: their UTF-8 text). Empty for unused ids. */
  readonly tokenBytes: Uint8Array[];
  readonly specialIds: ReadonlySet<number>;

  private constructor(
    private readonly tok: Tokenizer,
    tokenBytes: Uint8Array[],
    specialIds: Set<number>,
  ) {
    this.tokenBytes = tokenBytes;
    this.specialIds = specialIds;
  }

  /** `manifest.vocabSize` must already be checked against the graph: the byte table has that many entries. */
  static async load(file: string, manifest: Manifest): Promise<ModelTokenizer> {
    let json: {
      model?: { type?: string; vocab?: Record<string, number> };
      decoder?: { type?: string; decoders?: { type?: string }[] } | null;
      added_tokens?: { id: number; content: string }[];
    };
    let tok: Tokenizer;
    try {
      const text = await readBoundedText(file, MAX_TEXT_FILE_BYTES);
      json = JSON.parse(text);
      tok = Tokenizer.fromString(text);
    } catch (e) {
      throw new WorkerError('TOKENIZER_INVALID', `Tokenizer ${file} does not load: ${(e as Error).message}`);
    }
    const decoder = json.decoder;
    const byteLevel =
      decoder?.type === 'ByteLevel' || (decoder?.type === 'Sequence' && (decoder.decoders ?? []).some((d) => d.type === 'ByteLevel'));
    if (json.model?.type !== 'BPE' || !json.model.vocab || !byteLevel) {
      throw new WorkerError('TOKENIZER_INVALID', `Tokenizer ${file} must be a byte-level BPE tokenizer (model BPE, decoder ByteLevel)`);
    }
    const table = byteLevelDecodeTable();
    const tokenBytes: Uint8Array[] = new Array(manifest.vocabSize);
    const empty = new Uint8Array(0);
    tokenBytes.fill(empty);
    const put = (id: number, bytes: Uint8Array, what: string): void => {
      if (!Number.isInteger(id) || id < 0 || id >= manifest.vocabSize) {
        throw new WorkerError('TOKENIZER_INVALID', `Tokenizer ${file}: ${what} has id ${id}, not below the manifest's vocabSize ${manifest.vocabSize}`);
      }
      tokenBytes[id] = bytes;
    };
    for (const [piece, id] of Object.entries(json.model.vocab)) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = table.get(ch);
        if (b === undefined) throw new WorkerError('TOKENIZER_INVALID', `Tokenizer ${file}: vocab entry ${JSON.stringify(piece)} is not byte-level`);
        out.push(b);
      }
      put(id, Uint8Array.from(out), `vocab entry ${JSON.stringify(piece)}`);
    }
    const added = new Map<string, number>();
    for (const t of json.added_tokens ?? []) {
      put(t.id, new TextEncoder().encode(t.content), `added token ${JSON.stringify(t.content)}`);
      added.set(t.content, t.id);
    }
    const specialIds = new Set<number>();
    for (const key of SPECIAL_TOKEN_NAMES) {
      const st = manifest.specialTokens[key];
      if (added.get(st.text) !== st.id) {
        throw new WorkerError(
          'MANIFEST_INVALID',
          `Model folder ${path.dirname(file)}: manifest.json specialTokens.${key} is ${JSON.stringify(st.text)} = ${st.id}, but the tokenizer has ${added.has(st.text) ? `id ${added.get(st.text)}` : 'no such added token'}`,
        );
      }
      specialIds.add(st.id);
    }
    for (const id of manifest.stopTokenIds) specialIds.add(id);
    return new ModelTokenizer(tok, tokenBytes, specialIds);
  }

  /** Token ids of plain text; special-token text inside user code is not allowed to become a special token. */
  async encode(text: string): Promise<number[]> {
    if (text.length === 0) return [];
    const enc = await this.tok.encode(text, null, { addSpecialTokens: false });
    const ids = enc.getIds();
    if (!ids.some((id) => this.specialIds.has(id))) return ids;
    // User text that spells a special token (for example a file about FIM prompts): encode the pieces
    // between them, so the model never sees a control token it did not get from us.
    const out: number[] = [];
    for (const piece of this.splitOnSpecialText(text)) {
      if (piece.length === 0) continue;
      const e = await this.tok.encode(piece, null, { addSpecialTokens: false });
      for (const id of e.getIds()) if (!this.specialIds.has(id)) out.push(id);
    }
    return out;
  }

  private splitOnSpecialText(text: string): string[] {
    let pieces = [text];
    for (const id of this.specialIds) {
      const t = new TextDecoder().decode(this.tokenBytes[id]);
      if (t.length === 0) continue;
      pieces = pieces.flatMap((p) => p.split(t));
    }
    return pieces;
  }

  async decode(ids: number[]): Promise<string> {
    return this.tok.decode(ids, false);
  }
}
