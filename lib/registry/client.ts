// One repository on one registry: endpoint, authentication, transport settings and the retry policy
// every pull and push step shares.
import { version as nodeVersion } from 'node:process';
import { packageVersion } from '../version.js';
import { credentialsFromEnv, RegistryAuth, type RegistryCredentials } from './auth.js';
import { httpEndpoint, resolveEndpoint, type RegistryEndpoint } from './endpoint.js';
import { RegistryError, redactUrl } from './errors.js';
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  header,
  isRedirect,
  isTransient,
  MAX_REDIRECTS,
  MAX_SMALL_BODY_BYTES,
  readBody,
  send,
  sleep,
  statusError,
  type HttpRequest,
  type HttpResponse,
  type RetryPolicy,
  type TransportOptions,
} from './http.js';
import { loadOllamaKey, parseOllamaKey, type OllamaKey } from './sshKey.js';
import type { ModelName } from '../store/names.js';

/** Ollama's downloadStallTimeout. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

export interface RegistryClientOptions {
  /** Allow http:// and unverified TLS (`--insecure`), for a local or private registry. */
  insecure?: boolean;
  /** Basic credentials (Basic challenges, and Docker token realms); default GGUF_FORGE_REGISTRY_USER/PASSWORD. */
  credentials?: RegistryCredentials;
  /** Ollama's signing key: a path, the key's PEM text via { pem }, or false for none. Default ~/.ollama/id_ed25519 when it exists. */
  ollamaKey?: string | { pem: string } | false;
  /** Environment for the credential variables (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** No byte moved for this long restarts a transfer (default 30 s, Ollama's). */
  stallTimeoutMs?: number;
  /** Retries per step since it last made progress (default 6, Ollama's). */
  retries?: number;
  /** First retry delay, doubled per failure with jitter (default 1000 ms). */
  retryDelayMs?: number;
  /** Longest retry delay (default 30 s). */
  maxRetryDelayMs?: number;
  userAgent?: string;
}

const retryAfterOf = new WeakMap<object, string>();

/** The error of the last attempt, saying how many were made. */
export function gaveUp(error: unknown, attempts: number): unknown {
  if (!(error instanceof RegistryError) || attempts <= 1) return error;
  return new RegistryError(error.code, `${error.message} (gave up after ${attempts} attempts)`, {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.url === undefined ? {} : { url: error.url }),
    ...(error.digest === undefined ? {} : { digest: error.digest }),
    cause: error,
  });
}

function positiveOption(value: number | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new RangeError(`Expected a number >= ${min} for ${name} but received ${String(value)}`);
  return value;
}

export class RegistryClient {
  #endpoint: RegistryEndpoint;
  readonly #auth: RegistryAuth;
  readonly transport: TransportOptions;
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal | undefined;
  readonly #insecure: boolean;

  private constructor(endpoint: RegistryEndpoint, auth: RegistryAuth, transport: TransportOptions, policy: RetryPolicy, insecure: boolean) {
    this.#endpoint = endpoint;
    this.#auth = auth;
    this.transport = transport;
    this.policy = policy;
    this.signal = transport.signal;
    this.#insecure = insecure;
  }

  /** A client for `name`'s repository that will ask for `actions` (`pull`, or `pull,push`). */
  static async open(name: string | ModelName, actions: 'pull' | 'pull,push', options: RegistryClientOptions = {}): Promise<RegistryClient> {
    const insecure = options.insecure === true;
    const endpoint = resolveEndpoint(name, { insecure });
    const policy: RetryPolicy = {
      retries: Math.floor(positiveOption(options.retries, 'retries', DEFAULT_RETRY_POLICY.retries)),
      retryDelayMs: positiveOption(options.retryDelayMs, 'retryDelayMs', DEFAULT_RETRY_POLICY.retryDelayMs),
      maxRetryDelayMs: positiveOption(options.maxRetryDelayMs, 'maxRetryDelayMs', DEFAULT_RETRY_POLICY.maxRetryDelayMs),
    };
    const transport: TransportOptions = {
      stallTimeoutMs: positiveOption(options.stallTimeoutMs, 'stallTimeoutMs', DEFAULT_STALL_TIMEOUT_MS, 1),
      verifyTls: endpoint.verifyTls,
      userAgent: options.userAgent ?? `gguf-forge/${packageVersion} (${process.arch} ${process.platform}) Node/${nodeVersion}`,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    const keyOption = options.ollamaKey;
    let keyPromise: Promise<OllamaKey | undefined> | undefined;
    const ollamaKey =
      keyOption === false
        ? undefined
        : () =>
            (keyPromise ??=
              keyOption === undefined
                ? loadOllamaKey()
                : typeof keyOption === 'string'
                  ? loadOllamaKey(keyOption).then((key) => {
                      if (key === undefined) throw new RegistryError('ERR_REGISTRY_KEY', `key file ${keyOption} does not exist`);
                      return key;
                    })
                  : Promise.resolve(parseOllamaKey(keyOption.pem)));
    const credentials = options.credentials ?? credentialsFromEnv(options.env);
    const auth = new RegistryAuth(endpoint.origin, {
      insecure,
      scopes: [`repository:${endpoint.repository}:${actions}`],
      ...(credentials === undefined ? {} : { credentials }),
      ...(ollamaKey === undefined ? {} : { ollamaKey }),
    });
    const client = new RegistryClient(endpoint, auth, transport, policy, insecure);
    if (endpoint.httpFallback) await client.#probeHttps();
    return client;
  }

  get endpoint(): RegistryEndpoint {
    return this.#endpoint;
  }

  /** The Authorization this client would send to `url` (only ever to the registry's own origin). */
  authorizationFor(url: URL): string | undefined {
    return this.#auth.headerFor(url);
  }

  /** Docker's insecure-registry rule: https when it connects at all, else plain http. */
  async #probeHttps(): Promise<void> {
    const url = new URL('/v2/', this.#endpoint.origin);
    try {
      const response = await send({ method: 'GET', url }, { ...this.transport, stallTimeoutMs: Math.min(this.transport.stallTimeoutMs, 10_000) });
      response.release();
    } catch (error) {
      this.signal?.throwIfAborted();
      this.#endpoint = httpEndpoint(this.#endpoint);
      this.#auth.setOrigin(this.#endpoint.origin);
    }
  }

  /**
   * One exchange: Authorization attached for the registry's own origin; a 401 answered from its
   * challenge and the request sent again (three times at most); redirects followed when asked (GET/HEAD),
   * never carrying the registry's Authorization elsewhere. The body is the caller's to read.
   */
  async exchange(request: HttpRequest, options: { followRedirects?: boolean; signal?: AbortSignal } = {}): Promise<HttpResponse> {
    const transport = options.signal === undefined ? this.transport : { ...this.transport, signal: options.signal };
    let url = request.url;
    let authAnswers = 0;
    let redirects = 0;
    for (;;) {
      const headers: Record<string, string> = { ...request.headers };
      const authorization = this.#auth.headerFor(url);
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await send({ ...request, url, headers }, transport);
      if (response.status === 401 && url.origin === this.#endpoint.origin && authAnswers < 3) {
        response.release();
        if (await this.#auth.answer(response, transport, authorization)) {
          authAnswers++;
          continue;
        }
        return response;
      }
      const location = header(response.headers, 'location');
      if (options.followRedirects && isRedirect(response.status) && location !== undefined) {
        response.release();
        if (++redirects > MAX_REDIRECTS) throw new RegistryError('ERR_REGISTRY_PROTOCOL', `more than ${MAX_REDIRECTS} redirects from ${redactUrl(request.url)}`, { url: redactUrl(request.url) });
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw new RegistryError('ERR_REGISTRY_PROTOCOL', `redirect to an invalid Location ${JSON.stringify(location.slice(0, 200))}`, { url: redactUrl(url), cause: error });
        }
        if (next.protocol === 'http:' && url.protocol === 'https:' && !this.#insecure) {
          throw new RegistryError('ERR_REGISTRY_INSECURE', `redirect from https to ${redactUrl(next)} refused (pass insecure to allow it)`, { url: redactUrl(url) });
        }
        url = next;
        continue;
      }
      return response;
    }
  }

  /**
   * A small request (manifest, HEAD, upload start/commit, token-free JSON): retried on transient
   * failures with backoff, body read whole; a status outside `ok` becomes a typed error.
   */
  async call(
    request: HttpRequest,
    options: { ok: readonly number[]; what: string; limit?: number; followRedirects?: boolean; retries?: number; signal?: AbortSignal },
  ): Promise<{ response: HttpResponse; body: Buffer }> {
    const retries = options.retries ?? this.policy.retries;
    const signal = options.signal ?? this.signal;
    for (let failures = 0; ; ) {
      let error: unknown;
      try {
        const response = await this.exchange(request, { followRedirects: options.followRedirects ?? false, ...(signal === undefined ? {} : { signal }) });
        const body = request.method === 'HEAD' ? (response.release(), Buffer.alloc(0)) : await readBody(response, options.limit ?? MAX_SMALL_BODY_BYTES);
        if (options.ok.includes(response.status)) return { response, body };
        error = statusError(response, body, options.what);
        const retryAfter = header(response.headers, 'retry-after');
        if (retryAfter !== undefined) retryAfterOf.set(error as object, retryAfter);
      } catch (thrown) {
        error = thrown;
      }
      signal?.throwIfAborted();
      if (!isTransient(error) || ++failures > retries) throw gaveUp(error, failures);
      await this.backoff(failures, error, signal);
    }
  }

  /** Waits out a retry (for transfer loops that count their own failures). */
  backoff(failures: number, error?: unknown, signal: AbortSignal | undefined = this.signal): Promise<void> {
    return sleep(backoffMs(this.policy, failures, error === undefined ? undefined : retryAfterOf.get(error as object)), signal);
  }
}
