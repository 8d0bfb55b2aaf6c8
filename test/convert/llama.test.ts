// LlamaForCausalLM → GGUF as convert_hf_to_gguf writes it: a Llama 3.2 config scaled down (real
// fields from shared data), BF16 weights in two shards, the real Llama 2 tokenizer. Keys and their
// order, tensor names/order/shapes/types, the Q/K un-permutation and Llama 3 rope factors against
// references computed here from the HF tensors, and the file runs in llama.cpp.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { GgufValueType as T } from '../../lib/gguf/types.js';
import { fp16ToFp32, fp32ToFp16 } from '../../lib/quantize/halfFloat.js';
import { sharedDataAvailable } from '../sharedData.js';
import { ggufTensorValues, llama32Config, sameFloats, llamaSpecs, referencePermute, scratch, TOKENIZERS, writeHfModel, type HfModel } from './hfFixtures.js';
import { disposeRuntime, nextLogits, nlc } from './llamaRuntime.js';

const SHAPE = { vocab: 32000, hidden: 64, ff: 128, layers: 2, heads: 4, kvHeads: 2, headDim: 16, tied: true };

function f16(values: Float32Array): Float32Array {
  return fp16ToFp32(fp32ToFp16(values));
}

/** Llama 3 rope factors in double precision, straight from the formula (research/llamacpp.md, transformers' _compute_llama3_parameters). */
function referenceRopeFactors(dim: number, base: number, factor: number, low: number, high: number, oldCtx: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < dim; i += 2) {
    const wavelen = (2 * Math.PI) / (1 / base ** (i / dim));
    if (wavelen < oldCtx / high) out.push(1);
    else if (wavelen > oldCtx / low) out.push(factor);
    else {
      const smooth = (oldCtx / wavelen - low) / (high - low);
      out.push(1 / ((1 - smooth) / factor + smooth));
    }
  }
  return out;
}

afterAll(async () => {
  await disposeRuntime();
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!sharedDataAvailable)('LlamaForCausalLM (Llama 3.2 config, sharded BF16, Llama 2 tokenizer)', () => {
  let model: HfModel;
  let out: string;
  beforeAll(async () => {
    model = await writeHfModel('Llama-3.2-1B-Instruct', llama32Config(SHAPE), llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2, shards: 2, seed: 7 });
    out = join(model.dir, 'out.gguf');
    await convertModel(model.dir, out, { threads: 2 });
  });

  test('metadata: the keys, types, values and order convert_hf_to_gguf writes', () => {
    const h = readGgufHeaderSync(out);
    const kv = h.metadata.map((m) => [m.key, m.type, m.type === T.ARRAY ? (m.value as { items: ArrayLike<unknown> }).items.length : m.value]);
    expect(kv).toEqual([
      ['general.architecture', T.STRING, 'llama'],
      ['general.type', T.STRING, 'model'],
      ['general.name', T.STRING, 'Llama 3.2 1B Instruct'],
      ['general.organization', T.STRING, 'Meta Llama'],
      // "1B" is too far from the 2.1M parameters of this scaled-down model to be its size label.
      ['general.finetune', T.STRING, '1b-Instruct'],
      ['general.basename', T.STRING, 'Llama-3.2'],
      ['general.size_label', T.STRING, '2.1M'],
      ['llama.block_count', T.UINT32, 2],
      ['llama.context_length', T.UINT32, 131072],
      ['llama.embedding_length', T.UINT32, 64],
      ['llama.feed_forward_length', T.UINT32, 128],
      ['llama.attention.head_count', T.UINT32, 4],
      ['llama.attention.head_count_kv', T.UINT32, 2],
      ['llama.rope.freq_base', T.FLOAT32, 500000],
      ['llama.attention.layer_norm_rms_epsilon', T.FLOAT32, Math.fround(1e-5)],
      ['llama.attention.key_length', T.UINT32, 16],
      ['llama.attention.value_length', T.UINT32, 16],
      ['general.file_type', T.UINT32, 1],
      ['llama.vocab_size', T.UINT32, 32000],
      ['llama.rope.dimension_count', T.UINT32, 16],
      ['general.quantization_version', T.UINT32, 2],
      ['tokenizer.ggml.model', T.STRING, 'llama'],
      ['tokenizer.ggml.pre', T.STRING, 'default'],
      ['tokenizer.ggml.tokens', T.ARRAY, 32000],
      ['tokenizer.ggml.scores', T.ARRAY, 32000],
      ['tokenizer.ggml.token_type', T.ARRAY, 32000],
      ['tokenizer.ggml.bos_token_id', T.UINT32, 1],
      ['tokenizer.ggml.eos_token_id', T.UINT32, 2],
      ['tokenizer.ggml.unknown_token_id', T.UINT32, 0],
      ['tokenizer.ggml.add_bos_token', T.BOOL, true],
      // gguf-py reads tokenizer.json's TemplateProcessing: "<s> A <s> B" gives add_sep_token false.
      ['tokenizer.ggml.add_sep_token', T.BOOL, false],
      ['tokenizer.ggml.add_eos_token', T.BOOL, false],
    ]);
    const types = h.metadata.find((m) => m.key === 'tokenizer.ggml.token_type')!.value as { itemType: number; items: Int32Array };
    expect(types.itemType).toBe(T.INT32);
    expect([...types.items.slice(0, 4)]).toEqual([2, 3, 3, 6]);
  });

  test('tensors: rope_freqs first, then the shards in order with names sorted; tied output is omitted', () => {
    const h = readGgufHeaderSync(out);
    const hfOrder = [...model.tensors.keys()].filter((_, i) => i % 2 === 0).sort().concat([...model.tensors.keys()].filter((_, i) => i % 2 === 1).sort());
    const map = (n: string) =>
      n
        .replace('model.embed_tokens', 'token_embd')
        .replace('model.norm', 'output_norm')
        .replace(/^model\.layers\.(\d+)\./, 'blk.$1.')
        .replace('input_layernorm', 'attn_norm')
        .replace('post_attention_layernorm', 'ffn_norm')
        .replace(/self_attn\.([qkv])_proj/, 'attn_$1')
        .replace('self_attn.o_proj', 'attn_output')
        .replace(/mlp\.(gate|up|down)_proj/, 'ffn_$1');
    expect(h.tensors.map((t) => t.name)).toEqual(['rope_freqs.weight', ...hfOrder.map(map)]);
    expect(h.tensors.find((t) => t.name === 'output.weight')).toBeUndefined();
    for (const t of h.tensors) {
      const oneD = t.shape.length === 1;
      expect([t.name, t.type]).toEqual([t.name, oneD ? GgmlType.F32 : GgmlType.F16]);
    }
    expect(h.tensors.find((t) => t.name === 'token_embd.weight')!.shape).toEqual([64, 32000]);
    expect(h.tensors.find((t) => t.name === 'blk.1.attn_k.weight')!.shape).toEqual([64, 32]);
  });

  test('values: Q/K rows un-permuted per head, the rest converted element for element', () => {
    const hf = (n: string) => model.tensors.get(n)!.values;
    for (let layer = 0; layer < 2; layer++) {
      const q = ggufTensorValues(out, `blk.${layer}.attn_q.weight`);
      expect(sameFloats(q.values, f16(referencePermute(hf(`model.layers.${layer}.self_attn.q_proj.weight`), 64, 64, 4)))).toBe('same');
      // K has fewer heads than Q (GQA): it is permuted with the KV head count.
      const k = ggufTensorValues(out, `blk.${layer}.attn_k.weight`);
      expect(sameFloats(k.values, f16(referencePermute(hf(`model.layers.${layer}.self_attn.k_proj.weight`), 32, 64, 2)))).toBe('same');
      expect(sameFloats(ggufTensorValues(out, `blk.${layer}.attn_v.weight`).values, f16(hf(`model.layers.${layer}.self_attn.v_proj.weight`)))).toBe('same');
      expect(sameFloats(ggufTensorValues(out, `blk.${layer}.attn_norm.weight`).values, hf(`model.layers.${layer}.input_layernorm.weight`))).toBe('same');
    }
    expect(sameFloats(ggufTensorValues(out, 'token_embd.weight').values, f16(hf('model.embed_tokens.weight')))).toBe('same');
  });

  test('rope_freqs holds the Llama 3 scaling factors of the config', () => {
    const got = ggufTensorValues(out, 'rope_freqs.weight');
    expect(got.type).toBe(GgmlType.F32);
    const want = referenceRopeFactors(16, 500000, 32, 1, 4, 8192);
    expect(got.values.length).toBe(8);
    for (let i = 0; i < 8; i++) expect(got.values[i]).toBeCloseTo(want[i] as number, 5);
    // Long wavelengths are divided by the factor, short ones kept: both ends are present at this size.
    expect(got.values[0]).toBe(1);
    expect(got.values[7]).toBe(32);
  });

  test.skipIf(!nlc)('loads in llama.cpp and gives finite logits', async () => {
    const { tokens, logits } = await nextLogits(out, 'Once upon a time');
    expect(tokens.length).toBeGreaterThan(1);
    expect(logits).toHaveLength(32000);
    expect(logits.every(Number.isFinite)).toBe(true);
    expect(logits.reduce((a, b) => Math.max(a, b))).toBeGreaterThan(logits.reduce((a, b) => Math.min(a, b)));
  });
});
