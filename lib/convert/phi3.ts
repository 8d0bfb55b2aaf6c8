// Phi3ForCausalLM as convert_hf_to_gguf's Phi3MiniModel: fused attn_qkv and gate_up (ffn_up)
// tensors kept fused, LongRoPE's long/short factors as rope_factors_{long,short}.weight with the
// attention factor, NEOX rope (no Q/K permutation), and Phi-3's own vocabulary rules.
import { ConvertError } from './errors.js';
import { hparamsFor, intHparam, numberHparam, ropeParameters, type ConfigDefaults, type Hparams } from './hparams.js';
import {
  COMMON_BLOCK,
  COMMON_GLOBAL,
  isDroppedTensor,
  mapTensorName,
  modelTensors,
  plainTensor,
  type ArchitectureConverter,
  type NameMap,
  type PlannedTensor,
} from './model.js';
import { setVocabPhi3 } from './tokenizer/vocab.js';

const PHI3_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 32064, hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: null,
    max_position_embeddings: 4096, original_max_position_embeddings: 4096, rms_norm_eps: 1e-5, rope_theta: 10000, partial_rotary_factor: 1.0,
    sliding_window: null,
  },
};

export const PHI3_NAMES: NameMap = { global: COMMON_GLOBAL, block: { ...COMMON_BLOCK, 'self_attn.qkv_proj': 'attn_qkv', 'mlp.gate_up_proj': 'ffn_up' } };

interface RopeSetup {
  ropeDims: number;
  origCtx: number;
  maxPos: number;
  theta: number;
  rp: Hparams;
}

function ropeSetup(h: Hparams): RopeSetup {
  const f = 'config.json';
  const nEmbd = intHparam(h, ['hidden_size', 'n_embd'], f);
  const nHead = intHparam(h, ['num_attention_heads', 'n_head'], f);
  const maxPos = intHparam(h, ['n_positions', 'max_position_embeddings'], f);
  const rp = ropeParameters(h);
  // transformers puts original_max_position_embeddings into rope_parameters; older configs keep it at the top.
  const origCtx = typeof rp.original_max_position_embeddings === 'number' ? rp.original_max_position_embeddings : intHparam(h, ['original_max_position_embeddings', 'max_position_embeddings'], f);
  const rot = typeof rp.partial_rotary_factor === 'number' ? rp.partial_rotary_factor : typeof h.partial_rotary_factor === 'number' ? h.partial_rotary_factor : 1;
  const full = (typeof rp.full_attention === 'object' && rp.full_attention !== null ? rp.full_attention : rp) as Hparams;
  return { ropeDims: Math.floor(Math.trunc(rot * nEmbd) / nHead), origCtx, maxPos, theta: numberHparam(full, ['rope_theta'], f), rp };
}

export const phi3Converter: ArchitectureConverter = {
  names: ['Phi3ForCausalLM'],
  arch: 'phi3',
  plan(ctx) {
    const h = hparamsFor(ctx.config, PHI3_DEFAULTS);
    const c = { ...ctx, hparams: h };
    const rope = ropeSetup(h);
    const tensors: PlannedTensor[] = [];
    let attnFactor: number | undefined;
    const long = rope.rp.long_factor;
    const short = rope.rp.short_factor;
    if (Array.isArray(long) && long.length > 0) {
      const scale = rope.maxPos / rope.origCtx;
      const type = String(rope.rp.rope_type ?? '').toLowerCase();
      if (!type) throw new ConvertError('ERR_CONVERT_CONFIG', 'Missing the required key rope_scaling.type', { file: 'config.json' });
      if (type === 'su' || type === 'longrope') attnFactor = scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(rope.origCtx)) : 1;
      else if (type === 'yarn') attnFactor = scale > 1 ? 0.1 * Math.log(scale) + 1 : 1;
      else throw new ConvertError('ERR_CONVERT_CONFIG', `The rope scaling type ${type} is not supported`, { file: 'config.json' });
      if (!Array.isArray(short)) throw new ConvertError('ERR_CONVERT_CONFIG', 'Missing the required key rope_scaling.short_factor', { file: 'config.json' });
      if (long.length !== short.length || long.length !== rope.ropeDims / 2) {
        throw new ConvertError('ERR_CONVERT_CONFIG', `The length of rope long and short factors must be ${rope.ropeDims / 2}: long ${long.length}, short ${short.length}`, { file: 'config.json' });
      }
      tensors.push({ name: 'rope_factors_long.weight', shape: [long.length], sources: [], generated: Float32Array.from(long as number[]), hfName: 'rope_scaling.long_factor' });
      tensors.push({ name: 'rope_factors_short.weight', shape: [short.length], sources: [], generated: Float32Array.from(short as number[]), hfName: 'rope_scaling.short_factor' });
    }
    const blocks = intHparam(h, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], 'config.json');
    for (const src of modelTensors(c)) {
      if (isDroppedTensor(src.name)) continue;
      tensors.push(plainTensor(mapTensorName(PHI3_NAMES, src.name, blocks), src));
    }
    return {
      arch: 'phi3',
      tensors,
      earlyKv: attnFactor === undefined ? undefined : (kv) => kv.float32('phi3.rope.scaling.attn_factor', attnFactor as number),
      parameters(kv, ftype) {
        const f = 'config.json';
        kv.uint32('phi3.context_length', rope.maxPos);
        kv.uint32('phi3.rope.scaling.original_context_length', rope.origCtx);
        kv.uint32('phi3.embedding_length', intHparam(h, ['hidden_size', 'n_embd'], f));
        kv.uint32('phi3.feed_forward_length', intHparam(h, ['intermediate_size'], f));
        kv.uint32('phi3.block_count', blocks);
        kv.uint32('phi3.attention.head_count', intHparam(h, ['num_attention_heads', 'n_head'], f));
        kv.uint32('phi3.attention.head_count_kv', intHparam(h, ['num_key_value_heads', 'n_head_kv'], f));
        kv.float32('phi3.attention.layer_norm_rms_epsilon', numberHparam(h, ['rms_norm_eps'], f));
        kv.uint32('phi3.rope.dimension_count', rope.ropeDims);
        kv.float32('phi3.rope.freq_base', rope.theta);
        kv.uint32('general.file_type', ftype);
        kv.uint32('phi3.attention.sliding_window', typeof h.sliding_window === 'number' ? h.sliding_window : 0);
      },
      vocab: (kv) => setVocabPhi3(kv, ctx.dir, typeof h.vocab_size === 'number' ? h.vocab_size : undefined, ctx.vocabOptions),
    };
  },
};
