// LlamaForCausalLM, MistralForCausalLM and MixtralForCausalLM: llama.cpp converts all three as
// general.architecture "llama" (convert_hf_to_gguf LlamaModel), with Q/K rows un-permuted from HF's
// rotate-half layout, Llama 3 rope scaling baked into rope_freqs.weight, and Mixtral's experts
// stacked into ffn_{gate,down,up}_exps (w1 → gate, w2 → down, w3 → up).
import { ConvertError } from './errors.js';
import { hparamsFor, intHparam, ropeParameters, type ConfigDefaults, type Hparams } from './hparams.js';
import type { KvBuilder } from './kv.js';
import {
  blockId,
  COMMON_BLOCK,
  COMMON_GLOBAL,
  isDroppedTensor,
  mapTensorName,
  modelTensors,
  plainTensor,
  textFilter,
  textModelParameters,
  type ArchitectureConverter,
  type ModelContext,
  type NameMap,
  type NamedSource,
  type PlannedTensor,
} from './model.js';
import { readJsonObject } from './tokenizer/hfFiles.js';
import { MissingTokenizerFile, setVocabGpt2, setVocabLlamaHf, setVocabSentencePiece } from './tokenizer/vocab.js';

const LLAMA_DEFAULTS: ConfigDefaults = {
  deriveHeadDim: true,
  defaults: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: null,
    max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false, head_dim: null,
  },
};
const MISTRAL_DEFAULTS: ConfigDefaults = {
  deriveHeadDim: true,
  defaults: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
    max_position_embeddings: 4096 * 32, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false, head_dim: null, sliding_window: 4096,
  },
};
const MIXTRAL_DEFAULTS: ConfigDefaults = {
  deriveHeadDim: true,
  defaults: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
    max_position_embeddings: 4096 * 32, rms_norm_eps: 1e-5, rope_theta: 1e6, tie_word_embeddings: false, head_dim: null,
    num_experts_per_tok: 2, num_local_experts: 8, sliding_window: null,
  },
};

export const LLAMA_NAMES: NameMap = { global: COMMON_GLOBAL, block: { ...COMMON_BLOCK, 'block_sparse_moe.gate': 'ffn_gate_inp' } };
const EXPERT_NAMES: Record<string, string> = { w1: 'ffn_gate_exps', w2: 'ffn_down_exps', w3: 'ffn_up_exps' };

/** Llama 3 rope scaling factors (LlamaModel.generate_extra_tensors), in float32 arithmetic like torch. */
export function llama3RopeFactors(h: Hparams, rp: Hparams): Float32Array {
  const f = Math.fround;
  const base = typeof rp.rope_theta === 'number' ? rp.rope_theta : 10000;
  const dim = (h.head_dim as number | null | undefined) ?? Math.floor((h.hidden_size as number) / (h.num_attention_heads as number));
  const factor = typeof rp.factor === 'number' ? rp.factor : 8;
  const low = typeof rp.low_freq_factor === 'number' ? rp.low_freq_factor : 1;
  const high = typeof rp.high_freq_factor === 'number' ? rp.high_freq_factor : 4;
  // The converter reads original_max_position_embeddings from the top level of the config only.
  const oldContext = typeof h.original_max_position_embeddings === 'number' ? h.original_max_position_embeddings : 8192;
  const lowWavelen = oldContext / low;
  const highWavelen = oldContext / high;
  const out = new Float32Array(Math.ceil(dim / 2));
  for (let i = 0, j = 0; i < dim; i += 2, j++) {
    const freq = f(1 / f(base ** f(i / dim)));
    const wavelen = f(f(2 * Math.PI) / freq);
    if (wavelen < highWavelen) out[j] = 1;
    else if (wavelen > lowWavelen) out[j] = factor;
    else {
      const smooth = f(f(f(oldContext / wavelen) - low) / (high - low));
      out[j] = f(1 / f(f(f(1 - smooth) / factor) + smooth));
    }
  }
  return out;
}

function llamaTensors(ctx: ModelContext, h: Hparams): PlannedTensor[] {
  const blocks = intHparam(h, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], 'config.json');
  const nHead = intHparam(h, ['n_heads', 'num_attention_heads'], 'config.json');
  const nKvHead = intHparam(h, ['n_kv_heads', 'num_key_value_heads'], 'config.json');
  const out: PlannedTensor[] = [];
  const rp = ropeParameters(h);
  const full = (typeof rp.full_attention === 'object' && rp.full_attention !== null ? rp.full_attention : rp) as Hparams;
  if (typeof full.rope_type === 'string' && full.rope_type.toLowerCase() === 'llama3') {
    const factors = llama3RopeFactors(h, full);
    out.push({ name: 'rope_freqs.weight', shape: [factors.length], sources: [], generated: factors, hfName: 'rope_freqs' });
  }
  const experts = new Map<number, Map<string, NamedSource>>();
  const nExperts = typeof h.num_local_experts === 'number' ? h.num_local_experts : 0;
  // SmolVLM's text model is a Llama under text_model.
  for (const src of modelTensors(ctx, (n) => {
    const kept = textFilter(n);
    return kept?.includes('text_model.') ? kept.replaceAll('text_model.', '') : kept;
  })) {
    const name = src.name;
    if (isDroppedTensor(name)) continue;
    const bid = blockId(name);
    if (name.includes('block_sparse_moe.experts')) {
      if (bid === undefined || nExperts <= 0) throw new ConvertError('ERR_CONVERT_TENSOR', `Expert tensor ${name} in a model without num_local_experts`, { tensor: name });
      let layer = experts.get(bid);
      if (!layer) experts.set(bid, (layer = new Map()));
      layer.set(name, src);
      if (layer.size >= nExperts * 3) {
        for (const wid of ['w1', 'w2', 'w3']) {
          const stack: NamedSource[] = [];
          for (let x = 0; x < nExperts; x++) {
            const ename = `model.layers.${bid}.block_sparse_moe.experts.${x}.${wid}.weight`;
            const e = layer.get(ename);
            if (!e) throw new ConvertError('ERR_CONVERT_TENSOR', `Layer ${bid} lacks ${ename}`, { tensor: ename });
            stack.push(e);
            layer.delete(ename);
          }
          const first = stack[0]!.source.tensor;
          for (const e of stack) {
            const t = e.source.tensor;
            if (t.dtype !== first.dtype || t.shape.join() !== first.shape.join()) {
              throw new ConvertError('ERR_CONVERT_TENSOR', `Expert ${t.name} is ${t.dtype} [${t.shape}] but ${first.name} is ${first.dtype} [${first.shape}]`, { tensor: t.name });
            }
          }
          out.push({ name: `blk.${bid}.${EXPERT_NAMES[wid]}.weight`, shape: [nExperts, ...first.shape], sources: stack.map((e) => e.source), hfName: first.name });
        }
      }
      continue;
    }
    const gguf = mapTensorName(LLAMA_NAMES, name, blocks);
    let permuteHeads: number | undefined;
    if (name.endsWith('q_proj.weight') || name.endsWith('q_proj.bias')) permuteHeads = nHead;
    else if (name.endsWith('k_proj.weight') || name.endsWith('k_proj.bias')) permuteHeads = nKvHead !== nHead ? nKvHead : nHead;
    out.push(plainTensor(gguf, src, permuteHeads === undefined ? {} : { permuteHeads }));
  }
  const left = [...experts.values()].flatMap((m) => [...m.keys()]);
  if (left.length) throw new ConvertError('ERR_CONVERT_TENSOR', `Unprocessed experts: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}`, { tensor: left[0] });
  return out;
}

function llamaVocab(ctx: ModelContext, h: Hparams, kv: KvBuilder): void {
  const config = readJsonObject(ctx.dir, 'tokenizer_config.json');
  if (typeof config?.add_prefix_space === 'boolean') kv.bool('tokenizer.ggml.add_space_prefix', config.add_prefix_space);
  const vocabSize = typeof h.vocab_size === 'number' ? h.vocab_size : undefined;
  try {
    setVocabSentencePiece(kv, ctx.dir, vocabSize);
  } catch (e) {
    if (!(e instanceof MissingTokenizerFile)) throw e;
    try {
      setVocabLlamaHf(kv, ctx.dir);
    } catch (e2) {
      if (!(e2 instanceof MissingTokenizerFile)) throw e2;
      setVocabGpt2(kv, ctx.dir, vocabSize, ctx.vocabOptions);
    }
  }
  // CodeLlama's infill tokens have no writer handler any more except eot.
  if ((h.vocab_size ?? 32000) === 32016) kv.uint32('tokenizer.ggml.eot_token_id', 32010);
  if ((h.vocab_size ?? 32000) === 49152) kv.bool('tokenizer.ggml.add_bos_token', false);
}

function llamaConverter(names: readonly string[], defaults: ConfigDefaults): ArchitectureConverter {
  return {
    names,
    arch: 'llama',
    plan(ctx) {
      const h = hparamsFor(ctx.config, defaults);
      const ctxH = { ...ctx, hparams: h };
      return {
        arch: 'llama',
        tensors: llamaTensors(ctxH, h),
        parameters(kv, ftype) {
          textModelParameters(kv, 'llama', h, ftype);
          kv.uint32('llama.vocab_size', intHparam(h, ['vocab_size'], 'config.json'));
          const ropeDim = h.head_dim ?? Math.floor((h.hidden_size as number) / (h.num_attention_heads as number));
          kv.uint32('llama.rope.dimension_count', ropeDim as number);
        },
        vocab: (kv) => llamaVocab(ctxH, h, kv),
      };
    },
  };
}

export const llamaConverters: ArchitectureConverter[] = [
  llamaConverter(['LlamaForCausalLM', 'LLaMAForCausalLM'], LLAMA_DEFAULTS),
  llamaConverter(['MistralForCausalLM'], MISTRAL_DEFAULTS),
  llamaConverter(['MixtralForCausalLM'], MIXTRAL_DEFAULTS),
];
