// Registry authentication: the WWW-Authenticate challenge (Docker token spec), Basic credentials,
// bearer tokens from the realm, and Ollama's ed25519-signed token request (server/auth.go).
import { createHash, randomBytes } from 'node:crypto';
import { RegistryError, redactUrl } from './errors.js';
import { errorSummary, readBody, send, type HttpResponse, type TransportOptions } from './http.js';
import type { OllamaKey } from './sshKey.js';

/** Largest token response read. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** GGUF_FORGE_REGISTRY_USER / GGUF_FORGE_REGISTRY_PASSWORD, when both are set. */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): RegistryCredentials | undefined {
  const username = env.GGUF_FORGE_REGISTRY_USER;
  const password = env.GGUF_FORGE_REGISTRY_PASSWORD;
  if (username === undefined || username === '' || password === undefined) return undefined;
  return { username, password };
}

export interface Challenge {
  /** Lower-cased auth scheme: `bearer`, `basic`… */
  readonly scheme: string;
  /** Parameters with lower-cased names (`realm`, `service`, `scope`, `error`). */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses WWW-Authenticate (RFC 7235): `Bearer realm="…",service="…",scope="a b"`, several
 * challenges per header or several headers; quoted strings may hold commas and escaped quotes.
 */
export function parseChallenges(value: string | readonly string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  const out: Challenge[] = [];
  for (const text of typeof value === 'string' ? [value] : value) {
    let i = 0;
    let current: { scheme: string; params: Record<string, string> } | undefined;
    const skip = (chars: string) => {
      while (i < text.length && chars.includes(text[i] as string)) i++;
    };
    const token = () => {
      const start = i;
      while (i < text.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/.test(text[i] as string)) i++;
      return text.slice(start, i);
    };
    while (i < text.length) {
      skip(' \t,');
      const name = token();
      if (name === '') {
        i++; // an unexpected character: step over it
        continue;
      }
      skip(' \t');
      if (text[i] === '=' && current !== undefined) {
        i++;
        skip(' \t');
        let v = '';
        if (text[i] === '"') {
          i++;
          while (i < text.length && text[i] !== '"') {
            if (text[i] === '\\' && i + 1 < text.length) i++;
            v += text[i];
            i++;
          }
          i++;
        } else {
          v = token();
          while (text[i] === '=') v += text[i++]; // token68 padding
        }
        current.params[name.toLowerCase()] = v;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}

/** Go's url.QueryEscape: everything but [A-Za-z0-9-_.~] percent-encoded, space as "+". */
function goQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.Values.Encode: keys sorted, each key's values in insertion order. */
function goEncodeValues(values: Array<[string, string]>): string {
  const keys = [...new Set(values.map(([k]) => k))].sort();
  return keys.flatMap((k) => values.filter(([key]) => key === k).map(([, v]) => `${goQueryEscape(k)}=${goQueryEscape(v)}`)).join('&');
}

/**
 * The URL Ollama's client asks a token from: the realm's own query plus service, one scope per
 * space-separated scope, ts (unix seconds) and nonce (16 random bytes, base64url), Go-encoded.
 */
export function ollamaTokenUrl(challenge: Challenge, now = Date.now(), nonce = randomBytes(16).toString('base64url')): URL {
  const realm = new URL(challenge.params.realm ?? '');
  const values: Array<[string, string]> = [...realm.searchParams.entries()];
  values.push(['service', challenge.params.service ?? '']);
  for (const scope of (challenge.params.scope ?? '').split(' ')) values.push(['scope', scope]);
  values.push(['ts', String(Math.floor(now / 1000))]);
  values.push(['nonce', nonce]);
  realm.search = goEncodeValues(values);
  return realm;
}

/** What Ollama signs for a token request: `GET,<url>,<base64(hex(sha256("")))>`. */
export function ollamaSignedData(url: URL): Buffer {
  const emptyBodyHash = Buffer.from(createHash('sha256').update('').digest('hex'), 'latin1').toString('base64');
  return Buffer.from(`GET,${url.toString()},${emptyBodyHash}`, 'utf8');
}

export interface RegistryAuthOptions {
  readonly credentials?: RegistryCredentials;
  /** Loads Ollama's key when a token realm on the registry's own host asks for one (undefined: no key). */
  readonly ollamaKey?: () => Promise<OllamaKey | undefined>;
  /** http:// realms and unverified TLS allowed (`insecure`). */
  readonly insecure: boolean;
  /** Scopes always asked for besides the challenge's (e.g. `repository:ns/model:pull,push` for a push). */
  readonly scopes: readonly string[];
}

/**
 * The Authorization header for one registry origin, renewed from each 401 challenge. Never sent to
 * another origin (blob storage redirects get none).
 */
export class RegistryAuth {
  readonly #options: RegistryAuthOptions;
  #authorization: string | undefined;
  #origin: string;

  constructor(origin: string, options: RegistryAuthOptions) {
    this.#origin = origin;
    this.#options = options;
  }

  /** The registry moved to plain http (insecure fallback). */
  setOrigin(origin: string): void {
    this.#origin = origin;
  }

  /** The header to send to `url`, or undefined (other origins, or nothing obtained yet). */
  headerFor(url: URL): string | undefined {
    return url.origin === this.#origin ? this.#authorization : undefined;
  }

  /**
   * Answers a 401 to a request sent with `sent` (its Authorization, if any): obtains a new
   * Authorization from the response's challenge. Returns false when there is nothing we can answer
   * it with (then the caller reports the 401).
   */
  async answer(response: HttpResponse, transport: TransportOptions, sent: string | undefined): Promise<boolean> {
    // Concurrent requests all meet the first challenge: if another one already obtained a newer
    // header, try that before asking the token service again.
    if (this.#authorization !== undefined && this.#authorization !== sent) return true;
    const challenges = parseChallenges(response.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer !== undefined) {
      this.#authorization = `Bearer ${await this.#token(bearer, response.url, transport)}`;
      return true;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    const credentials = this.#options.credentials;
    if (basic !== undefined && credentials !== undefined) {
      const value = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
      if (value === sent) return false; // these credentials were just refused
      if (new URL(this.#origin).protocol !== 'https:' && !this.#options.insecure) return false;
      this.#authorization = value;
      return true;
    }
    return false;
  }

  async #token(challenge: Challenge, requestUrl: URL, transport: TransportOptions): Promise<string> {
    const scopes = new Set((challenge.params.scope ?? '').split(' ').filter((s) => s !== ''));
    for (const scope of this.#options.scopes) scopes.add(scope);
    const merged: Challenge = { scheme: 'bearer', params: { ...challenge.params, scope: [...scopes].join(' ') } };
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm as string);
    } catch (error) {
      throw new RegistryError('ERR_REGISTRY_AUTH', `token realm ${JSON.stringify(challenge.params.realm)} is not a URL`, { cause: error });
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.#options.insecure)) {
      throw new RegistryError('ERR_REGISTRY_AUTH', `token realm ${redactUrl(realm)} is not https (pass insecure to allow it)`);
    }
    const { credentials } = this.#options;
    const ollamaKey = credentials === undefined && realm.host === requestUrl.host ? await this.#options.ollamaKey?.() : undefined;
    let url: URL;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (ollamaKey !== undefined) {
      // Ollama's registry: a signed, nonce'd request; only to the registry's own host (Ollama's rule).
      url = ollamaTokenUrl(merged);
      headers.authorization = ollamaKey.sign(ollamaSignedData(url));
    } else {
      url = new URL(realm);
      if (merged.params.service) url.searchParams.set('service', merged.params.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credentials !== undefined) headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
    }
    const response = await send({ method: 'GET', url, headers }, transport);
    const body = await readBody(response, MAX_TOKEN_RESPONSE_BYTES);
    if (response.status === 401 || response.status === 403) {
      throw new RegistryError('ERR_REGISTRY_UNAUTHORIZED', `token service ${redactUrl(realm)} refused ${credentials ? `the credentials of ${credentials.username}` : ollamaKey !== undefined ? `the Ollama key ${ollamaKey.publicKeyLine}` : 'anonymous access'}: HTTP ${response.status} ${errorSummary(body)}`, {
        status: response.status,
        url: redactUrl(realm),
      });
    }
    if (response.status >= 500) {
      throw new RegistryError('ERR_REGISTRY_HTTP', `token service ${redactUrl(realm)}: HTTP ${response.status} ${errorSummary(body)}`, { status: response.status, url: redactUrl(realm) });
    }
    if (response.status !== 200) {
      throw new RegistryError('ERR_REGISTRY_AUTH', `token service ${redactUrl(realm)}: HTTP ${response.status} ${errorSummary(body)}`, { status: response.status, url: redactUrl(realm) });
    }
    let token: unknown;
    try {
      const doc = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = doc.token ?? doc.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
      throw new RegistryError('ERR_REGISTRY_AUTH', `token service ${redactUrl(realm)} answered without a token`, { url: redactUrl(realm) });
    }
    return token;
  }
}
