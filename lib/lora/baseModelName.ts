// The base model an adapter directory names (PEFT base_model_name_or_path, MLX model) is the only
// architecture a PEFT / MLX adapter states. When the name shows a known family it must agree with
// the base's GGUF architecture, so a Qwen adapter is refused on a Llama base before any mapping.
import type { BaseModelInfo } from './baseModel.js';
import { LoraError } from './errors.js';

export interface AdapterCheckOptions {
  /**
   * Directories name their base model (PEFT base_model_name_or_path, MLX model); when that name
   * shows a model family (Qwen2, Llama, Gemma, Phi-3 …) it must agree with the base's architecture.
   * Set to skip that comparison (e.g. a Llama-architecture model whose name says otherwise).
   */
  ignoreBaseModelName?: boolean;
}

/** ERR_LORA_ARCH when the base model an adapter directory names is of another family than `base`. */
export function checkBaseModelName(baseModel: string | undefined, adapterPath: string, base: BaseModelInfo, options: AdapterCheckOptions = {}): void {
  if (baseModel === undefined || options.ignoreBaseModelName) return;
  const implied = architecturesFromName(baseModel);
  if (implied && !implied.includes(base.arch)) {
    throw new LoraError(
      'ERR_LORA_ARCH',
      `The adapter was trained on ${baseModel} (${implied.join('/')}) but the base ${base.path} is ${base.arch} (pass ignoreBaseModelName to skip this comparison)`,
      { file: adapterPath },
    );
  }
}

/** Families a base model's name reveals, most specific first, with the GGUF architectures they convert to. */
const NAME_FAMILIES: [RegExp, string[]][] = [
  [/qwen3/i, ['qwen3']],
  [/qwen(2|1\.5)/i, ['qwen2']],
  [/gemma-?3/i, ['gemma3']],
  [/gemma-?2/i, ['gemma2']],
  [/gemma/i, ['gemma']],
  [/phi-?3|phi-?4-mini/i, ['phi3']],
  [/llama|mistral|mixtral|vicuna/i, ['llama']],
];

/** The architectures the base model's name implies, if it names a known family. */
export function architecturesFromName(name: string): string[] | undefined {
  // Only the last path component: directories above it say nothing about the model.
  const last = name.replace(/[\\/]+$/, '').split(/[\\/]/).slice(-2).join('/');
  return NAME_FAMILIES.find(([re]) => re.test(last))?.[1];
}
