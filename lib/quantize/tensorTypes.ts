// Per-tensor type choice of llama_model_quantize (llama.cpp src/llama-quant.cpp, the build pinned in
// @node-llama-cpp/linux-x64): which tensors are quantized at all, the rules per tensor category and
// file type, the attn_v / ffn_down counters, the user's overrides and the fallback for row lengths
// a type's block does not divide. The order of evaluation is llama.cpp's: counters depend on it.
import { GgmlType, ggmlTypeInfo, ggmlTypeName } from '../gguf/ggmlTypes.js';
import type { GgufMetadataEntry, GgufTensorInfo } from '../gguf/types.js';
import { compareUtf8 } from '../utf8Order.js';
import { QuantizeModelError } from './errors.js';
import type { FileTypeInfo } from './fileTypes.js';

export interface TensorTypeOverride {
  /** Searched (not anchored) in the tensor name, like std::regex_search. */
  pattern: RegExp;
  type: GgmlType;
}

export interface TensorTypeOptions {
  /** Type of output.weight (and of a tied token_embd). */
  outputTensorType?: GgmlType;
  tokenEmbeddingType?: GgmlType;
  /** First matching pattern wins; replaces the rules for that tensor (the fallback still applies). */
  tensorTypes?: TensorTypeOverride[];
  /** Keep output.weight as it is (--leave-output-tensor). */
  leaveOutputTensor?: boolean;
  /** Every quantizable tensor gets the default type (--pure). */
  pure?: boolean;
  /** An importance matrix is used: it changes the Q4_0/Q5_0 and IQ4 ffn_down rules. */
  hasImatrix?: boolean;
}

export interface TensorTypeChoice {
  name: string;
  /** Input type. */
  sourceType: number;
  /** Output type (equal to sourceType when the tensor is copied). */
  type: number;
  /** The chosen type did not fit the row length and was replaced (tensor_type_fallback). */
  fallback: boolean;
}

/** Hyper-parameters the rules read, from the GGUF metadata as llama.cpp's load_hparams reads them. */
export interface QuantHparams {
  arch: string;
  nLayer: number;
  nExpert: number;
  nHead: number;
  nHeadKv: number;
}

function metaValue(metadata: GgufMetadataEntry[], key: string): unknown {
  return metadata.find((m) => m.key === key)?.value;
}

/** Layer 0's value of a per-layer hparam stored either as a scalar or as an array. */
function firstNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object' && 'items' in value) {
    const first = (value as { items: ArrayLike<unknown> }).items[0];
    return typeof first === 'number' ? first : typeof first === 'bigint' ? Number(first) : undefined;
  }
  return undefined;
}

export function quantHparams(metadata: GgufMetadataEntry[]): QuantHparams {
  const arch = metaValue(metadata, 'general.architecture');
  if (typeof arch !== 'string') throw new RangeError('general.architecture is missing: not a model GGUF');
  const nHead = firstNumber(metaValue(metadata, `${arch}.attention.head_count`)) ?? 0;
  return {
    arch,
    nLayer: firstNumber(metaValue(metadata, `${arch}.block_count`)) ?? 0,
    nExpert: firstNumber(metaValue(metadata, `${arch}.expert_count`)) ?? 0,
    nHead,
    nHeadKv: firstNumber(metaValue(metadata, `${arch}.attention.head_count_kv`)) ?? nHead,
  };
}

/** sscanf(name, "blk.%d.", &layer): the layer number, or -1. */
function layerOf(name: string): number {
  const m = /^blk\.\s*([+-]?\d+)/.exec(name);
  return m ? Number.parseInt(m[1] as string, 10) : -1;
}

/**
 * llama_model_loader's weights_map order: by layer (tensors outside blocks first), then by name
 * byte order. llama_model_quantize writes tensors, and counts layers, in this order.
 */
export function quantizeOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  const keyed = tensors.map((t) => ({ t, layer: layerOf(t.name) }));
  keyed.sort((a, b) => (a.layer !== b.layer ? a.layer - b.layer : compareUtf8(a.t.name, b.t.name)));
  return keyed.map((k) => k.t);
}

const NOT_QUANTIZED_PARTS = [
  '_norm.weight', 'ffn_gate_inp.weight', 'ffn_gate_tid2eid.weight', 'altup', 'laurel', 'per_layer_model_proj',
  'ssm_conv1d', 'shortconv.conv.weight', 'indexer.k_proj.weight', 'indexer.q_proj.weight',
  'time_mix_first.weight', 'time_mix_w0.weight', 'time_mix_w1.weight', 'time_mix_w2.weight', 'time_mix_v0.weight',
  'time_mix_v1.weight', 'time_mix_v2.weight', 'time_mix_a0.weight', 'time_mix_a1.weight', 'time_mix_a2.weight',
  'time_mix_g1.weight', 'time_mix_g2.weight', 'time_mix_decay_w1.weight', 'time_mix_decay_w2.weight',
  'time_mix_lerp_fused.weight', 'attn_rel_b.weight', '.position_embd', 'sam.pos_embd', 'sam.neck.', 'sam.net_',
  '.rel_pos', '.patch_embd', '.patch_merger', 'a.rvq.codebook', 'mm.a.code_embd',
];

/** ggml_n_dims: trailing 1-dims do not count. */
function nDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if ((shape[i] as number) > 1) return i + 1;
  return 1;
}

/** tensor_allows_quantization. */
export function tensorAllowsQuantization(name: string, shape: readonly number[], leaveOutputTensor = false): boolean {
  if (nDims(shape) < 2) return false;
  if (!name.endsWith('weight')) return false;
  if (leaveOutputTensor && name === 'output.weight') return false;
  if (name === 'position_embd.weight' || name === 'token_types.weight') return false;
  return !NOT_QUANTIZED_PARTS.some((part) => name.includes(part));
}

type Category = 'token_embd' | 'attn_q' | 'attn_v' | 'attn_k' | 'attn_qkv' | 'attn_kv_b' | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'output' | 'other';

function categoryOf(name: string): Category {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight') return 'token_embd';
  const parts: [string, Category][] = [
    ['attn_qkv.weight', 'attn_qkv'], ['attn_kv_b.weight', 'attn_kv_b'], ['attn_v.weight', 'attn_v'], ['attn_k.weight', 'attn_k'],
    ['attn_q.weight', 'attn_q'], ['attn_output.weight', 'attn_output'], ['ffn_up', 'ffn_up'], ['ffn_gate', 'ffn_gate'], ['ffn_down', 'ffn_down'],
  ];
  for (const [part, cat] of parts) if (name.includes(part)) return cat;
  return 'other';
}

const isAttnV = (c: Category) => c === 'attn_v' || c === 'attn_qkv' || c === 'attn_kv_b';

const useMoreBits = (i: number, n: number) => i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

const isQuantizedType = (t: number) => (ggmlTypeInfo(t)?.blockSize ?? 1) > 1;

interface State {
  h: QuantHparams;
  ftype: FileTypeInfo;
  hasImatrix: boolean;
  tied: boolean;
  nAttentionWv: number;
  iAttentionWv: number;
  iFfnDown: number;
  iFfnGate: number;
  iFfnUp: number;
}

function layerInfo(s: State, counter: number, name: string): number {
  if (s.h.nExpert <= 1) return counter;
  const layer = layerOf(name);
  if (layer < 0 || layer >= s.h.nLayer) {
    throw new QuantizeModelError('ERR_QUANTIZE_INPUT', `Bad layer ${layer} for expert tensor ${name}: must be in [0, ${s.h.nLayer})`, { tensor: name });
  }
  return layer;
}

/** llama_tensor_get_type_impl for the file types gguf-forge writes. */
function ruleType(s: State, type: number, name: string, ne0: number, cat: Category, outputTensorType: number | undefined, tokenEmbeddingType: number | undefined): number {
  const f = s.ftype.name;
  const falcon = s.h.arch === 'falcon';
  const nGqa = s.h.nHeadKv === 0 ? 0 : Math.trunc(s.h.nHead / s.h.nHeadKv);
  const is70B = s.h.arch === 'llama' && s.h.nLayer === 80 && s.h.nHead !== s.h.nHeadKv;
  if (cat === 'output' || (s.tied && cat === 'token_embd')) {
    if (outputTensorType !== undefined) return outputTensorType;
    const block = ggmlTypeInfo(type)?.blockSize ?? 1;
    if (falcon || ne0 % block !== 0) return GgmlType.Q8_0;
    return type !== GgmlType.Q8_0 ? GgmlType.Q6_K : type;
  }
  if (cat === 'token_embd') return tokenEmbeddingType ?? type;
  if (isAttnV(cat)) {
    if (f === 'Q2_K') type = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
    else if (f === 'Q3_K_M') type = s.iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
    else if (f === 'Q3_K_L') type = GgmlType.Q5_K;
    else if ((f === 'IQ4_NL' || f === 'IQ4_XS') && nGqa >= 4) type = GgmlType.Q5_K;
    else if ((f === 'Q4_K_M' || f === 'Q5_K_M') && useMoreBits(s.iAttentionWv, s.nAttentionWv)) type = GgmlType.Q6_K;
    else if (f === 'Q4_K_S' && s.iAttentionWv < 4) type = GgmlType.Q5_K;
    if (is70B && (type === GgmlType.Q3_K || type === GgmlType.Q4_K)) type = GgmlType.Q5_K;
    if (s.h.nExpert === 8) type = GgmlType.Q8_0;
    s.iAttentionWv++;
    return type;
  }
  if (cat === 'attn_k') return s.h.nExpert === 8 ? GgmlType.Q8_0 : type;
  if (cat === 'ffn_down') {
    const i = layerInfo(s, s.iFfnDown, name);
    const n = s.h.nLayer;
    const eighth = Math.trunc(n / 8);
    if (f === 'Q2_K') type = GgmlType.Q3_K;
    else if (f === 'Q3_K_M') type = i < Math.trunc(n / 16) ? GgmlType.Q5_K : !falcon || useMoreBits(i, n) ? GgmlType.Q4_K : GgmlType.Q3_K;
    else if (f === 'Q3_K_L') type = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
    else if (f === 'Q4_K_M') {
      if (falcon) type = i < Math.trunc(n / 16) ? GgmlType.Q6_K : useMoreBits(i, n) ? GgmlType.Q5_K : GgmlType.Q4_K;
      else if (useMoreBits(i, n)) type = GgmlType.Q6_K;
    } else if (i < eighth && (f === 'IQ4_NL' || f === 'IQ4_XS') && !s.hasImatrix) type = GgmlType.Q5_K;
    else if (f === 'Q5_K_M' && useMoreBits(i, n)) type = GgmlType.Q6_K;
    else if (f === 'Q4_K_S' && !falcon && i < eighth) type = GgmlType.Q5_K;
    else if ((f === 'Q4_0' || f === 'Q5_0') && s.hasImatrix && i < eighth) type = f === 'Q4_0' ? GgmlType.Q4_1 : GgmlType.Q5_1;
    s.iFfnDown++;
    return type;
  }
  if (cat === 'attn_output') {
    if (!falcon) {
      if (s.h.nExpert === 8) {
        if (f === 'Q2_K' || f === 'Q3_K_S' || f === 'Q3_K_M' || f === 'IQ4_NL' || f === 'Q4_K_S' || f === 'Q4_K_M' || f === 'IQ4_XS') type = GgmlType.Q5_K;
      } else if (f === 'Q2_K') type = GgmlType.Q3_K;
      else if (f === 'Q3_K_M') type = GgmlType.Q4_K;
      else if (f === 'Q3_K_L') type = GgmlType.Q5_K;
    } else if (f === 'Q3_K_L') type = GgmlType.Q4_K;
    return type;
  }
  if (cat === 'ffn_gate' || cat === 'ffn_up') {
    // Only IQ3_XS changes these; the counters (and the layer check for MoE) still run.
    if (cat === 'ffn_gate') {
      layerInfo(s, s.iFfnGate, name);
      s.iFfnGate++;
    } else {
      layerInfo(s, s.iFfnUp, name);
      s.iFfnUp++;
    }
  }
  return type;
}

/** tensor_type_fallback: a type whose block does not divide the row length. */
function fallbackType(type: number, ne0: number): { type: number; fallback: boolean } {
  const block = ggmlTypeInfo(type)?.blockSize ?? 1;
  if (ne0 % block === 0) return { type, fallback: false };
  let next: number;
  switch (type) {
    case GgmlType.IQ4_XS:
      next = GgmlType.IQ4_NL;
      break;
    case GgmlType.Q2_K:
    case GgmlType.Q3_K:
      next = GgmlType.Q4_0;
      break;
    case GgmlType.Q4_K:
      next = GgmlType.Q5_0;
      break;
    case GgmlType.Q5_K:
      next = GgmlType.Q5_1;
      break;
    case GgmlType.Q6_K:
      next = GgmlType.Q8_0;
      break;
    default:
      // This build has no fallback table entry for the 32-block types: they go straight to F16.
      next = GgmlType.F16;
  }
  if (ne0 % (ggmlTypeInfo(next)?.blockSize ?? 1) !== 0) next = GgmlType.F16;
  return { type: next, fallback: true };
}

/**
 * The type of every tensor, in llama_model_quantize's tensor order (quantizeOrder), as
 * llama_tensor_get_type chooses it for `fileType`.
 */
export function chooseTensorTypes(
  metadata: GgufMetadataEntry[],
  tensors: readonly Pick<GgufTensorInfo, 'name' | 'type' | 'shape'>[],
  fileType: FileTypeInfo,
  options: TensorTypeOptions = {},
): TensorTypeChoice[] {
  const ordered = quantizeOrder(tensors);
  const state: State = {
    h: quantHparams(metadata),
    ftype: fileType,
    hasImatrix: options.hasImatrix ?? false,
    tied: !ordered.some((t) => t.name === 'output.weight'),
    nAttentionWv: ordered.filter((t) => isAttnV(categoryOf(t.name))).length,
    iAttentionWv: 0,
    iFfnDown: 0,
    iFfnGate: 0,
    iFfnUp: 0,
  };
  return ordered.map((t) => {
    const keep = { name: t.name, sourceType: t.type, type: t.type, fallback: false };
    if (!tensorAllowsQuantization(t.name, t.shape, options.leaveOutputTensor)) return keep;
    const cat = categoryOf(t.name);
    if (options.tokenEmbeddingType !== undefined && cat === 'token_embd') return { ...keep, type: options.tokenEmbeddingType };
    if (options.outputTensorType !== undefined && cat === 'output') return { ...keep, type: options.outputTensorType };
    let type: number = fileType.defaultType;
    if (!isQuantizedType(type)) return { ...keep, type };
    const manual = options.tensorTypes?.find((o) => o.pattern.test(t.name));
    if (manual) type = manual.type;
    else if (!options.pure) type = ruleType(state, type, t.name, t.shape[0] ?? 1, cat, options.outputTensorType, options.tokenEmbeddingType);
    const fb = fallbackType(type, t.shape[0] ?? 1);
    return { ...keep, type: fb.type, fallback: fb.fallback };
  });
}
