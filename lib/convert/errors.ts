/**
 * Why a Hugging Face model could not be converted. `code` is stable (scripts switch on it); `file` is
 * the file concerned and `tensor` the tensor's (checkpoint) name when one is.
 *
 * Codes: ERR_CONVERT_ARCH (architecture not supported: the message lists the supported ones),
 * ERR_CONVERT_CONFIG (config.json missing, not JSON, or lacking a field the architecture needs),
 * ERR_CONVERT_TENSOR (a tensor that cannot be mapped, is missing, has the wrong shape or dtype),
 * ERR_CONVERT_TOKENIZER (no usable tokenizer, or a malformed tokenizer file),
 * ERR_CONVERT_PRETOKENIZER (a BPE pre-tokenizer llama.cpp does not know),
 * ERR_CONVERT_OUTTYPE (unknown output type), ERR_CONVERT_SAME_FILE (output would overwrite an input).
 */
export class ConvertError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly tensor?: string;

  constructor(code: string, message: string, where: { file?: string; tensor?: string } = {}) {
    super(message);
    this.name = 'ConvertError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
  }
}
