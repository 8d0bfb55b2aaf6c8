// GemmaForCausalLM, Gemma2ForCausalLM and Gemma3ForCausalLM (+ the text part of
// Gemma3ForConditionalGeneration), as convert_hf_to_gguf's GemmaModel/Gemma2Model/Gemma3Model:
// RMSNorm weights stored as w - 1 get their 1 back, Gemma 2's soft-capping and sliding window,
// Gemma 3's local rope base and vocabulary-trimmed embeddings; no Q/K permutation (NEOX rope).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvertError } from './errors.js';
import { findHparam, hparamsFor, intHparam, numberHparam, ropeParameters, type ConfigDefaults, type Hparams } from './hparams.js';
import type { KvBuilder } from './kv.js';
import {
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
  type PlannedTensor,
} from './model.js';
import { readJsonObject } from './tokenizer/hfFiles.js';
import { createVocabSentencePiece, setVocabGpt2, setVocabSentencePiece } from './tokenizer/vocab.js';

const GEMMA_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 256000, hidden_size: 3072, intermediate_size: 24576, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 16, head_dim: 256,
    max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 10000,
  },
};
const GEMMA2_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 256000, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256,
    max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 10000, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0, sliding_window: 4096,
    query_pre_attn_scalar: 256,
  },
};
const GEMMA3_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 262208, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256,
    max_position_embeddings: 131072, rms_norm_eps: 1e-6, rope_theta: 1_000_000, rope_local_base_freq: 10000, sliding_window: 4096,
    final_logit_softcapping: null, attn_logit_softcapping: null, query_pre_attn_scalar: 256,
  },
};

export const GEMMA_NAMES: NameMap = { global: COMMON_GLOBAL, block: COMMON_BLOCK };
export const GEMMA2_NAMES: NameMap = {
  global: COMMON_GLOBAL,
  block: {
    ...COMMON_BLOCK,
    post_attention_layernorm: 'post_attention_norm',
    pre_feedforward_layernorm: 'ffn_norm',
    post_feedforward_layernorm: 'post_ffw_norm',
    'self_attn.q_norm': 'attn_q_norm',
    'self_attn.k_norm': 'attn_k_norm',
  },
};

function blocks(h: Hparams): number {
  return intHparam(h, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], 'config.json');
}

function gemmaTensors(ctx: ModelContext, h: Hparams, names: NameMap, opts: { dropLmHead: boolean; vocabRows?: () => number }): PlannedTensor[] {
  const out: PlannedTensor[] = [];
  const n = blocks(h);
  for (const src of modelTensors(ctx, (name) => (opts.dropLmHead && name === 'lm_head.weight' ? undefined : textFilter(name)))) {
    if (isDroppedTensor(src.name)) continue;
    const gguf = mapTensorName(names, src.name, n);
    const extra: Partial<PlannedTensor> = {};
    // Gemma's RMSNorm multiplies by (1 + w): the converter stores 1 + w.
    if (src.name.endsWith('norm.weight')) extra.addOne = true;
    if (opts.vocabRows && src.name.includes('embed_tokens.weight')) {
      const rows = opts.vocabRows();
      const have = src.source.tensor.shape[0] as number;
      if (rows < have) {
        extra.keepRows = rows;
        out.push(plainTensor(gguf, src, { ...extra, shape: [rows, ...src.source.tensor.shape.slice(1)] }));
        continue;
      }
    }
    out.push(plainTensor(gguf, src, extra));
  }
  return out;
}

/** GemmaModel/Gemma2Model.set_gguf_parameters (they do not call TextModel's). */
function gemmaParameters(kv: KvBuilder, arch: string, h: Hparams, ftype: number): void {
  const f = 'config.json';
  kv.uint32(`${arch}.context_length`, intHparam(h, ['max_position_embeddings'], f));
  kv.uint32(`${arch}.embedding_length`, intHparam(h, ['hidden_size'], f));
  kv.uint32(`${arch}.block_count`, blocks(h));
  kv.uint32(`${arch}.feed_forward_length`, intHparam(h, ['intermediate_size'], f));
  kv.uint32(`${arch}.attention.head_count`, intHparam(h, ['num_attention_heads'], f));
  kv.uint32(`${arch}.attention.head_count_kv`, intHparam(h, h.num_key_value_heads !== undefined ? ['num_key_value_heads'] : ['num_attention_heads'], f));
  kv.float32(`${arch}.attention.layer_norm_rms_epsilon`, numberHparam(h, ['rms_norm_eps'], f));
  kv.uint32(`${arch}.attention.key_length`, intHparam(h, ['head_dim'], f));
  kv.uint32(`${arch}.attention.value_length`, intHparam(h, ['head_dim'], f));
  kv.uint32('general.file_type', ftype);
}

function vocabSize(h: Hparams): number | undefined {
  const v = findHparam(h, ['vocab_size_per_layer_input', 'vocab_size']);
  return typeof v === 'number' && v > 0 ? v : undefined;
}

const gemma: ArchitectureConverter = {
  names: ['GemmaForCausalLM'],
  arch: 'gemma',
  plan(ctx) {
    const h = hparamsFor(ctx.config, GEMMA_DEFAULTS);
    const c = { ...ctx, hparams: h };
    return {
      arch: 'gemma',
      tensors: gemmaTensors(c, h, GEMMA_NAMES, { dropLmHead: true }),
      parameters: (kv, ftype) => gemmaParameters(kv, 'gemma', h, ftype),
      vocab(kv) {
        setVocabSentencePiece(kv, ctx.dir, vocabSize(h));
        // The CodeGemma infill ids (prefix 67, suffix 69, middle 68, fsep 70) have no writer handler
        // in gguf-py any more; only eot is written.
        if (!kv.has('tokenizer.ggml.eot_token_id')) kv.uint32('tokenizer.ggml.eot_token_id', 107);
        kv.bool('tokenizer.ggml.add_space_prefix', false);
      },
    };
  },
};

const gemma2: ArchitectureConverter = {
  names: ['Gemma2ForCausalLM'],
  arch: 'gemma2',
  plan(ctx) {
    const h = hparamsFor(ctx.config, GEMMA2_DEFAULTS);
    const c = { ...ctx, hparams: h };
    return {
      arch: 'gemma2',
      tensors: gemmaTensors(c, h, GEMMA2_NAMES, { dropLmHead: true }),
      parameters(kv, ftype) {
        gemmaParameters(kv, 'gemma2', h, ftype);
        kv.float32('gemma2.attn_logit_softcapping', numberHparam(h, ['attn_logit_softcapping'], 'config.json'));
        kv.float32('gemma2.final_logit_softcapping', numberHparam(h, ['final_logit_softcapping'], 'config.json'));
        kv.uint32('gemma2.attention.sliding_window', intHparam(h, ['sliding_window'], 'config.json'));
      },
      vocab(kv) {
        setVocabSentencePiece(kv, ctx.dir, vocabSize(h));
        kv.bool('tokenizer.ggml.add_space_prefix', false);
      },
    };
  },
};

const gemma3: ArchitectureConverter = {
  names: ['Gemma3ForCausalLM', 'Gemma3ForConditionalGeneration'],
  arch: 'gemma3',
  plan(ctx) {
    const h = hparamsFor(ctx.config, GEMMA3_DEFAULTS);
    const c = { ...ctx, hparams: h };
    const hasSpm = existsSync(join(ctx.dir, 'tokenizer.model'));
    const vocabRows = () => {
      if (hasSpm) return createVocabSentencePiece(ctx.dir, vocabSize(h)).tokens.length;
      const json = readJsonObject(ctx.dir, 'tokenizer.json');
      const model = json?.model as Record<string, unknown> | undefined;
      if (!json || typeof model?.vocab !== 'object' || model.vocab === null) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'Gemma 3 needs tokenizer.model or tokenizer.json', { file: ctx.dir });
      return Object.keys(model.vocab).length + (Array.isArray(json.added_tokens) ? json.added_tokens.length : 0);
    };
    return {
      arch: 'gemma3',
      tensors: gemmaTensors(c, h, GEMMA2_NAMES, { dropLmHead: false, vocabRows }),
      parameters(kv, ftype) {
        textModelParameters(kv, 'gemma3', h, ftype);
        const num = (k: string, d: number) => (typeof h[k] === 'number' ? (h[k] as number) : d);
        kv.uint32('gemma3.context_length', num('max_position_embeddings', 131072));
        kv.uint32('gemma3.attention.head_count', num('num_attention_heads', 8));
        kv.float32('gemma3.attention.layer_norm_rms_epsilon', num('rms_norm_eps', 1e-6));
        kv.uint32('gemma3.attention.key_length', num('head_dim', 256));
        kv.uint32('gemma3.attention.value_length', num('head_dim', 256));
        const rp = ropeParameters(h);
        const full = (typeof rp.full_attention === 'object' && rp.full_attention !== null ? rp.full_attention : rp) as Hparams;
        kv.float32('gemma3.rope.freq_base', typeof full.rope_theta === 'number' ? full.rope_theta : 1_000_000);
        if (h.attn_logit_softcapping !== undefined && h.attn_logit_softcapping !== null) {
          throw new ConvertError('ERR_CONVERT_CONFIG', 'Gemma 3 has no attn_logit_softcapping; this config sets one', { file: 'config.json' });
        }
        if (typeof h.final_logit_softcapping === 'number' && h.final_logit_softcapping !== 0) kv.float32('gemma3.final_logit_softcapping', h.final_logit_softcapping);
        if (h.sliding_window_pattern !== 1) kv.uint32('gemma3.attention.sliding_window', intHparam(h, ['sliding_window'], 'config.json'));
        kv.uint32('gemma3.attention.head_count_kv', num('num_key_value_heads', 4));
      },
      vocab(kv) {
        if (hasSpm) {
          setVocabSentencePiece(kv, ctx.dir, vocabSize(h));
          kv.bool('tokenizer.ggml.add_space_prefix', false);
        } else setVocabGpt2(kv, ctx.dir, typeof h.vocab_size === 'number' ? h.vocab_size : undefined, ctx.vocabOptions);
      },
    };
  },
};

export const gemmaConverters: ArchitectureConverter[] = [gemma, gemma2, gemma3];
