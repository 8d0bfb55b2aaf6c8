// What every architecture shares (convert_hf_to_gguf.py ModelBase/TextModel): the tensor list in
// the converter's order with its filters and FP8 dequantization, the HF → GGUF name maps, block
// ids, the tensors kept in F32, and TextModel.set_gguf_parameters.
import type { CheckpointTensor, SafetensorsCheckpoint } from '../safetensors/checkpoint.js';
import { ConvertError } from './errors.js';
import { findHparam, intHparam, optionalNumber, ropeParameters, type Hparams } from './hparams.js';
import type { KvBuilder } from './kv.js';
import type { VocabOptions } from './tokenizer/vocab.js';

export interface TensorSource {
  tensor: CheckpointTensor;
  /** FP8 weights: their scale_inv tensor and quantization_config.weight_block_size. */
  scale?: { tensor: CheckpointTensor; blockSize?: [number, number] };
}

export interface PlannedTensor {
  /** GGUF name. */
  name: string;
  /** Row-major (numpy/PyTorch) shape of the data written. */
  shape: number[];
  /** One source, or several stacked on a new leading axis (MoE experts). */
  sources: TensorSource[];
  /** Tensors the converter computes (rope_freqs, rope factors). */
  generated?: Float32Array;
  /** Llama's Q/K un-permutation with this many heads. */
  permuteHeads?: number;
  /** Gemma's RMSNorm weights are stored as w - 1. */
  addOne?: boolean;
  /** Only this many leading rows of the source are kept (Gemma 3 drops rows past the vocabulary). */
  keepRows?: number;
  /** The checkpoint name it comes from (the first, for stacks). */
  hfName: string;
}

export interface ConversionPlan {
  arch: string;
  tensors: PlannedTensor[];
  /** KVs set while tensors are prepared (before general.type), e.g. Phi-3's rope attn_factor. */
  earlyKv?: (kv: KvBuilder) => void;
  /** set_gguf_parameters; `ftype` is the llama_ftype written as general.file_type. */
  parameters: (kv: KvBuilder, ftype: number) => void;
  /** set_vocab. */
  vocab: (kv: KvBuilder) => void;
}

export interface ModelContext {
  dir: string;
  /** config.json as written. */
  config: Hparams;
  /** config.json over the config class defaults. */
  hparams: Hparams;
  checkpoint: SafetensorsCheckpoint;
  vocabOptions: VocabOptions;
}

export interface ArchitectureConverter {
  /** config.json architectures[0] values handled. */
  names: readonly string[];
  /** general.architecture. */
  arch: string;
  plan(ctx: ModelContext): ConversionPlan;
}

export const CONFIG_FILE = 'config.json';

/** TextModel.filter_tensors (+ ModelBase's): multimodal tensors dropped, a few renames. */
export function textFilter(name: string): string | undefined {
  const multimodalPrefixes = ['mlp', 'vit.', 'vpm.', 'siglip2.', 'conformer.', 'merger.', 'resampler.', 'sound_encoder.', 'sound_projection.', 'speech_embeddings.'];
  const multimodalParts = [
    'visual.', 'vision.', 'audio.', 'talker.', 'vision_', 'audio_', 'sam_model', 'token2wav.', 'code2wav.', 'projector.', 'pre_mm_projector_norm',
    'image_newline', 'view_seperator', 'patch_embed', 'patch_embedding', 'patch_merger.', 'model.connector.',
  ];
  if (multimodalPrefixes.some((p) => name.startsWith(p)) || multimodalParts.some((p) => name.includes(p))) return undefined;
  let n = name;
  if (n.endsWith('e_score_correction_bias')) n = n.replace('e_score_correction_bias', 'e_score_correction.bias');
  if (n.includes('language_model.')) n = n.replaceAll('language_model.', '');
  return n;
}

export interface NamedSource {
  name: string;
  source: TensorSource;
}

const SUPPORTED_DTYPES = new Set(['F32', 'F16', 'BF16', 'F8_E4M3']);

/**
 * The checkpoint's tensors in the converter's order (shards by file name, names sorted), renamed
 * by `filter` (undefined drops one), with FP8 weights paired with their scale_inv and the scale
 * and activation-scale tensors removed, as dequant_model does for quant_method "fp8".
 */
export function modelTensors(ctx: ModelContext, filter: (name: string) => string | undefined = textFilter): NamedSource[] {
  const quant = ctx.hparams.quantization_config as Hparams | undefined | null;
  const method = quant?.quant_method;
  if (method !== undefined && method !== null && method !== 'fp8') {
    throw new ConvertError('ERR_CONVERT_TENSOR', `Quant method ${JSON.stringify(method)} is not supported: only unquantized and fp8 checkpoints are`, { file: ctx.dir });
  }
  const block = quant?.weight_block_size;
  const blockSize = Array.isArray(block) && block.length === 2 && block.every((x) => Number.isSafeInteger(x) && x > 0) ? (block as [number, number]) : undefined;
  const out: NamedSource[] = [];
  const byName = new Map<string, NamedSource>();
  const scales: CheckpointTensor[] = [];
  for (const tensor of ctx.checkpoint.tensors) {
    if (tensor.name.endsWith('_scale_inv')) {
      scales.push(tensor);
      continue;
    }
    if (tensor.name.endsWith('.activation_scale') || tensor.name.endsWith('_activation_scale')) continue;
    const name = filter(tensor.name);
    if (name === undefined) continue;
    const entry = { name, source: { tensor } };
    out.push(entry);
    byName.set(tensor.name, entry);
  }
  for (const scale of scales) {
    const weight = byName.get(scale.name.slice(0, -'_scale_inv'.length));
    if (!weight) continue;
    if (weight.source.tensor.dtype !== 'F8_E4M3') throw new ConvertError('ERR_CONVERT_TENSOR', `${scale.name} scales a ${weight.source.tensor.dtype} tensor: only F8_E4M3 weights are dequantized`, { tensor: scale.name });
    weight.source.scale = { tensor: scale, blockSize };
  }
  for (const { name, source } of out) {
    const t = source.tensor;
    if (!SUPPORTED_DTYPES.has(t.dtype)) throw new ConvertError('ERR_CONVERT_TENSOR', `Tensor ${t.name} is ${t.dtype}: only F32, F16, BF16 and F8_E4M3 (with scale_inv) are converted`, { tensor: t.name, file: t.file.path });
    if (t.dtype === 'F8_E4M3' && !source.scale) throw new ConvertError('ERR_CONVERT_TENSOR', `F8_E4M3 tensor ${t.name} has no ${t.name}_scale_inv`, { tensor: name, file: t.file.path });
  }
  return out;
}

/** The first all-digit part of a tensor name: the block id. */
export function blockId(name: string): number | undefined {
  for (const part of name.split('.')) if (/^\p{Nd}+$/u.test(part)) return Number(part);
  return undefined;
}

/** Names dropped by prepare_tensors. */
export function isDroppedTensor(name: string): boolean {
  return name.endsWith('.attention.masked_bias') || name.endsWith('.attention.bias') || name.endsWith('.rotary_emb.inv_freq');
}

export interface NameMap {
  /** Non-block names without their .weight/.bias suffix. */
  global: Record<string, string>;
  /** Names under model.layers.N. without the suffix, to the GGUF name under blk.N. */
  block: Record<string, string>;
}

export const COMMON_GLOBAL: Record<string, string> = {
  'model.embed_tokens': 'token_embd',
  lm_head: 'output',
  'model.norm': 'output_norm',
};

export const COMMON_BLOCK: Record<string, string> = {
  input_layernorm: 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
  post_attention_layernorm: 'ffn_norm',
};

/** map_tensor_name: the GGUF name of an HF name (tried with .weight and .bias), or ERR_CONVERT_TENSOR. */
export function mapTensorName(map: NameMap, name: string, blockCount: number): string {
  const m = /^(.*)\.(weight|bias)$/.exec(name);
  if (m) {
    const [, base, suffix] = m as unknown as [string, string, string];
    const g = map.global[base];
    if (g) return `${g}.${suffix}`;
    const b = /^model\.layers\.(\d+)\.(.+)$/.exec(base);
    if (b) {
      const bid = Number(b[1]);
      const sub = map.block[b[2] as string];
      if (sub && bid < blockCount) return `blk.${bid}.${sub}.${suffix}`;
    }
  }
  throw new ConvertError('ERR_CONVERT_TENSOR', `Can not map tensor ${JSON.stringify(name)}`, { tensor: name });
}

/** The MODEL_TENSOR kinds prepare_tensors keeps in F32 whatever the output type (besides 1-D and *_norm). */
const F32_KINDS = /^(blk\.\d+\.(ffn_gate_inp|ffn_gate_inp_shexp|ssm_conv1d|shortconv\.conv)\.weight|position_embd\.weight|token_types\.weight)$/;

/** Whether prepare_tensors writes this tensor as F32 for every output type. */
export function forcedF32(name: string, shape: readonly number[]): boolean {
  return shape.length <= 1 || name.endsWith('_norm.weight') || F32_KINDS.test(name) || !(name.endsWith('.weight') || name.endsWith('.lora_a') || name.endsWith('.lora_b'));
}

/** Shape of the checkpoint tensor, checked against what the architecture expects. */
export function expectShape(t: CheckpointTensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ConvertError('ERR_CONVERT_TENSOR', `Tensor ${t.name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, { tensor: t.name, file: t.file.path });
  }
}

export function plainTensor(name: string, src: NamedSource, extra: Partial<PlannedTensor> = {}): PlannedTensor {
  return { name, shape: [...src.source.tensor.shape], sources: [src.source], hfName: src.source.tensor.name, ...extra };
}

/** TextModel.set_gguf_parameters. */
export function textModelParameters(kv: KvBuilder, arch: string, h: Hparams, ftype: number): void {
  const file = 'config.json';
  const key = (k: string) => `${arch}.${k}`;
  kv.uint32(key('block_count'), intHparam(h, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], file));
  const u32 = (k: string, keys: string[]) => {
    const v = findHparam(h, keys);
    if (v !== undefined && v !== null) kv.uint32(key(k), intHparam(h, keys, file));
  };
  u32('context_length', ['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length']);
  u32('embedding_length', ['hidden_size', 'n_embd', 'dim']);
  u32('feed_forward_length', ['intermediate_size', 'n_inner', 'hidden_dim']);
  u32('attention.head_count', ['num_attention_heads', 'n_head', 'n_heads']);
  u32('attention.head_count_kv', ['num_key_value_heads', 'n_kv_heads']);
  if (h.is_causal === false) kv.bool(key('attention.causal'), false);
  const rp = ropeParameters(h);
  const full = (typeof rp.full_attention === 'object' && rp.full_attention !== null ? rp.full_attention : rp) as Hparams;
  const ropeType = full.rope_type;
  if (typeof ropeType === 'string') {
    const factor = full.factor;
    if (ropeType === 'linear' && typeof factor === 'number') {
      kv.string(key('rope.scaling.type'), 'linear');
      kv.float32(key('rope.scaling.factor'), factor);
    } else if (ropeType === 'yarn' && typeof factor === 'number') {
      kv.string(key('rope.scaling.type'), 'yarn');
      kv.float32(key('rope.scaling.factor'), factor);
      const orig = full.original_max_position_embeddings;
      if (typeof orig !== 'number') throw new ConvertError('ERR_CONVERT_CONFIG', 'config.json: yarn rope scaling needs original_max_position_embeddings', { file });
      kv.uint32(key('rope.scaling.original_context_length'), orig);
      const f = (k: string, ...names: string[]) => {
        const v = names.map((n) => full[n]).find((x) => x !== undefined && x !== null);
        if (typeof v === 'number') kv.float32(key(k), v);
      };
      f('rope.scaling.yarn_ext_factor', 'extrapolation_factor');
      f('rope.scaling.yarn_attn_factor', 'attention_factor', 'attn_factor');
      f('rope.scaling.yarn_beta_fast', 'beta_fast');
      f('rope.scaling.yarn_beta_slow', 'beta_slow');
    } else if (ropeType === 'su' || ropeType === 'longrope') {
      kv.string(key('rope.scaling.type'), 'longrope');
    }
  }
  const mrope = rp.mrope_section;
  if (Array.isArray(mrope)) {
    const sections = [...(mrope as number[])];
    while (sections.length < 4) sections.push(0);
    kv.int32Array(key('rope.dimension_sections'), sections.slice(0, 4));
  }
  if (typeof full.rope_theta === 'number') kv.float32(key('rope.freq_base'), full.rope_theta);
  const swa = (rp.sliding_attention as Hparams | undefined)?.rope_theta;
  if (typeof swa === 'number') kv.float32(key('rope.freq_base_swa'), swa);
  const rms = optionalNumber(h, ['rms_norm_eps', 'norm_eps'], file);
  if (rms !== undefined) kv.float32(key('attention.layer_norm_rms_epsilon'), rms);
  const eps = optionalNumber(h, ['layer_norm_eps', 'layer_norm_epsilon', 'norm_epsilon'], file);
  if (eps !== undefined) kv.float32(key('attention.layer_norm_epsilon'), eps);
  u32('expert_count', ['num_local_experts', 'num_experts']);
  u32('expert_used_count', ['num_experts_per_tok', 'num_experts_per_token', 'top_k_experts']);
  if (h.head_dim !== undefined && h.head_dim !== null) {
    kv.uint32(key('attention.key_length'), intHparam(h, ['head_dim'], file));
    kv.uint32(key('attention.value_length'), intHparam(h, ['head_dim'], file));
  }
  kv.uint32('general.file_type', ftype);
}
