// Every architecture besides Llama (llama.test.ts): a tiny checkpoint built from the family's real
// config fields scaled down, seeded weights, real tokenizer files; the arch keys, tensor names,
// shapes and types, the transformed tensors against references computed here from the HF tensors,
// and a load in llama.cpp with finite logits.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { encodeSentencePieceModel, PieceType, type SentencePiece } from '../../lib/convert/tokenizer/sentencepiece.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { GgufValueType as T, type GgufMetadataEntry } from '../../lib/gguf/types.js';
import { fp16ToFp32, fp32ToFp16 } from '../../lib/quantize/halfFloat.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { ggufTensorValues, sameFloats, llamaSpecs, referencePermute, scratch, TOKENIZERS, writeHfModel, type HfModel, type TensorSpec } from './hfFixtures.js';
import { disposeRuntime, nextLogits, nlc } from './llamaRuntime.js';

afterAll(async () => {
  await disposeRuntime();
  rmSync(scratch, { recursive: true, force: true });
});

const f16 = (v: Float32Array) => fp16ToFp32(fp32ToFp16(v));

function header(path: string) {
  return readGgufHeaderSync(path);
}

/** [key, type, value] of every key of the architecture (and general.file_type), in file order. */
function archKeys(path: string, arch: string): [string, number, unknown][] {
  return header(path)
    .metadata.filter((m) => m.key.startsWith(`${arch}.`) || m.key === 'general.file_type')
    .map((m: GgufMetadataEntry) => [m.key, m.type, m.type === T.ARRAY ? Array.from((m.value as { items: ArrayLike<unknown> }).items) : m.value]);
}

function meta(path: string, key: string): unknown {
  const v = header(path).metadata.find((m) => m.key === key)?.value;
  return v && typeof v === 'object' && 'items' in v ? Array.from((v as { items: ArrayLike<unknown> }).items) : v;
}

function tensorTable(path: string): Map<string, { type: number; shape: number[] }> {
  return new Map(header(path).tensors.map((t) => [t.name, { type: t.type, shape: t.shape }]));
}

async function convert(model: HfModel, outType = 'f16'): Promise<string> {
  const out = join(model.dir, `out-${outType}.gguf`);
  await convertModel(model.dir, out, { outType, threads: 2 });
  return out;
}

async function expectFiniteLogits(path: string, vocab: number): Promise<void> {
  if (!nlc) return;
  const { logits } = await nextLogits(path, 'Once upon a time');
  expect(logits).toHaveLength(vocab);
  expect(logits.every(Number.isFinite)).toBe(true);
  expect(logits.reduce((a, b) => Math.max(a, b))).toBeGreaterThan(logits.reduce((a, b) => Math.min(a, b)));
}

const F = Math.fround;

describe.skipIf(!sharedDataAvailable)('MistralForCausalLM (Mistral-7B-Instruct-v0.2 fields, Mistral v1 tokenizer)', () => {
  test('converts as llama with K un-permuted by the KV heads, and runs', async () => {
    // Real: hidden 4096, ff 14336, 32 layers, 32 heads, 8 KV heads, 32768 ctx, rms 1e-5, rope_theta 1e6, sliding_window null.
    const config = {
      architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_size: 64, intermediate_size: 224, num_hidden_layers: 2, num_attention_heads: 8,
      num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 1e6, sliding_window: null, vocab_size: 32000, bos_token_id: 1,
      eos_token_id: 2, tie_word_embeddings: false, torch_dtype: 'bfloat16',
    };
    const model = await writeHfModel('Mistral-7B-Instruct-v0.2', config, llamaSpecs({ vocab: 32000, hidden: 64, ff: 224, layers: 2, heads: 8, kvHeads: 2 }), { tokenizer: TOKENIZERS.mistral, seed: 11 });
    const out = await convert(model);
    expect(archKeys(out, 'llama')).toEqual([
      ['llama.block_count', T.UINT32, 2], ['llama.context_length', T.UINT32, 32768], ['llama.embedding_length', T.UINT32, 64],
      ['llama.feed_forward_length', T.UINT32, 224], ['llama.attention.head_count', T.UINT32, 8], ['llama.attention.head_count_kv', T.UINT32, 2],
      ['llama.rope.freq_base', T.FLOAT32, 1e6], ['llama.attention.layer_norm_rms_epsilon', T.FLOAT32, F(1e-5)],
      ['llama.attention.key_length', T.UINT32, 8], ['llama.attention.value_length', T.UINT32, 8], ['general.file_type', T.UINT32, 1],
      ['llama.vocab_size', T.UINT32, 32000], ['llama.rope.dimension_count', T.UINT32, 8],
    ]);
    expect([meta(out, 'general.name'), meta(out, 'general.basename'), meta(out, 'general.version')]).toEqual(['Mistral 7B Instruct v0.2', 'Mistral', 'v0.2']);
    const k = ggufTensorValues(out, 'blk.1.attn_k.weight');
    expect(k.shape).toEqual([64, 16]);
    expect(sameFloats(k.values, f16(referencePermute(model.tensors.get('model.layers.1.self_attn.k_proj.weight')!.values, 16, 64, 2)))).toBe('same');
    expect(sameFloats(ggufTensorValues(out, 'output.weight').values, f16(model.tensors.get('lm_head.weight')!.values))).toBe('same');
    await expectFiniteLogits(out, 32000);
  });
});

describe.skipIf(!sharedDataAvailable)('MixtralForCausalLM (Mixtral-8x7B fields, experts stacked)', () => {
  test('experts stack into ffn_{gate,down,up}_exps (w1, w2, w3), the router stays F32, and it runs', async () => {
    const experts = 4;
    const config = {
      architectures: ['MixtralForCausalLM'], model_type: 'mixtral', hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 1e6, num_local_experts: experts, num_experts_per_tok: 2,
      vocab_size: 32000, bos_token_id: 1, eos_token_id: 2, tie_word_embeddings: false,
    };
    const specs: TensorSpec[] = llamaSpecs({ vocab: 32000, hidden: 64, ff: 96, layers: 2, heads: 4, kvHeads: 2 }).filter((s) => !s.name.includes('.mlp.'));
    for (let l = 0; l < 2; l++) {
      specs.push({ name: `model.layers.${l}.block_sparse_moe.gate.weight`, shape: [experts, 64] });
      for (let x = 0; x < experts; x++) {
        specs.push({ name: `model.layers.${l}.block_sparse_moe.experts.${x}.w1.weight`, shape: [96, 64] });
        specs.push({ name: `model.layers.${l}.block_sparse_moe.experts.${x}.w2.weight`, shape: [64, 96] });
        specs.push({ name: `model.layers.${l}.block_sparse_moe.experts.${x}.w3.weight`, shape: [96, 64] });
      }
    }
    const model = await writeHfModel('Mixtral-8x7B-Instruct-v0.1', config, specs, { tokenizer: TOKENIZERS.mistral, seed: 12, shards: 3 });
    const out = await convert(model);
    const keys = archKeys(out, 'llama');
    expect(keys.filter(([k]) => k.includes('expert'))).toEqual([['llama.expert_count', T.UINT32, 4], ['llama.expert_used_count', T.UINT32, 2]]);
    const tensors = tensorTable(out);
    expect(tensors.get('blk.0.ffn_gate_exps.weight')).toEqual({ type: GgmlType.F16, shape: [64, 96, 4] });
    expect(tensors.get('blk.0.ffn_down_exps.weight')).toEqual({ type: GgmlType.F16, shape: [96, 64, 4] });
    expect(tensors.get('blk.0.ffn_up_exps.weight')).toEqual({ type: GgmlType.F16, shape: [64, 96, 4] });
    expect(tensors.get('blk.0.ffn_gate_inp.weight')).toEqual({ type: GgmlType.F32, shape: [64, 4] });
    for (const [wid, gguf] of [['w1', 'ffn_gate_exps'], ['w2', 'ffn_down_exps'], ['w3', 'ffn_up_exps']] as const) {
      const stacked = ggufTensorValues(out, `blk.1.${gguf}.weight`).values;
      const parts = Array.from({ length: experts }, (_, x) => model.tensors.get(`model.layers.1.block_sparse_moe.experts.${x}.${wid}.weight`)!.values);
      const want = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (want.set(p, at), at + p.length), 0);
      expect(stacked).toEqual(f16(want));
    }
    // "8x7B" in the directory name is kept as the size label (it does not parse as a number).
    expect([meta(out, 'general.size_label'), meta(out, 'general.basename'), meta(out, 'general.version')]).toEqual(['8x7B', 'Mixtral', 'v0.1']);
    await expectFiniteLogits(out, 32000);
  });
});

describe.skipIf(!sharedDataAvailable)('Qwen2ForCausalLM (Qwen2.5-0.5B-Instruct config, its BPE vocab.json/merges.txt)', () => {
  test('q/k/v biases kept F32 and unpermuted, qwen2 pre-tokenizer identified by hash, and it runs', async () => {
    const real = JSON.parse(readFileSync(sharedData('configs', 'Qwen2.5-0.5B-Instruct', 'config.json'), 'utf8'));
    const config = { ...real, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_window_layers: 2 };
    const model = await writeHfModel('Qwen2.5-0.5B-Instruct', config, llamaSpecs({ vocab: 151936, hidden: 32, ff: 64, layers: 2, heads: 4, kvHeads: 2, tied: true, bias: true }), {
      tokenizer: { ...TOKENIZERS.qwen25, 'generation_config.json': sharedData('configs', 'Qwen2.5-0.5B-Instruct', 'generation_config.json') },
      seed: 13,
      dtype: 'F32',
    });
    const out = await convert(model);
    expect(archKeys(out, 'qwen2')).toEqual([
      ['qwen2.block_count', T.UINT32, 2], ['qwen2.context_length', T.UINT32, 32768], ['qwen2.embedding_length', T.UINT32, 32],
      ['qwen2.feed_forward_length', T.UINT32, 64], ['qwen2.attention.head_count', T.UINT32, 4], ['qwen2.attention.head_count_kv', T.UINT32, 2],
      ['qwen2.rope.freq_base', T.FLOAT32, 1e6], ['qwen2.attention.layer_norm_rms_epsilon', T.FLOAT32, F(1e-6)], ['general.file_type', T.UINT32, 1],
    ]);
    // generation_config.json sampling defaults come before general.name.
    const keys = header(out).metadata.map((m) => m.key);
    expect(keys.slice(0, 6)).toEqual(['general.architecture', 'general.type', 'general.sampling.top_k', 'general.sampling.top_p', 'general.sampling.temp', 'general.name']);
    expect([meta(out, 'general.sampling.top_k'), meta(out, 'general.sampling.top_p'), meta(out, 'general.sampling.temp')]).toEqual([20, F(0.8), F(0.7)]);
    expect([meta(out, 'tokenizer.ggml.model'), meta(out, 'tokenizer.ggml.pre')]).toEqual(['gpt2', 'qwen2']);
    const tokens = meta(out, 'tokenizer.ggml.tokens') as string[];
    const types = meta(out, 'tokenizer.ggml.token_type') as number[];
    expect(tokens).toHaveLength(151936);
    expect([tokens[151643], types[151643], tokens[151657], types[151657], tokens[151700], types[151700]]).toEqual(['<|endoftext|>', 3, '<tool_call>', 4, '[PAD151700]', 5]);
    expect((meta(out, 'tokenizer.ggml.merges') as string[])[0]).toBe('Ġ Ġ');
    expect([meta(out, 'tokenizer.ggml.bos_token_id'), meta(out, 'tokenizer.ggml.eos_token_id'), meta(out, 'tokenizer.ggml.add_bos_token')]).toEqual([151643, 151645, false]);
    expect(meta(out, 'tokenizer.chat_template')).toContain('<|im_start|>');
    const bias = ggufTensorValues(out, 'blk.0.attn_q.bias');
    expect([bias.type, bias.shape]).toEqual([GgmlType.F32, [32]]);
    expect(sameFloats(bias.values, model.tensors.get('model.layers.0.self_attn.q_proj.bias')!.values)).toBe('same');
    expect(sameFloats(ggufTensorValues(out, 'blk.0.attn_q.weight').values, f16(model.tensors.get('model.layers.0.self_attn.q_proj.weight')!.values))).toBe('same');
    expect(tensorTable(out).has('output.weight')).toBe(false);
    await expectFiniteLogits(out, 151936);
  });
});

describe.skipIf(!sharedDataAvailable)('Qwen3ForCausalLM (q/k norms, chat_template.jinja)', () => {
  test('head_dim from the config, attn_q_norm/attn_k_norm F32, template from chat_template.jinja, and it runs', async () => {
    const config = {
      architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, vocab_size: 151936, tie_word_embeddings: true,
      bos_token_id: 151643, eos_token_id: 151645,
    };
    const { 'tokenizer_config.json': _, ...files } = TOKENIZERS.qwen25;
    const tokenizerConfig = JSON.parse(readFileSync(TOKENIZERS.qwen25['tokenizer_config.json'], 'utf8'));
    delete tokenizerConfig.chat_template;
    const template = readFileSync(sharedData('chat-templates', 'llama.cpp', 'Qwen-Qwen3-0.6B.jinja'), 'utf8');
    const model = await writeHfModel('Qwen3-0.6B', config, llamaSpecs({ vocab: 151936, hidden: 32, ff: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, tied: true, qkNorm: true }), {
      tokenizer: files,
      files: { 'tokenizer_config.json': JSON.stringify(tokenizerConfig), 'chat_template.jinja': template },
      seed: 14,
    });
    const out = await convert(model, 'bf16');
    const keys = archKeys(out, 'qwen3');
    expect(keys.find(([k]) => k === 'qwen3.attention.key_length')).toEqual(['qwen3.attention.key_length', T.UINT32, 16]);
    expect(keys.find(([k]) => k === 'general.file_type')).toEqual(['general.file_type', T.UINT32, 32]);
    expect(meta(out, 'tokenizer.chat_template')).toBe(template);
    const tensors = tensorTable(out);
    expect(tensors.get('blk.1.attn_q_norm.weight')).toEqual({ type: GgmlType.F32, shape: [16] });
    expect(tensors.get('blk.1.attn_q.weight')).toEqual({ type: GgmlType.BF16, shape: [32, 64] });
    expect(sameFloats(ggufTensorValues(out, 'blk.1.attn_k_norm.weight').values, model.tensors.get('model.layers.1.self_attn.k_norm.weight')!.values)).toBe('same');
    await expectFiniteLogits(out, 151936);
  });
});

/** A Gemma-layout SentencePiece vocabulary (Gemma's 4 MB tokenizer.model is not in shared data): specials at Gemma's ids. */
function gemmaPieces(): SentencePiece[] {
  const p: SentencePiece[] = [
    { piece: '<pad>', score: 0, type: PieceType.CONTROL },
    { piece: '<eos>', score: 0, type: PieceType.CONTROL },
    { piece: '<bos>', score: 0, type: PieceType.CONTROL },
    { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
  ];
  for (let i = 4; i < 106; i++) p.push({ piece: `<unused${i - 4}>`, score: 0, type: PieceType.USER_DEFINED });
  p.push({ piece: '<start_of_turn>', score: 0, type: PieceType.USER_DEFINED }, { piece: '<end_of_turn>', score: 0, type: PieceType.USER_DEFINED });
  for (let b = 0; b < 256; b++) p.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: PieceType.BYTE });
  const words = ['▁', '▁Once', '▁upon', '▁a', '▁time', '▁the', '▁and', '▁was', 'e', 't', 'a', 'o', 'n', 'i', 's', 'r', 'h', 'l', 'd', 'u', 'm', 'c', 'p', 'O'];
  words.forEach((w, i) => p.push({ piece: w, score: -i, type: PieceType.NORMAL }));
  while (p.length < 512) p.push({ piece: `▁w${p.length}`, score: -100 - p.length, type: PieceType.NORMAL });
  return p;
}

function gemmaSpecs(o: { layers: number; hidden: number; ff: number; heads: number; kvHeads: number; headDim: number; vocab: number; sandwich: boolean; qkNorm: boolean }): TensorSpec[] {
  const out: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [o.vocab, o.hidden] }, { name: 'model.norm.weight', shape: [o.hidden], constant: 0 }];
  for (let i = 0; i < o.layers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [o.hidden], constant: 0 },
      { name: `${p}.post_attention_layernorm.weight`, shape: [o.hidden], constant: 0 },
      { name: `${p}.self_attn.q_proj.weight`, shape: [o.heads * o.headDim, o.hidden] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [o.kvHeads * o.headDim, o.hidden] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [o.kvHeads * o.headDim, o.hidden] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [o.hidden, o.heads * o.headDim] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [o.ff, o.hidden] },
      { name: `${p}.mlp.up_proj.weight`, shape: [o.ff, o.hidden] },
      { name: `${p}.mlp.down_proj.weight`, shape: [o.hidden, o.ff] },
    );
    if (o.sandwich) out.push({ name: `${p}.pre_feedforward_layernorm.weight`, shape: [o.hidden], constant: 0 }, { name: `${p}.post_feedforward_layernorm.weight`, shape: [o.hidden], constant: 0 });
    if (o.qkNorm) out.push({ name: `${p}.self_attn.q_norm.weight`, shape: [o.headDim], constant: 0 }, { name: `${p}.self_attn.k_norm.weight`, shape: [o.headDim], constant: 0 });
  }
  return out;
}

function gemmaTokenizer(): { tokenizer: Record<string, string>; files: Record<string, string> } {
  return {
    tokenizer: { 'tokenizer_config.json': sharedData('tokenizers', 'gemma', 'tokenizer_config.json'), 'special_tokens_map.json': sharedData('tokenizers', 'gemma', 'special_tokens_map.json') },
    files: {},
  };
}

async function gemmaModel(name: string, config: Record<string, unknown>, specs: TensorSpec[], seed: number, dtype: 'F16' | 'BF16' = 'BF16'): Promise<HfModel> {
  const { tokenizer } = gemmaTokenizer();
  const model = await writeHfModel(name, config, specs, { tokenizer, seed, dtype });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(model.dir, 'tokenizer.model'), encodeSentencePieceModel(gemmaPieces()));
  return model;
}

/** Gemma's norm + 1, in the source dtype's arithmetic (F16 sums rounded to F16). */
function plusOne(values: Float32Array, dtype: string): Float32Array {
  const out = values.map((v) => F(v + 1));
  return dtype === 'F16' ? f16(out) : out;
}

describe.skipIf(!sharedDataAvailable)('GemmaForCausalLM (gemma-2b-it fields)', () => {
  test('norms + 1, lm_head dropped, eot 107 and no space prefix, and it runs', async () => {
    // Real: hidden 2048, ff 16384, 18 layers, 8 heads, 1 KV head, head_dim 256, ctx 8192, rms 1e-6, vocab 256000.
    const config = {
      architectures: ['GemmaForCausalLM'], model_type: 'gemma', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 10000, vocab_size: 512, bos_token_id: 2,
      eos_token_id: 1, pad_token_id: 0, hidden_activation: 'gelu_pytorch_tanh',
    };
    const specs = gemmaSpecs({ layers: 2, hidden: 64, ff: 128, heads: 4, kvHeads: 1, headDim: 16, vocab: 512, sandwich: false, qkNorm: false });
    specs.push({ name: 'lm_head.weight', shape: [512, 64] });
    const model = await gemmaModel('gemma-2b-it', config, specs, 15, 'F16');
    const out = await convert(model);
    expect(archKeys(out, 'gemma')).toEqual([
      ['gemma.context_length', T.UINT32, 8192], ['gemma.embedding_length', T.UINT32, 64], ['gemma.block_count', T.UINT32, 2],
      ['gemma.feed_forward_length', T.UINT32, 128], ['gemma.attention.head_count', T.UINT32, 4], ['gemma.attention.head_count_kv', T.UINT32, 1],
      ['gemma.attention.layer_norm_rms_epsilon', T.FLOAT32, F(1e-6)], ['gemma.attention.key_length', T.UINT32, 16], ['gemma.attention.value_length', T.UINT32, 16],
      ['general.file_type', T.UINT32, 1],
    ]);
    const keys = header(out).metadata.map((m) => m.key);
    expect(keys.slice(-2)).toEqual(['tokenizer.ggml.eot_token_id', 'tokenizer.ggml.add_space_prefix']);
    expect([meta(out, 'tokenizer.ggml.eot_token_id'), meta(out, 'tokenizer.ggml.add_space_prefix'), meta(out, 'tokenizer.ggml.bos_token_id')]).toEqual([107, false, 2]);
    // added_tokens_decoder marks <start_of_turn>/<end_of_turn> special: CONTROL with score -1000.
    expect((meta(out, 'tokenizer.ggml.token_type') as number[]).slice(105, 109)).toEqual([1, 3, 3, 6]);
    expect(tensorTable(out).has('output.weight')).toBe(false);
    const norm = ggufTensorValues(out, 'blk.0.attn_norm.weight');
    expect(norm.type).toBe(GgmlType.F32);
    expect(sameFloats(norm.values, plusOne(model.tensors.get('model.layers.0.input_layernorm.weight')!.values, 'F16'))).toBe('same');
    expect(sameFloats(ggufTensorValues(out, 'output_norm.weight').values, plusOne(model.tensors.get('model.norm.weight')!.values, 'F16'))).toBe('same');
    // No Q/K permutation for Gemma (NEOX rope).
    expect(sameFloats(ggufTensorValues(out, 'blk.1.attn_q.weight').values, model.tensors.get('model.layers.1.self_attn.q_proj.weight')!.values)).toBe('same');
    await expectFiniteLogits(out, 512);
  });
});

describe.skipIf(!sharedDataAvailable)('Gemma2ForCausalLM (gemma-2-2b-it fields)', () => {
  test('soft-capping and sliding window keys, sandwich norms renamed and + 1, and it runs', async () => {
    // Real: hidden 2304, ff 9216, 26 layers, 8 heads, 4 KV heads, head_dim 256, caps 50/30, window 4096.
    const config = {
      architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 8192, rms_norm_eps: 1e-6, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0,
      sliding_window: 4096, query_pre_attn_scalar: 16, vocab_size: 512, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0,
    };
    const model = await gemmaModel('gemma-2-2b-it', config, gemmaSpecs({ layers: 2, hidden: 64, ff: 128, heads: 4, kvHeads: 2, headDim: 16, vocab: 512, sandwich: true, qkNorm: false }), 16);
    const out = await convert(model);
    expect(archKeys(out, 'gemma2').slice(-4)).toEqual([
      ['general.file_type', T.UINT32, 1], ['gemma2.attn_logit_softcapping', T.FLOAT32, 50], ['gemma2.final_logit_softcapping', T.FLOAT32, 30],
      ['gemma2.attention.sliding_window', T.UINT32, 4096],
    ]);
    const tensors = tensorTable(out);
    for (const n of ['attn_norm', 'post_attention_norm', 'ffn_norm', 'post_ffw_norm']) expect(tensors.get(`blk.1.${n}.weight`)).toEqual({ type: GgmlType.F32, shape: [64] });
    expect(sameFloats(ggufTensorValues(out, 'blk.1.post_ffw_norm.weight').values, plusOne(model.tensors.get('model.layers.1.post_feedforward_layernorm.weight')!.values, 'BF16'))).toBe('same');
    expect(sameFloats(ggufTensorValues(out, 'blk.1.ffn_norm.weight').values, plusOne(model.tensors.get('model.layers.1.pre_feedforward_layernorm.weight')!.values, 'BF16'))).toBe('same');
    await expectFiniteLogits(out, 512);
  });
});

describe.skipIf(!sharedDataAvailable)('Gemma3ForCausalLM (gemma-3-1b-it fields)', () => {
  test('local rope base, sliding window, q/k norms + 1, embeddings cut to the vocabulary, and it runs', async () => {
    // Real: hidden 1152, ff 6912, 26 layers, 4 heads, 1 KV head, head_dim 256, ctx 32768, rope 1e6 / local 1e4, window 512, pattern 6.
    const config = {
      architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_local_base_freq: 10000,
      sliding_window: 512, sliding_window_pattern: 6, final_logit_softcapping: null, attn_logit_softcapping: null, query_pre_attn_scalar: 16, rope_scaling: null,
      vocab_size: 512, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0,
    };
    // The checkpoint's embedding has 8 rows more than the vocabulary: the converter drops them.
    const model = await gemmaModel('gemma-3-1b-it', config, gemmaSpecs({ layers: 2, hidden: 64, ff: 128, heads: 4, kvHeads: 1, headDim: 16, vocab: 520, sandwich: true, qkNorm: true }), 17);
    const out = await convert(model);
    expect(archKeys(out, 'gemma3')).toEqual([
      ['gemma3.block_count', T.UINT32, 2], ['gemma3.context_length', T.UINT32, 32768], ['gemma3.embedding_length', T.UINT32, 64],
      ['gemma3.feed_forward_length', T.UINT32, 128], ['gemma3.attention.head_count', T.UINT32, 4], ['gemma3.attention.head_count_kv', T.UINT32, 1],
      ['gemma3.rope.freq_base', T.FLOAT32, 1e6], ['gemma3.rope.freq_base_swa', T.FLOAT32, 10000], ['gemma3.attention.layer_norm_rms_epsilon', T.FLOAT32, F(1e-6)],
      ['gemma3.attention.key_length', T.UINT32, 16], ['gemma3.attention.value_length', T.UINT32, 16], ['general.file_type', T.UINT32, 1],
      ['gemma3.attention.sliding_window', T.UINT32, 512],
    ]);
    expect(meta(out, 'tokenizer.ggml.tokens')).toHaveLength(512);
    expect(tensorTable(out).get('token_embd.weight')).toEqual({ type: GgmlType.F16, shape: [64, 512] });
    expect(sameFloats(ggufTensorValues(out, 'token_embd.weight').values, f16(model.tensors.get('model.embed_tokens.weight')!.values.subarray(0, 512 * 64)))).toBe('same');
    expect(sameFloats(ggufTensorValues(out, 'blk.0.attn_q_norm.weight').values, plusOne(model.tensors.get('model.layers.0.self_attn.q_norm.weight')!.values, 'BF16'))).toBe('same');
    await expectFiniteLogits(out, 512);
  });
});

describe.skipIf(!sharedDataAvailable)('Phi3ForCausalLM (Phi-3-mini-128k-instruct config, Phi-3 tokenizer)', () => {
  test('fused qkv and gate_up kept, LongRoPE factors and attn_factor, and it runs', async () => {
    const real = JSON.parse(readFileSync(sharedData('configs', 'Phi-3-mini-128k-instruct', 'config.json'), 'utf8'));
    const heads = 4;
    const hidden = 64;
    const ropeDims = hidden / heads;
    const config = {
      ...real, hidden_size: hidden, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: heads, num_key_value_heads: heads,
      rope_scaling: { ...real.rope_scaling, long_factor: real.rope_scaling.long_factor.slice(0, ropeDims / 2), short_factor: real.rope_scaling.short_factor.slice(0, ropeDims / 2) },
    };
    const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [32064, hidden] }, { name: 'model.norm.weight', shape: [hidden], constant: 1 }, { name: 'lm_head.weight', shape: [32064, hidden] }];
    for (let i = 0; i < 2; i++) {
      const p = `model.layers.${i}`;
      specs.push(
        { name: `${p}.input_layernorm.weight`, shape: [hidden], constant: 1 },
        { name: `${p}.post_attention_layernorm.weight`, shape: [hidden], constant: 1 },
        { name: `${p}.self_attn.qkv_proj.weight`, shape: [3 * hidden, hidden] },
        { name: `${p}.self_attn.o_proj.weight`, shape: [hidden, hidden] },
        { name: `${p}.mlp.gate_up_proj.weight`, shape: [256, hidden] },
        { name: `${p}.mlp.down_proj.weight`, shape: [hidden, 128] },
      );
    }
    const model = await writeHfModel('Phi-3-mini-128k-instruct', config, specs, { tokenizer: TOKENIZERS.phi3, seed: 18 });
    const out = await convert(model);
    const keys = header(out).metadata.map((m) => m.key);
    // The attention factor is set while tensors are prepared: right after general.architecture.
    expect(keys.slice(0, 3)).toEqual(['general.architecture', 'phi3.rope.scaling.attn_factor', 'general.type']);
    const scale = 131072 / 4096;
    expect(meta(out, 'phi3.rope.scaling.attn_factor')).toBe(F(Math.sqrt(1 + Math.log(scale) / Math.log(4096))));
    expect(archKeys(out, 'phi3').slice(1)).toEqual([
      ['phi3.context_length', T.UINT32, 131072], ['phi3.rope.scaling.original_context_length', T.UINT32, 4096], ['phi3.embedding_length', T.UINT32, 64],
      ['phi3.feed_forward_length', T.UINT32, 128], ['phi3.block_count', T.UINT32, 2], ['phi3.attention.head_count', T.UINT32, 4],
      ['phi3.attention.head_count_kv', T.UINT32, 4], ['phi3.attention.layer_norm_rms_epsilon', T.FLOAT32, F(1e-5)], ['phi3.rope.dimension_count', T.UINT32, 16],
      ['phi3.rope.freq_base', T.FLOAT32, 10000], ['general.file_type', T.UINT32, 1], ['phi3.attention.sliding_window', T.UINT32, 262144],
    ]);
    const names = header(out).tensors.map((t) => t.name);
    expect(names.slice(0, 2)).toEqual(['rope_factors_long.weight', 'rope_factors_short.weight']);
    expect(sameFloats(ggufTensorValues(out, 'rope_factors_long.weight').values, Float32Array.from(config.rope_scaling.long_factor))).toBe('same');
    expect(tensorTable(out).get('blk.0.attn_qkv.weight')).toEqual({ type: GgmlType.F16, shape: [64, 192] });
    expect(tensorTable(out).get('blk.0.ffn_up.weight')).toEqual({ type: GgmlType.F16, shape: [64, 256] });
    expect(sameFloats(ggufTensorValues(out, 'blk.0.attn_qkv.weight').values, f16(model.tensors.get('model.layers.0.self_attn.qkv_proj.weight')!.values))).toBe('same');
    const types = meta(out, 'tokenizer.ggml.token_type') as number[];
    expect([types[0], types[1], types[2], types[32000], types[32063]]).toEqual([3, 3, 4, 3, 5]);
    await expectFiniteLogits(out, 32064);
  });
});
