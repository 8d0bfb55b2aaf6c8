/**
 * Why a GGUF file was rejected. `code` is stable (scripts switch on it); `offset` is the byte offset in
 * the file of the field that was wrong (or where bytes ran out); `file` is set when read from a path.
 *
 * Codes: ERR_GGUF_BAD_MAGIC, ERR_GGUF_UNSUPPORTED_VERSION, ERR_GGUF_TRUNCATED, ERR_GGUF_LIMIT,
 * ERR_GGUF_BAD_VALUE_TYPE, ERR_GGUF_NESTING, ERR_GGUF_DUPLICATE_KEY, ERR_GGUF_EMPTY_KEY,
 * ERR_GGUF_DUPLICATE_TENSOR, ERR_GGUF_TENSOR_NAME, ERR_GGUF_TENSOR_DIMS, ERR_GGUF_TENSOR_TYPE,
 * ERR_GGUF_TENSOR_SHAPE, ERR_GGUF_TENSOR_OFFSET, ERR_GGUF_TENSOR_EXTENT, ERR_GGUF_BAD_ALIGNMENT,
 * ERR_GGUF_PREFIX_TOO_SHORT (parseGgufHeader was given fewer bytes than the header needs),
 * ERR_GGUF_WRITE_INCOMPLETE, ERR_GGUF_WRITE_OVERFLOW, ERR_GGUF_WRITE_CLOSED (writer).
 */
export class GgufError extends Error {
  readonly code: string;
  readonly offset?: number;
  readonly file?: string;

  constructor(code: string, message: string, where: { offset?: number; file?: string } = {}) {
    const at = [where.file, where.offset === undefined ? undefined : `byte ${where.offset}`].filter((s) => s !== undefined);
    super(at.length ? `${message} (${at.join(', ')})` : message);
    this.name = 'GgufError';
    this.code = code;
    if (where.offset !== undefined) this.offset = where.offset;
    if (where.file !== undefined) this.file = where.file;
  }
}
