/** The GGUF writer of bench:engine, read back by an independent reader of the spec (ggml docs/gguf.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeGguf, GGML_TYPE, GGUF_ALIGNMENT, llamaGguf, tensorBytes, type ByteLevelTokenizer, type DenseConfig } from '../../src/bench/gguf';

interface ReadTensor {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

/** Parses a GGUF v3 file: metadata as plain values, tensor infos, and where the data starts. */
function readGguf(buf: Buffer): { version: number; metadata: Map<string, unknown>; tensors: ReadTensor[]; dataStart: number } {
  let p = 0;
  const u32 = (): number => ((p += 4), buf.readUInt32LE(p - 4));
  const u64 = (): number => ((p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const str = (): string => {
    const n = u64();
    p += n;
    return buf.toString('utf8', p - n, p);
  };
  const value = (type: number): unknown => {
    switch (type) {
      case 4:
        return u32();
      case 5:
        return ((p += 4), buf.readInt32LE(p - 4));
      case 6:
        return ((p += 4), buf.readFloatLE(p - 4));
      case 7:
        return ((p += 1), buf[p - 1] === 1);
      case 8:
        return str();
      case 9: {
        const itemType = u32();
        return Array.from({ length: u64() }, () => value(itemType));
      }
      default:
        throw new Error(`unexpected value type ${type}`);
    }
  };
  assert.equal(buf.toString('ascii', 0, 4), 'GGUF');
  p = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    metadata.set(key, value(u32()));
  }
  const tensors: ReadTensor[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const dims = Array.from({ length: u32() }, () => u64());
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { version, metadata, tensors, dataStart: Math.ceil(p / GGUF_ALIGNMENT) * GGUF_ALIGNMENT };
}

test('encodeGguf: header, metadata and tensor infos read back; each tensor at its aligned offset', () => {
  const a = Uint8Array.from({ length: 12 }, (_, i) => i);
  const b = new Uint8Array(tensorBytes([32, 2], GGML_TYPE.Q8_0)).fill(7);
  const buf = encodeGguf(
    [
      ['general.architecture', { str: 'llama' }],
      ['n', { u32: 5 }],
      ['eps', { f32: 0.5 }],
      ['flag', { bool: true }],
      ['words', { strs: ['a b', 'ü'] }],
      ['ints', { i32s: [1, -3] }],
    ],
    [
      { name: 'a', dims: [3], type: GGML_TYPE.F32, data: a },
      { name: 'b', dims: [32, 2], type: GGML_TYPE.Q8_0, data: b },
    ],
  );
  const r = readGguf(buf);
  assert.equal(r.version, 3);
  assert.deepEqual([...r.metadata], [['general.architecture', 'llama'], ['n', 5], ['eps', 0.5], ['flag', true], ['words', ['a b', 'ü']], ['ints', [1, -3]]]);
  assert.deepEqual(r.tensors, [
    { name: 'a', dims: [3], type: GGML_TYPE.F32, offset: 0 },
    { name: 'b', dims: [32, 2], type: GGML_TYPE.Q8_0, offset: 32 },
  ]);
  assert.equal(b.length, 68); // two blocks of 32: an fp16 scale and 32 int8 each
  assert.deepEqual(buf.subarray(r.dataStart, r.dataStart + 12), Buffer.from(a));
  assert.deepEqual(buf.subarray(r.dataStart + 32, r.dataStart + 32 + 68), Buffer.from(b));
  assert.equal(buf.length, r.dataStart + 32 + 96);
  assert.throws(() => encodeGguf([], [{ name: 'short', dims: [32], type: GGML_TYPE.Q8_0, data: new Uint8Array(3) }]), /34/);
  assert.throws(() => tensorBytes([48], GGML_TYPE.Q8_0), /multiple of 32/);
});

test('llamaGguf: the llama layout of our dense config, tied output, the tokenizer as a gpt2 vocabulary', () => {
  const cfg: DenseConfig = { vocab_size: 6, n_layer: 2, d_model: 64, n_head: 4, n_kv_head: 2, ffn_hidden: 96, context_length: 128, rope_theta: 10000, norm_eps: 1e-5 };
  const tokenizer: ByteLevelTokenizer = {
    model: { vocab: { a: 0, b: 1, ab: 2, 'Ġ': 3, 'Ġa': 4 }, merges: [['a', 'b'], 'Ġ a'] },
    added_tokens: [{ id: 5, content: '<|endoftext|>' }],
  };
  const r = readGguf(llamaGguf(cfg, tokenizer, 5));
  const meta = Object.fromEntries(r.metadata);
  assert.equal(meta['general.architecture'], 'llama');
  assert.equal(meta['llama.block_count'], 2);
  assert.equal(meta['llama.embedding_length'], 64);
  assert.equal(meta['llama.feed_forward_length'], 96);
  assert.equal(meta['llama.attention.head_count'], 4);
  assert.equal(meta['llama.attention.head_count_kv'], 2);
  assert.equal(meta['llama.rope.dimension_count'], 16);
  assert.equal(meta['llama.context_length'], 128);
  assert.deepEqual(meta['tokenizer.ggml.tokens'], ['a', 'b', 'ab', 'Ġ', 'Ġa', '<|endoftext|>']);
  assert.deepEqual(meta['tokenizer.ggml.token_type'], [1, 1, 1, 1, 1, 3]);
  assert.deepEqual(meta['tokenizer.ggml.merges'], ['a b', 'Ġ a']);
  assert.equal(meta['tokenizer.ggml.eos_token_id'], 5);
  const shapes = Object.fromEntries(r.tensors.map((t) => [t.name, t.dims]));
  assert.equal(r.tensors.length, 2 + 9 * 2);
  assert.equal(shapes['output.weight'], undefined, 'the output is tied to the embedding');
  assert.deepEqual(shapes['token_embd.weight'], [64, 6]);
  assert.deepEqual(shapes['blk.1.attn_q.weight'], [64, 64]);
  assert.deepEqual(shapes['blk.1.attn_k.weight'], [64, 32]);
  assert.deepEqual(shapes['blk.1.attn_v.weight'], [64, 32]);
  assert.deepEqual(shapes['blk.1.attn_output.weight'], [64, 64]);
  assert.deepEqual(shapes['blk.0.ffn_gate.weight'], [64, 96]);
  assert.deepEqual(shapes['blk.0.ffn_down.weight'], [96, 64]);
  assert.deepEqual(shapes['blk.0.attn_norm.weight'], [64]);
  for (const t of r.tensors) {
    assert.equal(t.type, t.dims.length === 1 ? GGML_TYPE.F32 : GGML_TYPE.Q8_0, t.name);
    assert.equal(t.offset % GGUF_ALIGNMENT, 0, t.name);
  }
  assert.throws(() => llamaGguf({ ...cfg, vocab_size: 7 }, tokenizer, 5), /no token 6/);
});
