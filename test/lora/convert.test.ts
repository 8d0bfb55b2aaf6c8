// The two real adapters in shared data convert to GGUF LoRAs laid out as convert_lora_to_gguf.py
// lays them out. Expected values are computed here from the safetensors bytes with a separate
// parser and index arithmetic, not with the converter's helpers.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { GgufValueType } from '../../lib/gguf/types.js';
import { convertAdapter } from '../../lib/lora/index.js';
import { fp32ToFp16 } from '../../lib/quantize/halfFloat.js';
import { referencePermute } from '../convert/hfFixtures.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { LLAMA3_8B, QWEN25_05B, writeBase } from './fixtures.js';

const PEFT = sharedDataAvailable ? sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8') : '';
const MLX = sharedDataAvailable ? sharedData('lora', 'mlx-discollama-llama3-8b') : '';
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-lora-convert-'));
const qwenBase = join(dir, 'qwen-base.gguf');
const llamaBase = join(dir, 'llama3-base.gguf');

/** A minimal safetensors reader for the test: name → { shape, F32 values }. */
function readSafetensorsF32(path: string): Map<string, { shape: number[]; values: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(t.dtype).toBe('F32');
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    const values = new Float32Array(bytes.length / 4);
    for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
    out.set(name, { shape: t.shape, values });
  }
  return out;
}

function f32Of(file: MappedGguf, name: string): Float32Array {
  const bytes = file.tensorData(name);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function firstDifference(actual: Float32Array, expected: Float32Array): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return `element ${i}: ${actual[i]} vs ${expected[i]}`;
  return '';
}

function meta(file: MappedGguf): Record<string, unknown> {
  return Object.fromEntries(file.header.metadata.map((m) => [m.key, m.value]));
}

beforeAll(() => {
  if (!sharedDataAvailable) return;
  // Headers only: the conversion reads shapes, never base weights.
  writeBase(qwenBase, { ...QWEN25_05B, filled: () => false });
  writeBase(llamaBase, { ...LLAMA3_8B, filled: () => false });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!sharedDataAvailable)('real adapters convert to GGUF LoRA', () => {
  test('PEFT Qwen2.5-0.5B r8 (q_proj, v_proj, 24 blocks): keys, names, shapes and the exact A/B values', async () => {
    const out = join(dir, 'peft-qwen.gguf');
    const result = await convertAdapter(PEFT, out, { base: qwenBase });
    expect(result.format).toBe('peft');
    expect(result.architecture).toBe('qwen2');
    using file = MappedGguf.open(out);
    expect(file.header.metadata.map((m) => m.key)).toEqual([
      'general.architecture',
      'general.type',
      'adapter.type',
      'general.name',
      'adapter.lora.alpha',
      'general.quantization_version',
    ]);
    const m = meta(file);
    expect(m['general.architecture']).toBe('qwen2');
    expect(m['general.type']).toBe('adapter');
    expect(m['adapter.type']).toBe('lora');
    expect(file.header.metadata.find((e) => e.key === 'adapter.lora.alpha')).toEqual({ key: 'adapter.lora.alpha', type: GgufValueType.FLOAT32, value: 16 });

    const source = readSafetensorsF32(join(PEFT, 'adapter_model.safetensors'));
    // convert_lora_to_gguf.py's order: safetensors names sorted, each module's lora_a then lora_b.
    const modules = [...new Set([...source.keys()].sort().map((k) => k.replace(/\.lora_[AB]\.weight$/, '')))];
    const expectedNames = modules.flatMap((mod) => {
      const g = mod.replace(/^base_model\.model\.model\.layers\.(\d+)\.self_attn\.([qv])_proj$/, 'blk.$1.attn_$2.weight');
      return [`${g}.lora_a`, `${g}.lora_b`];
    });
    expect(file.header.tensors.map((t) => t.name)).toEqual(expectedNames);
    expect(file.header.tensors).toHaveLength(96);
    for (const mod of modules) {
      const g = mod.replace(/^base_model\.model\.model\.layers\.(\d+)\.self_attn\.([qv])_proj$/, 'blk.$1.attn_$2.weight');
      const A = source.get(`${mod}.lora_A.weight`)!;
      const B = source.get(`${mod}.lora_B.weight`)!;
      const a = file.tensor(`${g}.lora_a`)!;
      const b = file.tensor(`${g}.lora_b`)!;
      expect(a.type, g).toBe(GgmlType.F32);
      // ggml ne is the PyTorch shape reversed: lora_a [n_in, r], lora_b [r, n_out].
      expect(a.shape, g).toEqual([A.shape[1], A.shape[0]]);
      expect(b.shape, g).toEqual([B.shape[1], B.shape[0]]);
      expect(b.shape, g).toEqual([8, g.includes('attn_q') ? 896 : 128]);
      // Qwen2 uses NEOX RoPE: nothing is permuted, the values are the stored ones.
      expect(firstDifference(f32Of(file, `${g}.lora_a`), A.values), `${g}.lora_a`).toBe('');
      expect(firstDifference(f32Of(file, `${g}.lora_b`), B.values), `${g}.lora_b`).toBe('');
    }
  });

  test('MLX Llama-3-8B (blocks 30-31): transposed to llama.cpp layout, Q rows un-permuted, alpha from lora_parameters; KV as in Ollama\'s expected GGUF', async () => {
    const out = join(dir, 'mlx-llama.gguf');
    const result = await convertAdapter(MLX, out, { base: llamaBase });
    expect(result.format).toBe('mlx');
    using file = MappedGguf.open(out);
    const m = meta(file);
    const expected = JSON.parse(readFileSync(join(MLX, 'expected-ollama-gguf.json'), 'utf8')) as Record<string, string>;
    for (const key of ['general.architecture', 'general.type', 'adapter.type', 'adapter.lora.alpha']) expect(String(m[key]), key).toBe(expected[key]);
    expect(file.header.tensors.map((t) => t.name).sort()).toEqual(Object.keys(expected).filter((k) => k.startsWith('blk.')).sort());

    const source = readSafetensorsF32(join(MLX, 'adapters.safetensors'));
    for (const layer of [30, 31]) {
      for (const [proj, nOut] of [['q', 4096], ['v', 1024]] as const) {
        const g = `blk.${layer}.attn_${proj}.weight`;
        const a = source.get(`model.layers.${layer}.self_attn.${proj}_proj.lora_a`)!; // (n_in, r)
        const b = source.get(`model.layers.${layer}.self_attn.${proj}_proj.lora_b`)!; // (r, n_out)
        expect(a.shape).toEqual([4096, 8]);
        expect(b.shape).toEqual([8, nOut]);
        expect(file.tensor(`${g}.lora_a`)!.shape).toEqual([4096, 8]);
        expect(file.tensor(`${g}.lora_b`)!.shape).toEqual([8, nOut]);
        // lora_a = aᵀ (r × n_in); lora_b = bᵀ (n_out × r), rows un-permuted for q with 32 heads.
        const at = new Float32Array(8 * 4096);
        for (let i = 0; i < 4096; i++) for (let k = 0; k < 8; k++) at[k * 4096 + i] = a.values[i * 8 + k]!;
        let bt: Float32Array = new Float32Array(nOut * 8);
        for (let k = 0; k < 8; k++) for (let o = 0; o < nOut; o++) bt[o * 8 + k] = b.values[k * nOut + o]!;
        if (proj === 'q') bt = referencePermute(bt, nOut, 8, 32);
        expect(firstDifference(f32Of(file, `${g}.lora_a`), at), `${g}.lora_a`).toBe('');
        expect(firstDifference(f32Of(file, `${g}.lora_b`), bt), `${g}.lora_b`).toBe('');
      }
    }
  });

  test('--outtype f16 / q8_0: lora_b rows of r = 8 are not Q8_0 blocks and fall back to F16, as gguf-py does', async () => {
    const out = join(dir, 'peft-q8.gguf');
    await convertAdapter(PEFT, out, { base: qwenBase, outType: 'q8_0' });
    using file = MappedGguf.open(out);
    expect(file.tensor('blk.0.attn_q.weight.lora_a')!.type).toBe(GgmlType.Q8_0);
    expect(file.tensor('blk.0.attn_q.weight.lora_b')!.type).toBe(GgmlType.F16);
    const f16 = join(dir, 'mlx-f16.gguf');
    await convertAdapter(MLX, f16, { base: llamaBase, outType: 'f16' });
    using g = MappedGguf.open(f16);
    expect(g.header.tensors.every((t) => t.type === GgmlType.F16)).toBe(true);
    // Ollama's converter writes F16 too, and its expected hashes hold for this adapter: attn_v
    // (no permutation) is byte-identical. For attn_q Ollama permutes lora_a's input features and
    // leaves lora_b alone; llama.cpp (and we) permute lora_b's output rows, which is what the
    // permuted base rows need (the runtime test checks it against an HF-space merge). Ollama's
    // lora_b is exactly our lora_b before the permutation.
    const expected = JSON.parse(readFileSync(join(MLX, 'expected-ollama-gguf.json'), 'utf8')) as Record<string, string>;
    const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    const source = readSafetensorsF32(join(MLX, 'adapters.safetensors'));
    for (const layer of [30, 31]) {
      for (const side of ['a', 'b']) {
        const v = `blk.${layer}.attn_v.weight.lora_${side}`;
        expect(sha(g.tensorData(v)), v).toBe(expected[v]);
      }
      const q = `blk.${layer}.attn_q.weight.lora_b`;
      expect(sha(g.tensorData(q)), q).not.toBe(expected[q]);
      const b = source.get(`model.layers.${layer}.self_attn.q_proj.lora_b`)!;
      const bt = new Float32Array(4096 * 8);
      for (let k = 0; k < 8; k++) for (let o = 0; o < 4096; o++) bt[o * 8 + k] = b.values[k * 4096 + o]!;
      expect(sha(new Uint8Array(fp32ToFp16(bt).buffer)), `${q} before the permutation`).toBe(expected[q]);
    }
  });

  test('nothing is left in the output directory after a conversion', () => {
    expect(readdirSync(dir).filter((f) => f.includes('.tmp') || f.startsWith('.'))).toEqual([]);
    expect(existsSync(join(dir, 'peft-qwen.gguf'))).toBe(true);
  });
});
