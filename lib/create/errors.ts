/**
 * Why a create (or show) was refused. `code` is stable (scripts switch on it); `path` is the file
 * involved and `model` the model name, when they apply. Errors of the steps below keep their own
 * types and codes: ModelfileError (ERR_MODELFILE_*), StoreError (ERR_STORE_*, e.g. ERR_STORE_NAME for
 * an invalid or traversing model name), GgufError (ERR_GGUF_*), QuantizeModelError (ERR_QUANTIZE_*).
 *
 * Codes: ERR_CREATE_NO_MODELFILE (nothing to create from), ERR_CREATE_SOURCE (a FROM/ADAPTER/DRAFT
 * path that is not a single-file GGUF gguf-forge can import: a folder, a split shard, not GGUF),
 * ERR_CREATE_FROM_MODEL (FROM names a model the store does not have), ERR_CREATE_ADAPTER (an ADAPTER
 * that is not a GGUF LoRA for the model's architecture, or more than one), ERR_CREATE_QUANTIZE (-q on
 * a model that is not F32/F16/BF16), ERR_CREATE_NO_MODEL (no model layer to quantize or describe).
 */
export class CreateError extends Error {
  readonly code: string;
  readonly path?: string;
  readonly model?: string;

  constructor(code: string, message: string, where: { path?: string; model?: string; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'CreateError';
    this.code = code;
    if (where.path !== undefined) this.path = where.path;
    if (where.model !== undefined) this.model = where.model;
  }
}
