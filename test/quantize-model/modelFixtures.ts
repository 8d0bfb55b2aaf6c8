// Test models and importance matrices for the model-quantization tests: synthetic Llama shapes that
// reach every per-tensor rule, and imatrix files in llama-imatrix's two formats.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { readGgufSync } from '../../lib/gguf/ggufInfo.js';
import { GgufValueType } from '../../lib/gguf/types.js';
import { writeGguf } from '../../lib/gguf/writer.js';
import { writeSyntheticLlama, type SyntheticLlamaOptions } from '../../lib/synthetic/llamaModel.js';

export const workDir = mkdtempSync(join(tmpdir(), 'gguf-forge-qm-'));

export interface TestModel {
  name: string;
  options: SyntheticLlamaOptions;
}

export const SYNTHETIC_MODELS: TestModel[] = [
  // 8 layers so use_more_bits picks layers {0, 3, 6, 7}; gqa 4 for the Q2_K/IQ4 attn_v rules.
  { name: 'dense-gqa4-f16', options: { embd: 256, layers: 8, heads: 8, kvHeads: 2, ff: 512, vocab: 320, type: 'F16', seed: 11 } },
  { name: 'dense-mha-bf16', options: { embd: 256, layers: 4, heads: 4, kvHeads: 4, ff: 512, vocab: 320, type: 'BF16', seed: 12 } },
  { name: 'tied-f32', options: { embd: 256, layers: 3, heads: 4, kvHeads: 2, ff: 512, vocab: 288, tied: true, type: 'F32', seed: 13 } },
  { name: 'moe8-f16', options: { embd: 256, layers: 2, heads: 4, kvHeads: 2, ff: 256, vocab: 288, experts: 8, type: 'F16', seed: 14 } },
  // 896 = 3.5 × 256: the k-quant fallbacks (Q4_K→Q5_0, Q6_K→Q8_0, Q2_K/Q3_K→Q4_0, IQ4_XS→IQ4_NL).
  { name: 'width896-f16', options: { embd: 896, layers: 2, heads: 14, kvHeads: 2, ff: 1024, vocab: 288, type: 'F16', seed: 15 } },
];

const made = new Map<string, string>();

export async function modelPath(model: TestModel): Promise<string> {
  let path = made.get(model.name);
  if (!path) {
    path = join(workDir, `${model.name}.gguf`);
    await writeSyntheticLlama(path, { ...model.options, name: model.name });
    made.set(model.name, path);
  }
  return path;
}

/** The matrices llama-imatrix collects for: every 2-D/3-D weight that a matmul reads (not token_embd). */
function imatrixTargets(modelFile: string): { name: string; ne0: number; experts: number }[] {
  const info = readGgufSync(modelFile);
  return info.tensors
    .filter((t) => t.name !== 'token_embd.weight' && t.shape.length >= 2 && !t.name.endsWith('_norm.weight') && !t.name.includes('ffn_gate_inp'))
    .map((t) => ({ name: t.name, ne0: t.shape[0] as number, experts: t.shape[2] ?? 1 }));
}

/** Deterministic, NaN-free positive sums with some zero columns; expert 1 is never hit (count 0). */
function sumsFor(ne0: number, experts: number, seed: number): Float32Array {
  const v = new Float32Array(ne0 * experts);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = i % 17 === 5 ? 0 : Math.fround(((s >>> 8) / 2 ** 24) * 40 + 0.01);
  }
  return v;
}

/** An imatrix in llama-imatrix's GGUF format (`<name>.in_sum2` [ne0, n_mat], `<name>.counts` [1, n_mat]). */
export async function writeGgufImatrix(modelFile: string, out: string, dataset = 'wiki.train.raw'): Promise<string> {
  const tensors: { name: string; type: number; shape: number[]; data: Uint8Array }[] = [];
  imatrixTargets(modelFile).forEach((t, k) => {
    const sums = sumsFor(t.ne0, t.experts, k + 7);
    const counts = new Float32Array(t.experts).fill(12);
    if (t.experts > 1) counts[1] = 0;
    tensors.push({ name: `${t.name}.in_sum2`, type: GgmlType.F32, shape: [t.ne0, t.experts], data: new Uint8Array(sums.buffer) });
    tensors.push({ name: `${t.name}.counts`, type: GgmlType.F32, shape: [1, t.experts], data: new Uint8Array(counts.buffer) });
  });
  await writeGguf(
    out,
    [
      { key: 'general.type', type: GgufValueType.STRING, value: 'imatrix' },
      { key: 'imatrix.datasets', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: [dataset] } },
      { key: 'imatrix.chunk_count', type: GgufValueType.UINT32, value: 100 },
      { key: 'imatrix.chunk_size', type: GgufValueType.UINT32, value: 512 },
    ],
    tensors,
  );
  return out;
}

/** The same sums in the legacy `.dat` format: n, then (len, name, ncall, nval, values) per entry, then chunks and dataset. */
export function writeLegacyImatrix(modelFile: string, out: string, dataset = 'legacy.txt'): string {
  const parts: Buffer[] = [];
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    parts.push(b);
  };
  const targets = imatrixTargets(modelFile);
  i32(targets.length);
  targets.forEach((t, k) => {
    const name = Buffer.from(t.name);
    i32(name.length);
    parts.push(name);
    i32(k === 0 ? 0 : 30); // ncall 0 keeps the raw sums
    const sums = sumsFor(t.ne0, t.experts, k + 3);
    i32(sums.length);
    parts.push(Buffer.from(sums.buffer));
  });
  i32(30);
  i32(Buffer.byteLength(dataset));
  parts.push(Buffer.from(dataset));
  writeFileSync(out, Buffer.concat(parts));
  return out;
}

/** Names the first tensor (or header) where two GGUF files differ, for failure messages. */
export function describeDifference(expectedFile: string, actualFile: string): string {
  const a = readFileSync(expectedFile);
  const b = readFileSync(actualFile);
  if (a.equals(b)) return 'identical';
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  const info = readGgufSync(expectedFile);
  if (i < info.dataOffset) return `sizes ${a.length} vs ${b.length}; headers differ at byte ${i}`;
  const rel = i - info.dataOffset;
  const t = info.tensors.find((x) => rel >= x.offset && rel < x.offset + x.byteLength);
  return `sizes ${a.length} vs ${b.length}; first difference at byte ${i}, in tensor ${t?.name ?? '?'} (type ${t?.type})`;
}
