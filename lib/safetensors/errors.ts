/**
 * Why a safetensors file or checkpoint was rejected. `code` is stable (scripts switch on it); `offset`
 * is the byte offset in the file of what was wrong (or where bytes ran out); `file` is the path and
 * `tensor` the tensor's name when one is concerned.
 *
 * Codes: ERR_SAFETENSORS_TRUNCATED (the file ends inside its header), ERR_SAFETENSORS_HEADER_LENGTH (the
 * header length is zero, over the limit or past the end of the file), ERR_SAFETENSORS_JSON (the header
 * is not a JSON object of tensor entries), ERR_SAFETENSORS_DTYPE (unknown dtype), ERR_SAFETENSORS_SHAPE
 * (shape is not a list of non-negative integers, or shape × dtype size ≠ byte length),
 * ERR_SAFETENSORS_OFFSETS (data_offsets malformed, or a hole between tensors), ERR_SAFETENSORS_OVERLAP
 * (two tensors share bytes), ERR_SAFETENSORS_EXTENT (tensor data outside the file, or bytes after the
 * last tensor), ERR_SAFETENSORS_INDEX (a sharded checkpoint's index is malformed or disagrees with its
 * shards), ERR_SAFETENSORS_DUPLICATE (a tensor name in two shards), ERR_SAFETENSORS_NOT_FOUND (no
 * safetensors file, or no such tensor), ERR_SAFETENSORS_CHANGED (the file changed size while it was read),
 * ERR_SAFETENSORS_CLOSED (used after close()).
 */
export class SafetensorsError extends Error {
  readonly code: string;
  readonly offset?: number;
  readonly file?: string;
  readonly tensor?: string;

  constructor(code: string, message: string, where: { offset?: number; file?: string; tensor?: string } = {}) {
    const at = [where.file, where.offset === undefined ? undefined : `byte ${where.offset}`].filter((s) => s !== undefined);
    super(at.length ? `${message} (${at.join(', ')})` : message);
    this.name = 'SafetensorsError';
    this.code = code;
    if (where.offset !== undefined) this.offset = where.offset;
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
  }
}
