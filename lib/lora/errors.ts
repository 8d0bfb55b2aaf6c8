/**
 * Why a LoRA adapter could not be converted, checked or merged. `code` is stable (scripts switch on
 * it); `file` is the file concerned, `tensor` the GGUF name of the base tensor concerned, and for
 * shape mismatches `adapterShape` / `baseShape` give both sides (ggml order, innermost first).
 *
 * Codes:
 * - ERR_LORA_NOT_ADAPTER: the path is neither a GGUF LoRA nor a PEFT / MLX adapter directory.
 * - ERR_LORA_CONFIG: adapter_config.json is missing, not JSON, or lacks / mistypes a field.
 * - ERR_LORA_UNSUPPORTED: a kind of adapter that a GGUF LoRA cannot hold (DoRA, per-module alpha,
 *   pickled adapter_model.bin, expert tensors, non-LoRA tensors such as resized embeddings).
 * - ERR_LORA_TENSOR: an adapter tensor that cannot be mapped, lacks its A/B partner, has a dtype
 *   other than F32/F16/BF16, or A and B disagree on the rank.
 * - ERR_LORA_BASE_REQUIRED: converting a directory needs the base model (GGUF or config.json) to
 *   know the architecture and head counts.
 * - ERR_LORA_BASE: the base is not a usable model (an adapter itself, or lacking a needed key).
 * - ERR_LORA_ARCH: the adapter's architecture differs from the base's.
 * - ERR_LORA_MISSING_TENSOR: an adapter tensor targets a tensor the base does not have.
 * - ERR_LORA_SHAPE: an adapter tensor's dimensions do not fit its base tensor.
 * - ERR_LORA_OUTTYPE: unknown output type.
 * - ERR_LORA_SAME_FILE: the output would overwrite an input.
 */
export class LoraError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly tensor?: string;
  readonly adapterShape?: number[];
  readonly baseShape?: number[];

  constructor(code: string, message: string, where: { file?: string; tensor?: string; adapterShape?: number[]; baseShape?: number[] } = {}) {
    super(message);
    this.name = 'LoraError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
    if (where.adapterShape !== undefined) this.adapterShape = where.adapterShape;
    if (where.baseShape !== undefined) this.baseShape = where.baseShape;
  }
}
