// `ollama pull` (server/images.go PullModel): the manifest, then every blob the store lacks, fetched in
// resumable ranged parts and verified, then the manifest bytes exactly as the registry sent them,
// written last and atomically; then the layers of the replaced manifest that nothing uses any more.
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { StoreError } from '../store/errors.js';
import { digestHex, MEDIA_TYPES, parseManifest, type Manifest } from '../store/manifest.js';
import type { ModelName } from '../store/names.js';
import { ModelStore, openStore } from '../store/store.js';
import { downloadBlob, type BlobDownloadResult, type PartPlan } from './blobDownload.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { manifestUrl } from './endpoint.js';
import { RegistryError, redactUrl } from './errors.js';
import { header } from './http.js';
import { shortDigest, throttledBlobProgress, type BlobOutcome, type ProgressListener } from './progress.js';
import { transferBlobs, type BlobTransferContext } from './slots.js';

/** Ollama's numDownloadParts: parallel transfers at once, over all blobs. */
export const DEFAULT_CONCURRENCY = 16;
/** Largest manifest accepted (distribution's own limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image manifest types a model can be (Ollama's registry serves the Docker one). */
export const MANIFEST_MEDIA_TYPES = [MEDIA_TYPES.manifest, 'application/vnd.oci.image.manifest.v1+json'] as const;
const INDEX_MEDIA_TYPES = ['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'];

export interface TransferOptions extends RegistryClientOptions, PartPlan {
  /** The store, or its root (`--models`); default $OLLAMA_MODELS, else ~/.ollama/models. */
  store?: ModelStore | string;
  /**
   * Transfers (HTTP exchanges carrying blob bytes) at once, over all blobs (default 16). A pull opens
   * a blob's parts one connection at a time up to this, while each doubling still raises the rate.
   */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Least time between two progress events of one blob (default 100 ms). */
  progressIntervalMs?: number;
}

export interface PullOptions extends TransferOptions {
  /** Times a blob whose bytes hash to another digest is fetched again from scratch before the pull fails (default 1). */
  digestRetries?: number;
  /** Delete the replaced manifest's layers nothing else uses (default: true unless OLLAMA_NOPRUNE is set, as Ollama). */
  removeUnusedLayers?: boolean;
  /**
   * How blob bodies are read: true, a lean HTTP/1.1 reader on the socket (~3x node:http's speed on
   * fast links); false, node:http; default, the lean reader for blobs of 32 MiB and more.
   */
  bulkTransport?: boolean;
}

export interface PulledBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly outcome: Extract<BlobOutcome, 'cached' | 'downloaded'>;
  /** Bytes received from the network for it by this pull. */
  readonly bytesTransferred: number;
  /** Bytes an earlier, interrupted pull had left that this one kept. */
  readonly resumedBytes: number;
}

export interface PullResult {
  /** The name the manifest was stored under (existing spellings reused, as Ollama). */
  readonly name: ModelName;
  /** The manifest bytes as received and stored. */
  readonly manifestBytes: Buffer;
  /** sha256 hex of the manifest bytes: the model ID `ollama list` shows. */
  readonly digest: string;
  readonly blobs: PulledBlob[];
  /** Layers of the replaced manifest that were deleted. */
  readonly removedBlobs: string[];
}

export async function resolveStore(store: ModelStore | string | undefined, env?: Readonly<Record<string, string | undefined>>): Promise<ModelStore> {
  if (store instanceof ModelStore) return store;
  if (store !== undefined && typeof store !== 'string') throw new TypeError(`Expected a ModelStore or a folder path for store but received ${typeof store}`);
  return openStore(env === undefined ? { ...(store === undefined ? {} : { root: store }) } : { ...(store === undefined ? {} : { root: store }), env });
}

function integerOption(value: number | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`Expected an integer >= ${min} for ${name} but received ${String(value)}`);
  return value;
}

/** Validates what the registry sent as a model manifest. */
export function checkImageManifest(bytes: Buffer, what: string): Manifest {
  let manifest: Manifest;
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (INDEX_MEDIA_TYPES.includes(String(raw?.mediaType)) || Array.isArray(raw?.manifests)) {
      throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} is a multi-platform image index, not a model manifest`);
    }
    manifest = parseManifest(bytes);
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} is not a usable image manifest: ${(error as Error).message}`, { cause: error });
  }
  if (manifest.schemaVersion !== 2) throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} has schemaVersion ${manifest.schemaVersion}, expected 2`);
  if (manifest.mediaType !== '' && !(MANIFEST_MEDIA_TYPES as readonly string[]).includes(manifest.mediaType)) {
    throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} has media type ${JSON.stringify(manifest.mediaType)}, not an image manifest`);
  }
  const sizes = new Map<string, number>();
  for (const layer of [...manifest.layers, manifest.config]) {
    try {
      digestHex(layer.digest);
    } catch (error) {
      throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} names ${(error as StoreError).message}`, { cause: error });
    }
    if (!/^sha256:[0-9a-f]{64}$/.test(layer.digest)) throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} names digest ${layer.digest}, expected sha256:<64 lower-case hex>`);
    const known = sizes.get(layer.digest);
    if (known !== undefined && known !== layer.size) throw new RegistryError('ERR_REGISTRY_MANIFEST', `${what} gives ${layer.digest} two sizes (${known} and ${layer.size})`);
    sizes.set(layer.digest, layer.size);
  }
  return manifest;
}

/** GET the manifest; a body whose sha256 differs from the registry's Docker-Content-Digest is fetched again. */
async function fetchManifest(client: RegistryClient, what: string): Promise<Buffer> {
  const url = manifestUrl(client.endpoint);
  for (let failures = 0; ; ) {
    const { response, body } = await client.call(
      { method: 'GET', url, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') } },
      { ok: [200], what, limit: MAX_MANIFEST_BYTES, followRedirects: true },
    );
    const claimed = header(response.headers, 'docker-content-digest');
    const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (claimed === undefined || !claimed.startsWith('sha256:') || claimed === actual) return body;
    const error = new RegistryError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: received bytes hash to ${actual}, the registry says ${claimed}`, { url: redactUrl(url), expected: claimed, actual });
    if (++failures > client.policy.retries) throw error;
    await client.backoff(failures);
  }
}

// Downloads of one blob path in this process: a second pull of the same blob waits for the first.
const inflight = new Map<string, Promise<BlobDownloadResult>>();

/** Pulls `name` (`host/namespace/model:tag`, Ollama's defaults) into the store. */
export async function pull(name: string | ModelName, options: PullOptions = {}): Promise<PullResult> {
  const concurrency = integerOption(options.concurrency, 'concurrency', DEFAULT_CONCURRENCY, 1);
  const digestRetries = integerOption(options.digestRetries, 'digestRetries', 1, 0);
  const progressIntervalMs = integerOption(options.progressIntervalMs, 'progressIntervalMs', 100, 0);
  const env = options.env ?? process.env;
  const removeUnused = options.removeUnusedLayers ?? !env.OLLAMA_NOPRUNE;
  const signal = options.signal;
  const onProgress = options.onProgress;

  const client = await RegistryClient.open(name, 'pull', options);
  const store = await resolveStore(options.store, options.env);
  const localName = await store.resolveName(client.endpoint.name);
  const what = `manifest of ${client.endpoint.repository}:${client.endpoint.reference}`;

  onProgress?.({ status: 'pulling manifest' });
  const manifestBytes = await fetchManifest(client, what);
  const manifest = checkImageManifest(manifestBytes, what);

  const unique = new Map<string, { digest: string; size: number; mediaType: string }>();
  for (const layer of [...manifest.layers, manifest.config]) if (!unique.has(layer.digest)) unique.set(layer.digest, layer);
  await mkdir(store.blobsDir, { recursive: true, mode: 0o755 });

  const fetchBlob = async (layer: { digest: string; size: number; mediaType: string }, { slots, plan, signal: blobSignal }: BlobTransferContext): Promise<PulledBlob> => {
    const path = store.blobPath(layer.digest);
    const progress = throttledBlobProgress(onProgress, `pulling ${shortDigest(layer.digest)}`, layer.digest, layer.size, progressIntervalMs);
    const existing = await stat(path).catch(() => undefined);
    // A cache hit is not re-hashed (Ollama's rule; `verify` does that), but its size must match.
    if (existing?.isFile() && existing.size === layer.size) {
      progress.done('cached');
      return { ...layer, outcome: 'cached', bytesTransferred: 0, resumedBytes: 0 };
    }
    let transferred = 0;
    for (let attempt = 0; ; attempt++) {
      const running = inflight.get(path);
      if (running !== undefined) {
        await running.catch(() => undefined);
        blobSignal.throwIfAborted();
        if ((await stat(path).catch(() => undefined))?.size === layer.size) break;
      }
      const download = downloadBlob({
        client,
        digest: layer.digest,
        size: layer.size,
        blobPath: path,
        slots,
        plan,
        signal: blobSignal,
        onProgress: (completed) => progress.update(completed),
        ...(options.bulkTransport === undefined ? {} : { bulkTransport: options.bulkTransport }),
      });
      inflight.set(path, download);
      try {
        const result = await download;
        transferred += result.bytesTransferred;
        progress.done('downloaded');
        return { ...layer, outcome: 'downloaded', bytesTransferred: transferred, resumedBytes: result.resumedBytes };
      } catch (error) {
        if (!(error instanceof RegistryError && error.code === 'ERR_REGISTRY_DIGEST_MISMATCH') || attempt >= digestRetries) throw error;
        onProgress?.({ status: 'verifying sha256 digest', digest: layer.digest });
      } finally {
        if (inflight.get(path) === download) inflight.delete(path);
      }
    }
    progress.done('downloaded');
    return { ...layer, outcome: 'downloaded', bytesTransferred: transferred, resumedBytes: 0 };
  };

  const blobs = await transferBlobs([...unique.values()], { ...options, concurrency, signal }, fetchBlob);

  // Hold every blob against rm/prune in this process until the manifest names them.
  for (const blob of blobs) await store.layerFromBlob(blob.digest, blob.mediaType);
  onProgress?.({ status: 'verifying sha256 digest' });
  onProgress?.({ status: 'writing manifest' });
  const written = await store.writeManifestBytes(localName, manifestBytes);
  let removedBlobs: string[] = [];
  if (written.previous !== undefined && removeUnused) {
    const keep = new Set(unique.keys());
    const unused = [...written.previous.layers, written.previous.config].map((l) => l.digest).filter((d) => !keep.has(d));
    if (unused.length > 0) {
      onProgress?.({ status: 'removing unused layers' });
      removedBlobs = await store.deleteUnreferencedBlobs(unused);
    }
  }
  onProgress?.({ status: 'success' });
  return { name: written.name, manifestBytes: written.bytes, digest: written.digest, blobs, removedBlobs };
}
