/**
 * Why a pull or push failed. `code` is stable (scripts switch on it); `status` is the HTTP status
 * when a response caused it, `url` the request's address (without credentials or query secrets),
 * `digest` the blob concerned, and for ERR_REGISTRY_DIGEST_MISMATCH `expected`/`actual` the digest
 * the manifest promised and the one the bytes hashed to.
 *
 * Codes: ERR_REGISTRY_INSECURE (http:// without `insecure`), ERR_REGISTRY_UNAUTHORIZED (401/403
 * after authenticating, or a challenge we have no credentials for), ERR_REGISTRY_AUTH (the token
 * service failed or answered nonsense), ERR_REGISTRY_NOT_FOUND (404: no such model, tag or blob),
 * ERR_REGISTRY_HTTP (another 4xx, or a 5xx that outlasted the retries), ERR_REGISTRY_NETWORK
 * (connection refused/reset/dropped, truncated body, after the retries; an unknown host at once),
 * ERR_REGISTRY_TLS (certificate or handshake refused; not retried), ERR_REGISTRY_STALLED (no
 * byte moved for stallTimeoutMs, after the retries), ERR_REGISTRY_DIGEST_MISMATCH (content hashed
 * to another digest: partial data deleted), ERR_REGISTRY_PROTOCOL (a response that breaks the
 * distribution protocol: bad Content-Range, oversized manifest, missing Location…),
 * ERR_REGISTRY_MANIFEST (a manifest that is not a usable image manifest), ERR_REGISTRY_NO_SPACE
 * (the blob cannot fit on the disk), ERR_REGISTRY_KEY (the ed25519 key file is unreadable),
 * ERR_REGISTRY_UPLOAD (the registry refused a finished upload, e.g. its digest check).
 */
export class RegistryError extends Error {
  readonly code: string;
  readonly status?: number;
  readonly url?: string;
  readonly digest?: string;
  readonly expected?: string;
  readonly actual?: string;

  constructor(
    code: string,
    message: string,
    where: { status?: number; url?: string; digest?: string; expected?: string; actual?: string; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'RegistryError';
    this.code = code;
    if (where.status !== undefined) this.status = where.status;
    if (where.url !== undefined) this.url = where.url;
    if (where.digest !== undefined) this.digest = where.digest;
    if (where.expected !== undefined) this.expected = where.expected;
    if (where.actual !== undefined) this.actual = where.actual;
  }
}

/** A URL safe to print: no user:password, no query (upload URLs carry signed state, storage URLs signatures). */
export function redactUrl(url: URL | string): string {
  const u = new URL(String(url));
  u.username = '';
  u.password = '';
  const query = u.search === '' ? '' : '?…';
  u.search = '';
  return `${u.toString()}${query}`;
}
