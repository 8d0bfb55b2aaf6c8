// One HTTP exchange over node:http/https, with what a registry transfer needs and fetch() lacks:
// a stall watchdog (no byte moved for N ms, either direction), AbortSignal, bodies replayed from a
// file range, keep-alive agents, and errors classified as transient (retry) or final.
import { abortReason } from '../abort.js';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { RegistryError, redactUrl } from './errors.js';

/** Largest response body read into memory (manifests, tokens, error documents): distribution's manifest limit. */
export const MAX_SMALL_BODY_BYTES = 4 * 1024 * 1024;
/** Redirects followed for one request (Go's http.Client default). */
export const MAX_REDIRECTS = 10;

/** A request body that can be sent again after a failure: bytes, or a stream opened anew each time. */
export type RequestBody = Uint8Array | { readonly length: number; open(): Readable };

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Called with each body chunk as it is handed to the socket (upload progress). */
  readonly onBodyChunk?: (bytes: number) => void;
}

export interface TransportOptions {
  /** No byte in either direction for this long aborts the exchange (ERR_REGISTRY_STALLED). */
  readonly stallTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly verifyTls: boolean;
  readonly userAgent: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly url: URL;
  /** The body stream; stall watchdog and abort stay armed until it ends or is released. */
  readonly body: IncomingMessage;
  /** Marks activity for the stall watchdog (callers reading the body slowly on purpose). */
  touch(): void;
  /** Discards the rest of the body and frees the connection. */
  release(): void;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  httpsUnverified: new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false }),
};

// Failures of the connection itself, worth another attempt.
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'ERR_HTTP_REQUEST_TIMEOUT',
]);

/** Connection failures another attempt will not cure (a certificate, a name that does not resolve). */
const finalErrors = new WeakSet<RegistryError>();

/** True for failures another attempt may cure: network faults, stalls, 5xx, 408, 429. */
export function isTransient(error: unknown): boolean {
  if (error instanceof RegistryError) {
    if (finalErrors.has(error)) return false;
    if (error.code === 'ERR_REGISTRY_NETWORK' || error.code === 'ERR_REGISTRY_STALLED') return true;
    if (error.code === 'ERR_REGISTRY_HTTP' && error.status !== undefined) return error.status >= 500 || error.status === 408 || error.status === 429;
    return false;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && TRANSIENT_CODES.has(code);
}

const TLS_FAILURE = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|HOSTNAME_MISMATCH)/;

/**
 * Wraps a Node network error with the URL (aborts and our own errors pass through): a TLS failure as
 * ERR_REGISTRY_TLS, anything else as ERR_REGISTRY_NETWORK, retried unless it is known to be final.
 */
export function networkError(error: unknown, url: URL): unknown {
  if (error instanceof RegistryError) return error;
  if ((error as Error | undefined)?.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = (error as Error | undefined)?.message ?? String(error);
  if (code !== undefined && TLS_FAILURE.test(code)) {
    return new RegistryError('ERR_REGISTRY_TLS', `TLS with ${url.host} failed: ${code}: ${message} (insecure skips certificate checks for a private registry)`, { url: redactUrl(url), cause: error });
  }
  const transient = code === undefined || TRANSIENT_CODES.has(code) || /aborted|hang up|premature|closed/i.test(message);
  const wrapped = new RegistryError('ERR_REGISTRY_NETWORK', `connection failed: ${code === undefined ? '' : `${code}: `}${message} (${redactUrl(url)})`, { url: redactUrl(url), cause: error });
  if (!transient) finalErrors.add(wrapped);
  return wrapped;
}

/**
 * Sends one request and resolves with the response head; the body is the caller's to read or
 * release. Never follows redirects, never retries, never interprets the status.
 */
export function send(request: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  const { url } = request;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') return Promise.reject(new RegistryError('ERR_REGISTRY_PROTOCOL', `unsupported URL scheme in ${redactUrl(url)}`));
  const agent = isHttps ? (options.verifyTls ? agents.https : agents.httpsUnverified) : agents.http;
  const body = request.body;
  const headers: Record<string, string> = { 'user-agent': options.userAgent, ...request.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let lastActivity = Date.now();
    const touch = () => void (lastActivity = Date.now());
    let response: IncomingMessage | undefined;
    let source: Readable | undefined;

    const req = (isHttps ? https : http).request(url, { method: request.method, headers, agent });

    const fail = (error: unknown) => {
      cleanup();
      source?.destroy();
      if (!settled) {
        settled = true;
        reject(error);
      }
      // After the head arrived the failure surfaces as a body stream error.
      if (response !== undefined && !response.destroyed) response.destroy(error as Error);
      req.destroy();
    };
    const onAbort = () => fail(abortReason(signal as AbortSignal));
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastActivity > options.stallTimeoutMs) {
          fail(new RegistryError('ERR_REGISTRY_STALLED', `no data moved for ${options.stallTimeoutMs} ms (${request.method} ${redactUrl(url)})`, { url: redactUrl(url) }));
        }
      },
      Math.max(10, Math.min(1000, options.stallTimeoutMs / 4)),
    );
    watchdog.unref();
    const cleanup = () => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (error) => fail(networkError(error, url)));
    req.on('response', (res) => {
      response = res;
      touch();
      // No 'data' listener here: it would switch the body to flowing mode before the caller reads it.
      // Readers call touch() per chunk instead.
      res.on('end', cleanup);
      res.on('close', () => {
        // A body cut short (Content-Length not reached, chunked stream not terminated).
        if (!res.complete && !finished) fail(networkError(Object.assign(new Error('response body ended early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }), url));
        cleanup();
      });
      res.on('error', () => cleanup());
      settled = true;
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        url,
        body: res,
        touch,
        release: () => {
          cleanup();
          if (source !== undefined && !source.readableEnded) {
            // The registry answered before taking the whole body (401, 307, an error): stop sending it.
            source.destroy();
            req.destroy();
          }
          res.resume();
          // A half-read body cannot go back to the pool.
          if (!res.complete) res.destroy();
        },
      });
    });

    if (body === undefined) {
      req.end();
    } else if (body instanceof Uint8Array) {
      req.end(body);
      request.onBodyChunk?.(body.length);
    } else {
      source = body.open();
      source.on('data', (chunk: Buffer) => {
        touch();
        request.onBodyChunk?.(chunk.length);
      });
      source.on('error', (error) => fail(error));
      source.pipe(req);
    }
  });
}

/** Reads a whole (small) body; ERR_REGISTRY_PROTOCOL beyond `limit` bytes. */
export async function readBody(response: HttpResponse, limit = MAX_SMALL_BODY_BYTES): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    response.release();
    throw new RegistryError('ERR_REGISTRY_PROTOCOL', `response of ${declared} bytes exceeds the ${limit}-byte limit (${redactUrl(response.url)})`, { url: redactUrl(response.url) });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.release();
        throw new RegistryError('ERR_REGISTRY_PROTOCOL', `response exceeds the ${limit}-byte limit (${redactUrl(response.url)})`, { url: redactUrl(response.url) });
      }
      chunks.push(chunk);
      response.touch();
    }
  } catch (error) {
    throw networkError(error, response.url);
  }
  return Buffer.concat(chunks, size);
}

/** The registry's error text: the first `errors[].message` of a distribution error document, else the body. */
export function errorSummary(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 2048)).trim();
  try {
    const doc = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = doc.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON */
  }
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/** The error for an unexpected status (after its body was read). */
export function statusError(response: HttpResponse, body: Buffer, what: string): RegistryError {
  const status = response.status;
  const summary = errorSummary(body);
  const where = `${what} (${redactUrl(response.url)})`;
  const detail = summary === '' ? `HTTP ${status}` : `HTTP ${status}: ${summary}`;
  if (status === 404) return new RegistryError('ERR_REGISTRY_NOT_FOUND', `${where}: ${detail}`, { status, url: redactUrl(response.url) });
  if (status === 401 || status === 403) return new RegistryError('ERR_REGISTRY_UNAUTHORIZED', `${where}: ${detail}`, { status, url: redactUrl(response.url) });
  return new RegistryError('ERR_REGISTRY_HTTP', `${where}: ${detail}`, { status, url: redactUrl(response.url) });
}

/** First value of a header. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Resolves when `ms` passed, or rejects when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryPolicy {
  /** Attempts after the first, per step, counted since the step last made progress (Ollama: 6). */
  readonly retries: number;
  /** First backoff; doubles per failure, jittered ×0.5–1.5 (Ollama: 1 s, 2^try). */
  readonly retryDelayMs: number;
  /** Ceiling of one backoff. */
  readonly maxRetryDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 6, retryDelayMs: 1000, maxRetryDelayMs: 30_000 };

/** The wait before retry number `failures` (1-based), honouring a Retry-After in seconds when given. */
export function backoffMs(policy: RetryPolicy, failures: number, retryAfter?: string): number {
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(policy.maxRetryDelayMs, seconds * 1000);
  const base = Math.min(policy.maxRetryDelayMs, policy.retryDelayMs * 2 ** Math.max(0, failures - 1));
  return base * (0.5 + Math.random());
}
