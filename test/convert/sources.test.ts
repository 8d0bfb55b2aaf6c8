// Source formats beyond plain floats: FP8 (E4M3 with block scale_inv, quant_method "fp8") dequantized
// before the usual transforms, and hostile tokenizer files refused with typed errors.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { e4m3ToFloat32 } from '../../lib/safetensors/fp8.js';
import { writeSafetensors, type SafetensorsTensorSpec } from '../../lib/safetensors/writer.js';
import { sharedDataAvailable } from '../sharedData.js';
import { encode, ggufTensorValues, llamaSpecs, referencePermute, Rng, sameFloats, scratch, TOKENIZERS, writeHfModel } from './hfFixtures.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CONFIG = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 512 };
const SHAPE = { vocab: 512, hidden: 64, ff: 128, layers: 1, heads: 4, kvHeads: 2 };

/** weight × scale_inv of its 32×32 block, in float32 (the E4M3 decoding itself is checked in test/safetensors). */
function dequantized(bytes: Uint8Array, scale: Float32Array, rows: number, cols: number): Float32Array {
  const w = e4m3ToFloat32(bytes);
  const blockCols = Math.ceil(cols / 32);
  return w.map((v, i) => Math.fround(v * (scale[Math.floor(Math.floor(i / cols) / 32) * blockCols + Math.floor((i % cols) / 32)] as number)));
}

describe.skipIf(!sharedDataAvailable)('FP8 checkpoints', () => {
  test('F8_E4M3 weights with 32×32 block scale_inv are dequantized, then permuted and converted', async () => {
    const model = await writeHfModel('fp8-model', { ...CONFIG, quantization_config: { quant_method: 'fp8', weight_block_size: [32, 32], fmt: 'e4m3' } }, llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2, dtype: 'F32' });
    // Replace q_proj and gate_proj with FP8 bytes and their inverse scales.
    const rng = new Rng(5);
    const tensors: SafetensorsTensorSpec[] = [...model.tensors.values()].map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: encode(t.values, 'F32') }));
    const fp8: Record<string, { bytes: Uint8Array; scale: Float32Array; rows: number; cols: number }> = {};
    for (const name of ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.gate_proj.weight']) {
      const i = tensors.findIndex((t) => t.name === name);
      const [rows, cols] = tensors[i]!.shape as [number, number];
      const bytes = Uint8Array.from({ length: rows * cols }, () => Math.floor(rng.next() * 256) & 0xf7); // no NaN codes
      const scale = Float32Array.from({ length: Math.ceil(rows / 32) * Math.ceil(cols / 32) }, () => 0.001 + rng.next() * 0.01);
      tensors[i] = { name, dtype: 'F8_E4M3', shape: [rows, cols], data: bytes };
      tensors.push({ name: `${name}_scale_inv`, dtype: 'F32', shape: [Math.ceil(rows / 32), Math.ceil(cols / 32)], data: encode(scale, 'F32') });
      fp8[name] = { bytes, scale, rows, cols };
    }
    await writeSafetensors(join(model.dir, 'model.safetensors'), tensors);
    const out = join(model.dir, 'out.gguf');
    const r = await convertModel(model.dir, out, { outType: 'f32' });
    expect(r.tensors.some((t) => t.name.includes('scale_inv'))).toBe(false);
    const q = fp8['model.layers.0.self_attn.q_proj.weight']!;
    const qValues = dequantized(q.bytes, q.scale, q.rows, q.cols);
    const gotQ = ggufTensorValues(out, 'blk.0.attn_q.weight');
    expect(gotQ.type).toBe(GgmlType.F32);
    expect(sameFloats(gotQ.values, referencePermute(qValues, q.rows, q.cols, 4))).toBe('same');
    const g = fp8['model.layers.0.mlp.gate_proj.weight']!;
    expect(sameFloats(ggufTensorValues(out, 'blk.0.ffn_gate.weight').values, dequantized(g.bytes, g.scale, g.rows, g.cols))).toBe('same');
  });

  test('an F8_E4M3 tensor without its scale_inv, or another quantization method, is refused', async () => {
    const model = await writeHfModel('fp8-bad', CONFIG, llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2, dtype: 'F32' });
    const specs: SafetensorsTensorSpec[] = [...model.tensors.values()].map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: encode(t.values, 'F32') }));
    const i = specs.findIndex((t) => t.name.endsWith('v_proj.weight'));
    specs[i] = { ...specs[i]!, dtype: 'F8_E4M3', data: new Uint8Array(specs[i]!.data.length / 4) };
    await writeSafetensors(join(model.dir, 'model.safetensors'), specs);
    await expect(convertModel(model.dir, join(scratch, 'x.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_TENSOR', message: expect.stringMatching(/no .*_scale_inv/) });
    writeFileSync(join(model.dir, 'config.json'), JSON.stringify({ ...CONFIG, quantization_config: { quant_method: 'gptq', bits: 4 } }));
    await expect(convertModel(model.dir, join(scratch, 'x.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_TENSOR', message: expect.stringMatching(/gptq/) });
  });
});

describe.skipIf(!sharedDataAvailable)('hostile tokenizer files', () => {
  test('truncated or garbage tokenizer.model, non-JSON tokenizer.json, malformed added tokens', async () => {
    const cases: [string, Record<string, string | Uint8Array>][] = [
      ['truncated tokenizer.model', { 'tokenizer.model': readFileSync(TOKENIZERS.llama2['tokenizer.model']).subarray(0, 1000) as unknown as Uint8Array }],
      ['garbage tokenizer.model', { 'tokenizer.model': Uint8Array.from({ length: 64 }, (_, i) => (i * 37) | 0x80) }],
      ['non-JSON tokenizer.json', { 'tokenizer.json': '{"model": {' }],
      ['added_tokens_decoder not an object', { 'tokenizer.model': readFileSync(TOKENIZERS.llama2['tokenizer.model']), 'tokenizer_config.json': '{"added_tokens_decoder": {"x": 1}}' }],
      ['added_tokens.json with a bad id', { 'tokenizer.model': readFileSync(TOKENIZERS.llama2['tokenizer.model']), 'added_tokens.json': '{"<x>": -3}' }],
      ['merges in an unknown format', { 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [1] }, added_tokens: [] }) }],
    ];
    for (const [label, files] of cases) {
      const model = await writeHfModel('hostile-tok', CONFIG, llamaSpecs(SHAPE), {});
      for (const [name, data] of Object.entries(files)) writeFileSync(join(model.dir, name), data);
      const err = await convertModel(model.dir, join(scratch, 'hostile.gguf')).catch((e) => e);
      expect([label, err?.name, err?.code]).toEqual([label, 'ConvertError', 'ERR_CONVERT_TOKENIZER']);
    }
  });
});
