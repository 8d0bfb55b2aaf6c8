// Base models for the LoRA tests, written on the spot: llama / qwen2 GGUFs with a real adapter's
// attention shapes, a small vocabulary and a small feed-forward width. Tensors a test does not need
// filled are left as holes in a sparse file (zeros that cost no disk), so a Llama-3-8B-shaped base
// with two filled blocks stays cheap.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType, type GgufMetadataEntry } from '../../lib/gguf/types.js';
import { serializeGgufHeader, type GgufTensorSpec } from '../../lib/gguf/writer.js';
import { fp32ToFp16 } from '../../lib/quantize/halfFloat.js';
import { byteVocabularyMetadata } from '../../lib/synthetic/llamaModel.js';
import { Rng } from '../convert/hfFixtures.js';

export interface BaseSpec {
  arch: 'llama' | 'qwen2';
  embd: number;
  heads: number;
  kvHeads: number;
  layers: number;
  ff: number;
  vocab: number;
  type?: 'F32' | 'F16';
  seed?: number;
  /** Tensors given random values; the others stay zero (norms are always 1). Default: all. */
  filled?: (name: string) => boolean;
}

export function baseTensors(s: BaseSpec): GgufTensorSpec[] {
  const t = s.type === 'F16' ? GgmlType.F16 : GgmlType.F32;
  const hd = s.embd / s.heads;
  const kv = hd * s.kvHeads;
  const out: GgufTensorSpec[] = [{ name: 'token_embd.weight', type: t, shape: [s.embd, s.vocab] }];
  for (let i = 0; i < s.layers; i++) {
    const b = `blk.${i}`;
    out.push({ name: `${b}.attn_norm.weight`, type: GgmlType.F32, shape: [s.embd] });
    out.push({ name: `${b}.attn_q.weight`, type: t, shape: [s.embd, s.embd] });
    out.push({ name: `${b}.attn_k.weight`, type: t, shape: [s.embd, kv] });
    out.push({ name: `${b}.attn_v.weight`, type: t, shape: [s.embd, kv] });
    if (s.arch === 'qwen2') {
      out.push({ name: `${b}.attn_q.bias`, type: GgmlType.F32, shape: [s.embd] });
      out.push({ name: `${b}.attn_k.bias`, type: GgmlType.F32, shape: [kv] });
      out.push({ name: `${b}.attn_v.bias`, type: GgmlType.F32, shape: [kv] });
    }
    out.push({ name: `${b}.attn_output.weight`, type: t, shape: [s.embd, s.embd] });
    out.push({ name: `${b}.ffn_norm.weight`, type: GgmlType.F32, shape: [s.embd] });
    out.push({ name: `${b}.ffn_gate.weight`, type: t, shape: [s.embd, s.ff] });
    out.push({ name: `${b}.ffn_down.weight`, type: t, shape: [s.ff, s.embd] });
    out.push({ name: `${b}.ffn_up.weight`, type: t, shape: [s.embd, s.ff] });
  }
  out.push({ name: 'output_norm.weight', type: GgmlType.F32, shape: [s.embd] });
  out.push({ name: 'output.weight', type: t, shape: [s.embd, s.vocab] });
  return out;
}

/** Writes the base model at `path` (sparse where tensors are not filled). */
export function writeBase(path: string, s: BaseSpec): void {
  const a = s.arch;
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: GgufValueType.UINT32, value });
  const metadata: GgufMetadataEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: a },
    { key: 'general.type', type: GgufValueType.STRING, value: 'model' },
    { key: 'general.name', type: GgufValueType.STRING, value: `lora-test-${a}` },
    u32('general.file_type', s.type === 'F16' ? 1 : 0),
    u32(`${a}.context_length`, 512),
    u32(`${a}.embedding_length`, s.embd),
    u32(`${a}.block_count`, s.layers),
    u32(`${a}.feed_forward_length`, s.ff),
    u32(`${a}.attention.head_count`, s.heads),
    u32(`${a}.attention.head_count_kv`, s.kvHeads),
    { key: `${a}.attention.layer_norm_rms_epsilon`, type: GgufValueType.FLOAT32, value: Math.fround(1e-6) },
    { key: `${a}.rope.freq_base`, type: GgufValueType.FLOAT32, value: 10000 },
    ...(a === 'llama' ? [u32('llama.rope.dimension_count', s.embd / s.heads), u32('llama.vocab_size', s.vocab)] : []),
    ...byteVocabularyMetadata(s.vocab, ['▁the', '▁a', '▁cat', '▁sat', '▁on', '▁mat', '▁dog']),
  ];
  const specs = baseTensors(s);
  const header = serializeGgufHeader(metadata, specs);
  const rng = new Rng(s.seed ?? 7);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header.bytes, 0, header.bytes.length, 0);
    for (const t of header.tensors) {
      const n = t.shape.reduce((x, y) => x * y, 1);
      const isNorm = t.name.endsWith('_norm.weight');
      if (!isNorm && s.filled && !s.filled(t.name)) continue;
      const values = new Float32Array(n);
      // Embeddings ~N(0, 1), matrices scaled by 1/sqrt(n_in) so activations keep their size.
      const std = isNorm ? 0 : t.name === 'token_embd.weight' ? 1 : t.name.endsWith('.bias') ? 0.1 : 1 / Math.sqrt(t.shape[0]!);
      for (let i = 0; i < n; i++) values[i] = isNorm ? 1 : std * rng.normal();
      const bytes = t.type === GgmlType.F16 ? new Uint8Array(fp32ToFp16(values).buffer) : new Uint8Array(values.buffer);
      writeSync(fd, bytes, 0, bytes.length, header.dataOffset + t.offset);
    }
    ftruncateSync(fd, header.totalSize);
  } finally {
    closeSync(fd);
  }
}

/** Qwen2.5-0.5B's attention (896 wide, 14 heads, 2 KV heads, 24 blocks) with a small vocab and FFN. */
export const QWEN25_05B: BaseSpec = { arch: 'qwen2', embd: 896, heads: 14, kvHeads: 2, layers: 24, ff: 64, vocab: 384 };
/** Llama-3-8B's attention (4096 wide, 32 heads, 8 KV heads, 32 blocks) with a small vocab and FFN. */
export const LLAMA3_8B: BaseSpec = { arch: 'llama', embd: 4096, heads: 32, kvHeads: 8, layers: 32, ff: 64, vocab: 384 };
