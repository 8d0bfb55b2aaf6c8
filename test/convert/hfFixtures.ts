// Tiny Hugging Face checkpoints built on the spot for the converter tests: config.json, seeded random
// weights in safetensors (optionally sharded with an index), real tokenizer files linked in from the
// shared data. The exact values stored are kept so tests can compute the expected GGUF tensors.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { fp32ToBf16, fp32ToFp16, bf16ToFp32, fp16ToFp32 } from '../../lib/quantize/halfFloat.js';
import { writeSafetensors, type SafetensorsTensorSpec } from '../../lib/safetensors/writer.js';
import { sharedData } from '../sharedData.js';
import { mulberry32 } from '../../lib/synthetic/mulberry32.js';

export const scratch = mkdtempSync(join(tmpdir(), 'gguf-forge-convert-'));

/** mulberry32 with a sum-of-uniforms normal: reproducible weights from a seed. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7;
  }
}

export type Dtype = 'F32' | 'F16' | 'BF16';

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype?: Dtype;
  /** Standard deviation of the random values (default 0.05), or a constant (+ small noise) for norms. */
  std?: number;
  constant?: number;
}

export interface StoredTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** The values exactly as stored (after rounding to dtype). */
  values: Float32Array;
}

export interface HfModel {
  dir: string;
  tensors: Map<string, StoredTensor>;
}

export function encode(values: Float32Array, dtype: Dtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bits = dtype === 'F16' ? fp32ToFp16(values) : fp32ToBf16(values);
  return new Uint8Array(bits.buffer);
}

export function decode(bytes: Uint8Array, type: GgmlType): Float32Array {
  const copy = bytes.slice();
  if (type === GgmlType.F32) return new Float32Array(copy.buffer);
  if (type === GgmlType.F16) return fp16ToFp32(new Uint16Array(copy.buffer));
  if (type === GgmlType.BF16) return bf16ToFp32(new Uint16Array(copy.buffer));
  throw new Error(`cannot decode ggml type ${type}`);
}

/** Tokenizer files from shared data, linked into the model directory under their HF names. */
export type TokenizerFiles = Record<string, string>;

export const TOKENIZERS = {
  llama2: {
    'tokenizer.model': sharedData('tokenizers', 'llama2', 'tokenizer.model'),
    'tokenizer.json': sharedData('tokenizers', 'llama2', 'tokenizer.json'),
    'tokenizer_config.json': sharedData('tokenizers', 'llama2', 'tokenizer_config.json'),
    'special_tokens_map.json': sharedData('tokenizers', 'llama2', 'special_tokens_map.json'),
  },
  mistral: { 'tokenizer.model': sharedData('tokenizers', 'mistral', 'tokenizer.model.v1') },
  qwen25: {
    'vocab.json': sharedData('tokenizers', 'qwen2.5', 'vocab.json'),
    'merges.txt': sharedData('tokenizers', 'qwen2.5', 'merges.txt'),
    'tokenizer_config.json': sharedData('tokenizers', 'qwen2.5', 'tokenizer_config.json'),
    'added_tokens.json': sharedData('tokenizers', 'qwen2.5', 'added_tokens.json'),
    'special_tokens_map.json': sharedData('tokenizers', 'qwen2.5', 'special_tokens_map.json'),
  },
  phi3: {
    // Phi-3's tokenizer.model is Llama 2's; its added tokens come from tokenizer.json/tokenizer_config.json.
    'tokenizer.model': sharedData('tokenizers', 'llama2', 'tokenizer.model'),
    'tokenizer.json': sharedData('tokenizers', 'phi-3-mini', 'tokenizer.json'),
    'tokenizer_config.json': sharedData('tokenizers', 'phi-3-mini', 'tokenizer_config.json'),
  },
  gpt2: { 'tokenizer.json': sharedData('tokenizers', 'gpt2', 'tokenizer.json') },
} satisfies Record<string, TokenizerFiles>;

let counter = 0;

/**
 * Writes a model directory: config.json, the tensors (seeded) in `shards` safetensors files with an
 * index when more than one, and the tokenizer files.
 */
export async function writeHfModel(
  name: string,
  config: Record<string, unknown>,
  specs: TensorSpec[],
  options: { seed?: number; shards?: number; tokenizer?: TokenizerFiles; files?: Record<string, string>; dtype?: Dtype } = {},
): Promise<HfModel> {
  // The directory name feeds general.name/basename/size_label guesses: keep it exactly `name`.
  const dir = join(scratch, String(counter++), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  for (const [file, src] of Object.entries(options.tokenizer ?? {})) symlinkSync(src, join(dir, file));
  for (const [file, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, file), text);
  const rng = new Rng(options.seed ?? 1);
  const tensors = new Map<string, StoredTensor>();
  const stored: SafetensorsTensorSpec[] = [];
  for (const spec of specs) {
    const dtype = spec.dtype ?? options.dtype ?? 'BF16';
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const raw = new Float32Array(n);
    for (let i = 0; i < n; i++) raw[i] = spec.constant !== undefined ? spec.constant + 0.01 * rng.normal() : (spec.std ?? 0.05) * rng.normal();
    const data = encode(raw, dtype);
    const values = dtype === 'F32' ? raw : decode(data, dtype === 'F16' ? GgmlType.F16 : GgmlType.BF16);
    tensors.set(spec.name, { name: spec.name, dtype, shape: spec.shape, values });
    stored.push({ name: spec.name, dtype, shape: spec.shape, data });
  }
  const shards = options.shards ?? 1;
  if (shards === 1) await writeSafetensors(join(dir, 'model.safetensors'), stored);
  else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = stored.filter((_, i) => i % shards === s);
      for (const t of part) weightMap[t.name] = file;
      await writeSafetensors(join(dir, file), part);
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  }
  return { dir, tensors };
}

/** Llama 3.2 1B's real config.json scaled down to `shape`, with bos 1 and eos [2] (the Llama 2 tokenizer's ids). */
export function llama32Config(shape: { vocab: number; hidden: number; ff: number; layers: number; heads: number; kvHeads: number; headDim: number }): Record<string, unknown> {
  const real = JSON.parse(readFileSync(sharedData('configs', 'Llama-3.2-1B-Instruct', 'config.json'), 'utf8')) as Record<string, unknown>;
  return {
    ...real,
    hidden_size: shape.hidden, intermediate_size: shape.ff, num_hidden_layers: shape.layers, num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads, head_dim: shape.headDim, vocab_size: shape.vocab, bos_token_id: 1, eos_token_id: [2],
  };
}

/** Llama-layout tensor specs (HF names). */
export function llamaSpecs(o: { vocab: number; hidden: number; ff: number; layers: number; heads: number; kvHeads: number; headDim?: number; tied?: boolean; bias?: boolean; qkNorm?: boolean }): TensorSpec[] {
  const hd = o.headDim ?? o.hidden / o.heads;
  const out: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [o.vocab, o.hidden] }, { name: 'model.norm.weight', shape: [o.hidden], constant: 1 }];
  if (!o.tied) out.push({ name: 'lm_head.weight', shape: [o.vocab, o.hidden] });
  for (let i = 0; i < o.layers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [o.hidden], constant: 1 },
      { name: `${p}.post_attention_layernorm.weight`, shape: [o.hidden], constant: 1 },
      { name: `${p}.self_attn.q_proj.weight`, shape: [o.heads * hd, o.hidden] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [o.kvHeads * hd, o.hidden] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [o.kvHeads * hd, o.hidden] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [o.hidden, o.heads * hd] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [o.ff, o.hidden] },
      { name: `${p}.mlp.up_proj.weight`, shape: [o.ff, o.hidden] },
      { name: `${p}.mlp.down_proj.weight`, shape: [o.hidden, o.ff] },
    );
    if (o.bias) {
      out.push(
        { name: `${p}.self_attn.q_proj.bias`, shape: [o.heads * hd] },
        { name: `${p}.self_attn.k_proj.bias`, shape: [o.kvHeads * hd] },
        { name: `${p}.self_attn.v_proj.bias`, shape: [o.kvHeads * hd] },
      );
    }
    if (o.qkNorm) out.push({ name: `${p}.self_attn.q_norm.weight`, shape: [hd], constant: 1 }, { name: `${p}.self_attn.k_norm.weight`, shape: [hd], constant: 1 });
  }
  return out;
}

/** A GGUF tensor's values as float32 (F32/F16/BF16 only). */
export function ggufTensorValues(path: string, name: string): { type: number; shape: number[]; values: Float32Array } {
  using gguf = MappedGguf.open(path);
  const info = gguf.tensor(name);
  if (!info) throw new Error(`${path} has no tensor ${name}`);
  return { type: info.type, shape: info.shape, values: decode(gguf.tensorData(info), info.type) };
}

/** The reference un-permutation, written from research/llamacpp.md §7: out[h*hd + 2i + j] = in[h*hd + j*hd/2 + i]. */
export function referencePermute(values: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const out = new Float32Array(values.length);
  const hd = rows / heads;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const src = h * hd + j * (hd / 2) + i;
        const dst = h * hd + 2 * i + j;
        out.set(values.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/** Bit-for-bit equality of two float arrays; the message names the first differing index. */
export function sameFloats(a: Float32Array, b: Float32Array): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return 'same';
}
