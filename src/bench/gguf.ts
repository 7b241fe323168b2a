/**
 * A GGUF v3 writer (spec: ggml-org/ggml docs/gguf.md) and a llama-architecture file with random Q8_0 weights in
 * the shape of one of our dense configs, so that llama.cpp can be timed on exactly our dense twin's shape.
 * Timing does not depend on weight values; no model hub is needed.
 *
 * Layout: magic `GGUF`, version, tensor count, metadata count, metadata key/values, tensor infos (name, dims
 * innermost first, type, offset into the data), padding to the alignment, then each tensor's data padded to it.
 */
import * as fs from 'node:fs';

export const GGUF_ALIGNMENT = 32;
export const GGML_TYPE = { F32: 0, Q8_0: 8 } as const;
/** general.file_type of a file whose matrices are Q8_0 (llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0). */
const FILE_TYPE_MOSTLY_Q8_0 = 7;
const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/** GGUF metadata value types (the spec's gguf_metadata_value_type). */
const VALUE_TYPE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

export type GgufValue =
  | { readonly u32: number }
  | { readonly f32: number }
  | { readonly bool: boolean }
  | { readonly str: string }
  | { readonly strs: readonly string[] }
  | { readonly i32s: readonly number[] };

export interface GgufTensor {
  readonly name: string;
  /** Dimensions innermost first (ggml's ne[0] is the row length). */
  readonly dims: readonly number[];
  readonly type: (typeof GGML_TYPE)[keyof typeof GGML_TYPE];
  readonly data: Uint8Array;
}

/** Appends little-endian values to a growing list of chunks. */
class ByteWriter {
  readonly chunks: Buffer[] = [];
  length = 0;

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private scalar(bytes: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(bytes);
    write(b);
    this.push(b);
  }

  u32(v: number): void {
    this.scalar(4, (b) => b.writeUInt32LE(v));
  }

  i32(v: number): void {
    this.scalar(4, (b) => b.writeInt32LE(v));
  }

  u64(v: number): void {
    this.scalar(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  }

  f32(v: number): void {
    this.scalar(4, (b) => b.writeFloatLE(v));
  }

  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(b: Uint8Array): void {
    this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  if ('u32' in v) {
    w.u32(VALUE_TYPE.UINT32);
    w.u32(v.u32);
  } else if ('f32' in v) {
    w.u32(VALUE_TYPE.FLOAT32);
    w.f32(v.f32);
  } else if ('bool' in v) {
    w.u32(VALUE_TYPE.BOOL);
    w.bytes(Uint8Array.of(v.bool ? 1 : 0));
  } else if ('str' in v) {
    w.u32(VALUE_TYPE.STRING);
    w.str(v.str);
  } else if ('strs' in v) {
    w.u32(VALUE_TYPE.ARRAY);
    w.u32(VALUE_TYPE.STRING);
    w.u64(v.strs.length);
    for (const s of v.strs) w.str(s);
  } else {
    w.u32(VALUE_TYPE.ARRAY);
    w.u32(VALUE_TYPE.INT32);
    w.u64(v.i32s.length);
    for (const x of v.i32s) w.i32(x);
  }
}

/** Bytes of a tensor of `dims` in `type`. */
export function tensorBytes(dims: readonly number[], type: GgufTensor['type']): number {
  const n = dims.reduce((a, b) => a * b, 1);
  if (type === GGML_TYPE.F32) return 4 * n;
  if (dims[0]! % Q8_0_BLOCK !== 0) throw new Error(`Q8_0 needs rows that are a multiple of ${Q8_0_BLOCK}, got ${dims[0]}`);
  return (n / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
}

/** The whole GGUF v3 file. General.alignment is the default (32), so it is not written. */
export function encodeGguf(metadata: readonly (readonly [string, GgufValue])[], tensors: readonly GgufTensor[]): Buffer {
  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) {
    w.str(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.data.length !== tensorBytes(t.dims, t.type)) throw new Error(`tensor ${t.name}: ${t.data.length} bytes, its shape needs ${tensorBytes(t.dims, t.type)}`);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset += Math.ceil(t.data.length / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  w.padTo(GGUF_ALIGNMENT);
  for (const t of tensors) {
    w.bytes(t.data);
    w.padTo(GGUF_ALIGNMENT);
  }
  return Buffer.concat(w.chunks, w.length);
}

/** xorshift32: reproducible random bytes without a dependency. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Random Q8_0 blocks: an fp16 scale (0x0c00, about 2.4e-4, so weights have std about 0.02) and 32 int8 each. */
function randomQ8_0(dims: readonly number[], seed: number): Uint8Array {
  const data = randomBytes(tensorBytes(dims, GGML_TYPE.Q8_0), seed);
  for (let b = 0; b < data.length; b += Q8_0_BLOCK_BYTES) {
    data[b] = 0x00;
    data[b + 1] = 0x0c;
  }
  return data;
}

function ones(n: number): Uint8Array {
  return new Uint8Array(new Float32Array(n).fill(1).buffer);
}

/** The fields of our model config.json that a llama-architecture file needs (models/ultramem/config.py). */
export interface DenseConfig {
  readonly vocab_size: number;
  readonly n_layer: number;
  readonly d_model: number;
  readonly n_head: number;
  readonly n_kv_head: number;
  readonly ffn_hidden: number;
  readonly context_length: number;
  readonly rope_theta: number;
  readonly norm_eps: number;
}

/** The parts of a Hugging Face tokenizer.json (byte-level BPE) that GGUF's gpt2 tokenizer needs. */
export interface ByteLevelTokenizer {
  readonly model: { readonly vocab: Record<string, number>; readonly merges: readonly (string | readonly [string, string])[] };
  readonly added_tokens: readonly { readonly id: number; readonly content: string }[];
}

const TOKEN_TYPE = { NORMAL: 1, CONTROL: 3 } as const;

/**
 * A llama-architecture GGUF (RMSNorm, RoPE, SwiGLU, GQA, output tied to the embedding: no output.weight) in the
 * shape of `cfg`, with random Q8_0 matrices, and the tokenizer's vocabulary so that llama.cpp loads it as it
 * would a real model.
 */
export function llamaGguf(cfg: DenseConfig, tokenizer: ByteLevelTokenizer, endOfTextId: number): Buffer {
  if (cfg.d_model % cfg.n_head !== 0) throw new Error('d_model must be a multiple of n_head');
  const headDim = cfg.d_model / cfg.n_head;
  const tokens: string[] = new Array<string>(cfg.vocab_size).fill('');
  const types: number[] = new Array<number>(cfg.vocab_size).fill(TOKEN_TYPE.NORMAL);
  for (const [text, id] of Object.entries(tokenizer.model.vocab)) tokens[id] = text;
  for (const t of tokenizer.added_tokens) {
    tokens[t.id] = t.content;
    types[t.id] = TOKEN_TYPE.CONTROL;
  }
  const unused = tokens.findIndex((t) => t === '');
  if (unused >= 0) throw new Error(`the tokenizer has no token ${unused} of ${cfg.vocab_size}`);
  const merges = tokenizer.model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { str: 'llama' }],
    ['general.name', { str: 'random weights in our dense shape' }],
    ['general.file_type', { u32: FILE_TYPE_MOSTLY_Q8_0 }],
    ['llama.context_length', { u32: cfg.context_length }],
    ['llama.embedding_length', { u32: cfg.d_model }],
    ['llama.block_count', { u32: cfg.n_layer }],
    ['llama.feed_forward_length', { u32: cfg.ffn_hidden }],
    ['llama.attention.head_count', { u32: cfg.n_head }],
    ['llama.attention.head_count_kv', { u32: cfg.n_kv_head }],
    ['llama.rope.dimension_count', { u32: headDim }],
    ['llama.rope.freq_base', { f32: cfg.rope_theta }],
    ['llama.attention.layer_norm_rms_epsilon', { f32: cfg.norm_eps }],
    ['llama.vocab_size', { u32: cfg.vocab_size }],
    ['tokenizer.ggml.model', { str: 'gpt2' }],
    ['tokenizer.ggml.pre', { str: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { strs: tokens }],
    ['tokenizer.ggml.token_type', { i32s: types }],
    ['tokenizer.ggml.merges', { strs: merges }],
    ['tokenizer.ggml.bos_token_id', { u32: endOfTextId }],
    ['tokenizer.ggml.eos_token_id', { u32: endOfTextId }],
    ['tokenizer.ggml.add_bos_token', { bool: false }],
  ];
  const d = cfg.d_model;
  const qWidth = cfg.n_head * headDim;
  const kvWidth = cfg.n_kv_head * headDim;
  let seed = 1;
  const matrix = (name: string, dims: number[]): GgufTensor => ({ name, dims, type: GGML_TYPE.Q8_0, data: randomQ8_0(dims, seed++) });
  const norm = (name: string): GgufTensor => ({ name, dims: [d], type: GGML_TYPE.F32, data: ones(d) });
  const tensors: GgufTensor[] = [matrix('token_embd.weight', [d, cfg.vocab_size]), norm('output_norm.weight')];
  for (let i = 0; i < cfg.n_layer; i++) {
    tensors.push(
      norm(`blk.${i}.attn_norm.weight`),
      matrix(`blk.${i}.attn_q.weight`, [d, qWidth]),
      matrix(`blk.${i}.attn_k.weight`, [d, kvWidth]),
      matrix(`blk.${i}.attn_v.weight`, [d, kvWidth]),
      matrix(`blk.${i}.attn_output.weight`, [qWidth, d]),
      norm(`blk.${i}.ffn_norm.weight`),
      matrix(`blk.${i}.ffn_gate.weight`, [d, cfg.ffn_hidden]),
      matrix(`blk.${i}.ffn_up.weight`, [d, cfg.ffn_hidden]),
      matrix(`blk.${i}.ffn_down.weight`, [cfg.ffn_hidden, d]),
    );
  }
  return encodeGguf(metadata, tensors);
}

/** Writes `llamaGguf` of a model folder's config.json and tokenizer.json to `out`. */
export function writeLlamaGguf(configPath: string, tokenizerPath: string, endOfTextId: number, out: string): void {
  const cfg = JSON.parse(fs.readFileSync(configPath, 'utf8')) as DenseConfig & { architecture: string };
  if (cfg.architecture !== 'dense') throw new Error(`${configPath}: a dense config is needed, got ${cfg.architecture}`);
  const tokenizer = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8')) as ByteLevelTokenizer;
  fs.writeFileSync(out, llamaGguf(cfg, tokenizer, endOfTextId));
}
