/**
 * Why a model could not be quantized. `code` is stable: ERR_QUANTIZE_SAME_FILE, ERR_QUANTIZE_INPUT,
 * ERR_QUANTIZE_REQUANTIZE (already quantized, allowRequantize not set), ERR_QUANTIZE_TYPE (a type
 * gguf-forge does not write), ERR_QUANTIZE_IMATRIX (an importance matrix that does not fit the model).
 */
export class QuantizeModelError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly tensor?: string;
  constructor(code: string, message: string, where: { file?: string; tensor?: string } = {}) {
    super(message);
    this.name = 'QuantizeModelError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
  }
}
