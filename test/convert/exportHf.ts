// The inverse of the converter for Llama GGUFs, for round-trip tests: GGUF names back to Hugging
// Face names, shapes back to row-major, attn_q/attn_k rows back to HF's rotate-half layout, a
// config.json from the llama.* keys, and a SentencePiece tokenizer.model built from the vocabulary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSentencePieceModel } from '../../lib/convert/tokenizer/sentencepiece.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import type { GgufArray, GgufMetadataEntry } from '../../lib/gguf/types.js';
import { writeSafetensors, type SafetensorsTensorSpec } from '../../lib/safetensors/writer.js';

function meta(m: GgufMetadataEntry[], key: string): unknown {
  return m.find((e) => e.key === key)?.value;
}

function hfName(name: string): string {
  const global: Record<string, string> = { 'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };
  if (global[name]) return global[name];
  const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(name);
  const block: Record<string, string> = {
    attn_norm: 'input_layernorm', ffn_norm: 'post_attention_layernorm', attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj',
    attn_output: 'self_attn.o_proj', ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
  };
  if (!m || !block[m[2] as string]) throw new Error(`no HF name for ${name}`);
  return `model.layers.${m[1]}.${block[m[2] as string]}.weight`;
}

/** in[h*hd + j*hd/2 + i] = out[h*hd + 2i + j]: undoes llama.cpp's permute. */
function unpermuteRows(bytes: Uint8Array, rows: number, rowBytes: number, heads: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const hd = rows / heads;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const gguf = (h * hd + 2 * i + j) * rowBytes;
        out.set(bytes.subarray(gguf, gguf + rowBytes), (h * hd + j * (hd / 2) + i) * rowBytes);
      }
    }
  }
  return out;
}

/** Writes `dir` as a Hugging Face LlamaForCausalLM checkpoint (F32) holding the GGUF's model. */
export async function exportLlamaToHf(ggufPath: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  using gguf = MappedGguf.open(ggufPath);
  const m = gguf.header.metadata;
  const heads = meta(m, 'llama.attention.head_count') as number;
  const kvHeads = (meta(m, 'llama.attention.head_count_kv') as number | undefined) ?? heads;
  const tokens = (meta(m, 'tokenizer.ggml.tokens') as GgufArray).items as string[];
  const scores = (meta(m, 'tokenizer.ggml.scores') as GgufArray).items as Float32Array;
  const types = (meta(m, 'tokenizer.ggml.token_type') as GgufArray).items as Int32Array;
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: meta(m, 'llama.embedding_length'),
    intermediate_size: meta(m, 'llama.feed_forward_length'),
    num_hidden_layers: meta(m, 'llama.block_count'),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: meta(m, 'llama.context_length'),
    rms_norm_eps: meta(m, 'llama.attention.layer_norm_rms_epsilon'),
    rope_theta: (meta(m, 'llama.rope.freq_base') as number | undefined) ?? 10000,
    vocab_size: tokens.length,
    bos_token_id: meta(m, 'tokenizer.ggml.bos_token_id'),
    eos_token_id: meta(m, 'tokenizer.ggml.eos_token_id'),
    tie_word_embeddings: !gguf.tensor('output.weight'),
    torch_dtype: 'float32',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'tokenizer.model'), encodeSentencePieceModel(tokens.map((piece, i) => ({ piece, score: scores[i] as number, type: types[i] as number }))));
  const specs: SafetensorsTensorSpec[] = gguf.header.tensors.map((t) => {
    if (t.type !== GgmlType.F32) throw new Error(`${t.name} is not F32`);
    const shape = [...t.shape].reverse();
    let data: Uint8Array = gguf.tensorData(t).slice();
    if (t.name.endsWith('attn_q.weight') || t.name.endsWith('attn_k.weight')) {
      data = unpermuteRows(data, shape[0] as number, (shape[1] as number) * 4, t.name.endsWith('attn_q.weight') ? heads : kvHeads);
    }
    return { name: hfName(t.name), dtype: 'F32', shape, data };
  });
  await writeSafetensors(join(dir, 'model.safetensors'), specs);
}
