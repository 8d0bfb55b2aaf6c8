// Llama-shaped GGUF models with seeded random weights, written as llama.cpp's converter lays them
// out (token_embd, per-block attention and feed-forward, output_norm, output). They load in llama.cpp
// and exercise every per-tensor quantization rule (GQA, tied embeddings, MoE experts, widths that
// 256 does not divide) without downloading a model. Tensors are generated and written a chunk at a
// time, so a billion-parameter file costs no more memory than a small one.
import { GgmlType } from '../gguf/ggmlTypes.js';
import { GgufValueType } from '../gguf/types.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { GgufWriter, type GgufTensorSpec } from '../gguf/writer.js';
import { fp32ToBf16, fp32ToFp16 } from '../quantize/halfFloat.js';

export interface SyntheticLlamaOptions {
  embd?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  ff?: number;
  vocab?: number;
  /** > 1: a Mixtral-style MoE with stacked expert tensors and a router. */
  experts?: number;
  expertsUsed?: number;
  /** No output.weight: the output reuses token_embd. */
  tied?: boolean;
  /** Element type of the matrices (norms stay F32, as the converter writes them). */
  type?: 'F32' | 'F16' | 'BF16';
  seed?: number;
  name?: string;
  contextLength?: number;
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;

/** xorshift128+-style generator giving roughly normal values (sum of uniforms), reproducible by seed. */
class Rng {
  #a: number;
  #b: number;
  constructor(seed: number) {
    this.#a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.#b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  }
  u32(): number {
    let s1 = this.#a;
    const s0 = this.#b;
    this.#a = s0;
    s1 ^= s1 << 11;
    s1 ^= s1 >>> 8;
    this.#b = (s1 ^ s0 ^ (s0 >>> 19)) >>> 0;
    return (this.#b + s0) >>> 0;
  }
  /** Approximately N(0, 1), with rare larger outliers as trained weights have. */
  normal(): number {
    const v = (this.u32() + this.u32() + this.u32() + this.u32()) / 2 ** 32 - 2;
    return (this.u32() & 1023) === 0 ? v * 8 : v * 1.7;
  }
}

interface TensorPlan {
  spec: GgufTensorSpec;
  /** Values: a standard deviation for random matrices, or a constant for norms. */
  fill: { std: number } | { constant: number };
}

function plan(o: Required<Omit<SyntheticLlamaOptions, 'signal' | 'name' | 'seed' | 'contextLength'>>): TensorPlan[] {
  const type = o.type === 'F16' ? GgmlType.F16 : o.type === 'BF16' ? GgmlType.BF16 : GgmlType.F32;
  const headDim = o.embd / o.heads;
  const kvDim = headDim * o.kvHeads;
  const matrix = (name: string, shape: number[]): TensorPlan => ({ spec: { name, type, shape }, fill: { std: 0.02 } });
  const norm = (name: string): TensorPlan => ({ spec: { name, type: GgmlType.F32, shape: [o.embd] }, fill: { constant: 1 } });
  const out: TensorPlan[] = [matrix('token_embd.weight', [o.embd, o.vocab])];
  for (let i = 0; i < o.layers; i++) {
    const b = `blk.${i}`;
    out.push(norm(`${b}.attn_norm.weight`));
    out.push(matrix(`${b}.attn_q.weight`, [o.embd, o.embd]));
    out.push(matrix(`${b}.attn_k.weight`, [o.embd, kvDim]));
    out.push(matrix(`${b}.attn_v.weight`, [o.embd, kvDim]));
    out.push(matrix(`${b}.attn_output.weight`, [o.embd, o.embd]));
    out.push(norm(`${b}.ffn_norm.weight`));
    if (o.experts > 1) {
      out.push({ spec: { name: `${b}.ffn_gate_inp.weight`, type: GgmlType.F32, shape: [o.embd, o.experts] }, fill: { std: 0.02 } });
      out.push(matrix(`${b}.ffn_gate_exps.weight`, [o.embd, o.ff, o.experts]));
      out.push(matrix(`${b}.ffn_down_exps.weight`, [o.ff, o.embd, o.experts]));
      out.push(matrix(`${b}.ffn_up_exps.weight`, [o.embd, o.ff, o.experts]));
    } else {
      out.push(matrix(`${b}.ffn_gate.weight`, [o.embd, o.ff]));
      out.push(matrix(`${b}.ffn_down.weight`, [o.ff, o.embd]));
      out.push(matrix(`${b}.ffn_up.weight`, [o.embd, o.ff]));
    }
  }
  out.push(norm('output_norm.weight'));
  if (!o.tied) out.push(matrix('output.weight', [o.embd, o.vocab]));
  return out;
}

function metadataFor(o: Required<Omit<SyntheticLlamaOptions, 'signal'>>): GgufMetadataEntry[] {
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: GgufValueType.UINT32, value });
  const fileType = o.type === 'F16' ? 1 : o.type === 'BF16' ? 32 : 0;
  const meta: GgufMetadataEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
    { key: 'general.type', type: GgufValueType.STRING, value: 'model' },
    { key: 'general.name', type: GgufValueType.STRING, value: o.name },
    u32('general.file_type', fileType),
    u32('llama.context_length', o.contextLength),
    u32('llama.embedding_length', o.embd),
    u32('llama.block_count', o.layers),
    u32('llama.feed_forward_length', o.ff),
    u32('llama.rope.dimension_count', o.embd / o.heads),
    u32('llama.attention.head_count', o.heads),
    u32('llama.attention.head_count_kv', o.kvHeads),
    { key: 'llama.attention.layer_norm_rms_epsilon', type: GgufValueType.FLOAT32, value: Math.fround(1e-5) },
    { key: 'llama.rope.freq_base', type: GgufValueType.FLOAT32, value: 10000 },
  ];
  if (o.experts > 1) meta.push(u32('llama.expert_count', o.experts), u32('llama.expert_used_count', o.expertsUsed));
  meta.push(u32('llama.vocab_size', o.vocab), ...byteVocabularyMetadata(o.vocab));
  return meta;
}

/**
 * A SentencePiece-style byte-level vocabulary of `vocab` tokens as tokenizer.ggml.* keys: <unk> <s>
 * </s>, the 256 byte tokens, then `pieces`, then filler pieces ▁t0, ▁t1… Scores fall with the id.
 */
export function byteVocabularyMetadata(vocab: number, pieces: readonly string[] = []): GgufMetadataEntry[] {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let i = 0; i < 256 && tokens.length < vocab; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  for (const piece of pieces) if (tokens.length < vocab) tokens.push(piece), types.push(1);
  for (let i = 0; tokens.length < vocab; i++) tokens.push(`▁t${i}`), types.push(1);
  const scores = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) scores[i] = -i;
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: GgufValueType.UINT32, value });
  return [
    { key: 'tokenizer.ggml.model', type: GgufValueType.STRING, value: 'llama' },
    { key: 'tokenizer.ggml.pre', type: GgufValueType.STRING, value: 'default' },
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: tokens } },
    { key: 'tokenizer.ggml.scores', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.FLOAT32, items: scores } },
    { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT32, items: Int32Array.from(types) } },
    u32('tokenizer.ggml.bos_token_id', 1),
    u32('tokenizer.ggml.eos_token_id', 2),
    u32('tokenizer.ggml.unknown_token_id', 0),
    { key: 'tokenizer.ggml.add_bos_token', type: GgufValueType.BOOL, value: true },
  ];
}

/** Writes a synthetic Llama model to `path` (temp file + rename); returns its parameter count. */
export async function writeSyntheticLlama(path: string, options: SyntheticLlamaOptions = {}): Promise<{ parameters: number; tensors: number }> {
  const o = {
    embd: options.embd ?? 256,
    layers: options.layers ?? 4,
    heads: options.heads ?? 8,
    kvHeads: options.kvHeads ?? options.heads ?? 8,
    ff: options.ff ?? 768,
    vocab: options.vocab ?? 320,
    experts: options.experts ?? 0,
    expertsUsed: options.expertsUsed ?? 2,
    tied: options.tied ?? false,
    type: options.type ?? 'F16',
    seed: options.seed ?? 1,
    name: options.name ?? 'synthetic-llama',
    contextLength: options.contextLength ?? 2048,
  };
  if (o.embd % o.heads !== 0 || o.heads % o.kvHeads !== 0) throw new RangeError('embd must divide by heads, and heads by kvHeads');
  if (o.vocab < 3) throw new RangeError('vocab must be at least 3');
  const tensors = plan(o);
  const writer = await GgufWriter.open(path, metadataFor(o), tensors.map((t) => t.spec), { signal: options.signal });
  const rng = new Rng(o.seed);
  let parameters = 0;
  await writer.writeAndClose(async () => {
    const values = new Float32Array(CHUNK);
    for (const t of tensors) {
      const count = t.spec.shape.reduce((a, b) => a * b, 1);
      parameters += count;
      for (let done = 0; done < count; done += CHUNK) {
        const n = Math.min(CHUNK, count - done);
        const chunk = values.subarray(0, n);
        if ('constant' in t.fill) chunk.fill(t.fill.constant);
        else for (let i = 0; i < n; i++) chunk[i] = rng.normal() * t.fill.std;
        let bytes: Uint8Array;
        if (t.spec.type === GgmlType.F16) bytes = new Uint8Array(fp32ToFp16(chunk).buffer);
        else if (t.spec.type === GgmlType.BF16) bytes = new Uint8Array(fp32ToBf16(chunk).buffer);
        else bytes = new Uint8Array(chunk.buffer, 0, n * 4).slice();
        await writer.write(bytes);
      }
    }
  });
  return { parameters, tensors: tensors.length };
}
