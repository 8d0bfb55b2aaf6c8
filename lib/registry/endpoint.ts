// Model name -> registry endpoint (Ollama's Name.BaseURL + DisplayNamespaceModel): `host/namespace/model:tag`
// is the repository `namespace/model` at https://host/v2/…, tag `tag`. Plain http only with `insecure`.
import { formatModelName, modelNameFromParts, parseModelName, type ModelName } from '../store/names.js';
import { digestHex } from '../store/manifest.js';
import { RegistryError } from './errors.js';

export interface RegistryEndpoint {
  /** The name as given (its parts as typed; the scheme is never part of a path). */
  readonly name: ModelName;
  /** `https://host[:port]` (or http:// for an insecure registry). */
  readonly origin: string;
  /** `namespace/model`. */
  readonly repository: string;
  /** The tag. */
  readonly reference: string;
  /**
   * The name gave no scheme and `insecure` was set: like Docker with an insecure registry, https
   * is tried first (certificates not checked) and http used when https cannot connect.
   */
  readonly httpFallback: boolean;
  /** Whether TLS certificates are checked (false with `insecure`). */
  readonly verifyTls: boolean;
}

export interface EndpointOptions {
  /** Allow http:// and unverified TLS, for a local or private registry (`--insecure`). */
  insecure?: boolean;
}

/** Resolves a model name (string or parts) to the registry endpoint it lives at. */
export function resolveEndpoint(name: string | ModelName, options: EndpointOptions = {}): RegistryEndpoint {
  const insecure = options.insecure === true;
  let parsed: ModelName;
  let explicitScheme: boolean;
  if (typeof name === 'string') {
    parsed = parseModelName(name);
    explicitScheme = name.includes('://');
  } else {
    parsed = modelNameFromParts(name);
    explicitScheme = name.scheme !== undefined && name.scheme !== 'https';
  }
  const scheme = parsed.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new RegistryError('ERR_REGISTRY_INSECURE', `unsupported protocol ${scheme}:// in ${JSON.stringify(formatModelName(parsed))} (expected https:// or, with insecure, http://)`);
  }
  if (scheme === 'http' && !insecure) {
    throw new RegistryError('ERR_REGISTRY_INSECURE', `insecure protocol http for ${parsed.host}: pass insecure (--insecure) to use a registry without TLS`);
  }
  let origin: string;
  try {
    origin = new URL(`${scheme}://${parsed.host}`).origin;
  } catch (error) {
    throw new RegistryError('ERR_REGISTRY_PROTOCOL', `registry host ${JSON.stringify(parsed.host)} is not a valid URL host`, { cause: error });
  }
  return {
    name: parsed,
    origin,
    repository: `${parsed.namespace}/${parsed.model}`,
    reference: parsed.tag,
    httpFallback: insecure && !explicitScheme && scheme === 'https',
    verifyTls: !insecure,
  };
}

/** The same endpoint over plain http (the insecure fallback). */
export function httpEndpoint(endpoint: RegistryEndpoint): RegistryEndpoint {
  const url = new URL(endpoint.origin);
  url.protocol = 'http:';
  return { ...endpoint, origin: url.origin, httpFallback: false };
}

export function manifestUrl(endpoint: RegistryEndpoint, reference = endpoint.reference): URL {
  return new URL(`${endpoint.origin}/v2/${endpoint.repository}/manifests/${encodeURIComponent(reference)}`);
}

export function blobUrl(endpoint: RegistryEndpoint, digest: string): URL {
  digestHex(digest);
  return new URL(`${endpoint.origin}/v2/${endpoint.repository}/blobs/${digest}`);
}

export function uploadsUrl(endpoint: RegistryEndpoint, mount?: { digest: string; from: string }): URL {
  const url = new URL(`${endpoint.origin}/v2/${endpoint.repository}/blobs/uploads/`);
  if (mount !== undefined) {
    url.searchParams.set('mount', mount.digest);
    url.searchParams.set('from', mount.from);
  }
  return url;
}
