/**
 * Why a store operation was refused. `code` is stable (scripts switch on it); `path` is the file or
 * folder involved, `model` the model name as given, `digest` the blob digest, when they apply.
 * File-system failures that carry no store meaning (EACCES, ENOSPC…) are not wrapped: they keep
 * Node's own `code` and `path`.
 *
 * Codes: ERR_STORE_NAME (invalid model name, path traversal included), ERR_STORE_DIGEST (not
 * `sha256:<64 hex>`), ERR_STORE_JSON (a value Go's encoding/json cannot write), ERR_STORE_ROOT
 * (the store root is not a folder), ERR_STORE_NOT_FOUND (no manifest for that name),
 * ERR_STORE_MANIFEST (a manifest that does not parse or lacks required fields),
 * ERR_STORE_BLOB_MISSING (a layer names a blob that is not there), ERR_STORE_BLOB_SIZE (the blob's
 * size differs from the layer's), ERR_STORE_DIGEST_MISMATCH (content did not hash to the digest the
 * caller promised), ERR_STORE_WRITER_CLOSED (write after close/abort), ERR_STORE_PATH (a computed
 * path would leave the store).
 */
export class StoreError extends Error {
  readonly code: string;
  readonly path?: string;
  readonly model?: string;
  readonly digest?: string;

  constructor(code: string, message: string, where: { path?: string; model?: string; digest?: string } = {}) {
    super(where.path === undefined ? message : `${message} (${where.path})`);
    this.name = 'StoreError';
    this.code = code;
    if (where.path !== undefined) this.path = where.path;
    if (where.model !== undefined) this.model = where.model;
    if (where.digest !== undefined) this.digest = where.digest;
  }
}
