// Qwen2ForCausalLM and Qwen3ForCausalLM as convert_hf_to_gguf's Qwen2Model/Qwen3Model: TextModel
// parameters, q/k/v biases (Qwen2) and q/k norms (Qwen3) as F32, NEOX rope (no permutation),
// SentencePiece when tokenizer.model exists, else the BPE vocabulary with its pre-tokenizer hash.
import { hparamsFor, intHparam, type ConfigDefaults } from './hparams.js';
import {
  COMMON_BLOCK,
  COMMON_GLOBAL,
  isDroppedTensor,
  mapTensorName,
  modelTensors,
  plainTensor,
  textModelParameters,
  type ArchitectureConverter,
  type NameMap,
} from './model.js';
import { MissingTokenizerFile, setVocabGpt2, setVocabSentencePiece } from './tokenizer/vocab.js';

const QWEN2_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 151936, hidden_size: 4096, intermediate_size: 22016, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32,
    max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 10000, use_sliding_window: false, sliding_window: 4096, max_window_layers: 28,
  },
};
const QWEN3_DEFAULTS: ConfigDefaults = {
  defaults: {
    vocab_size: 151936, hidden_size: 4096, intermediate_size: 22016, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, head_dim: 128,
    max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 10000, use_sliding_window: false, sliding_window: 4096, max_window_layers: 28,
  },
};

export const QWEN_NAMES: NameMap = { global: COMMON_GLOBAL, block: { ...COMMON_BLOCK, 'self_attn.q_norm': 'attn_q_norm', 'self_attn.k_norm': 'attn_k_norm' } };

function qwenConverter(names: string[], arch: 'qwen2' | 'qwen3', defaults: ConfigDefaults): ArchitectureConverter {
  return {
    names,
    arch,
    plan(ctx) {
      const h = hparamsFor(ctx.config, defaults);
      // Qwen2Config keeps sliding_window only when use_sliding_window is set.
      if (h.use_sliding_window !== true) h.sliding_window = null;
      const c = { ...ctx, hparams: h };
      const blocks = intHparam(h, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], 'config.json');
      const tensors = modelTensors(c)
        .filter((s) => !isDroppedTensor(s.name))
        .map((s) => plainTensor(mapTensorName(QWEN_NAMES, s.name, blocks), s));
      return {
        arch,
        tensors,
        parameters: (kv, ftype) => textModelParameters(kv, arch, h, ftype),
        vocab(kv) {
          const vocabSize = typeof h.vocab_size === 'number' ? h.vocab_size : undefined;
          try {
            setVocabSentencePiece(kv, ctx.dir, vocabSize);
          } catch (e) {
            if (!(e instanceof MissingTokenizerFile)) throw e;
            setVocabGpt2(kv, ctx.dir, vocabSize, ctx.vocabOptions);
          }
        },
      };
    },
  };
}

export const qwenConverters: ArchitectureConverter[] = [
  qwenConverter(['Qwen2ForCausalLM'], 'qwen2', QWEN2_DEFAULTS),
  qwenConverter(['Qwen3ForCausalLM'], 'qwen3', QWEN3_DEFAULTS),
];
