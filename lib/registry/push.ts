// `ollama push` (server/images.go PushModel): every layer and the config uploaded unless the registry
// has it (or can mount it from the model it came from), then the manifest. The manifest is sent as
// the exact bytes of the stored file, so a pull elsewhere stores the same bytes and the same model ID.
import { createHash } from 'node:crypto';
import type { ModelName } from '../store/names.js';
import { StoreError } from '../store/errors.js';
import { uploadBlob, type BlobUploadResult } from './blobUpload.js';
import { RegistryClient } from './client.js';
import { manifestUrl } from './endpoint.js';
import { RegistryError, redactUrl } from './errors.js';
import { header } from './http.js';
import { shortDigest, throttledBlobProgress } from './progress.js';
import { checkImageManifest, DEFAULT_CONCURRENCY, resolveStore, type TransferOptions } from './pull.js';
import { transferBlobs } from './slots.js';

export type PushOptions = TransferOptions;

export interface PushedBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly outcome: BlobUploadResult['outcome'];
  readonly bytesSent: number;
  readonly sessions: number;
  readonly resumes: number;
}

export interface PushResult {
  readonly name: ModelName;
  /** sha256 hex of the manifest bytes sent. */
  readonly digest: string;
  readonly blobs: PushedBlob[];
}

/** Pushes the stored model `name` to the registry its name points at. */
export async function push(name: string | ModelName, options: PushOptions = {}): Promise<PushResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const progressIntervalMs = options.progressIntervalMs ?? 100;
  const signal = options.signal;
  const onProgress = options.onProgress;

  const client = await RegistryClient.open(name, 'pull,push', options);
  const store = await resolveStore(options.store, options.env);
  onProgress?.({ status: 'retrieving manifest' });
  const stored = await store.readManifest(client.endpoint.name);
  const what = `manifest of ${stored.name.namespace}/${stored.name.model}:${stored.name.tag}`;
  const manifest = checkImageManifest(stored.bytes, what);

  const unique = new Map<string, { digest: string; size: number; mediaType: string; from?: string }>();
  for (const layer of [...manifest.layers, manifest.config]) if (!unique.has(layer.digest)) unique.set(layer.digest, layer);
  for (const layer of unique.values()) {
    if (!(await store.hasBlob(layer.digest))) throw new StoreError('ERR_STORE_BLOB_MISSING', `${what} names blob ${layer.digest}, which is not in the store`, { path: store.blobPath(layer.digest), digest: layer.digest });
  }

  const blobs = await transferBlobs([...unique.values()], { ...options, concurrency, signal }, async (layer, { slots, plan, signal: blobSignal }): Promise<PushedBlob> => {
    const progress = throttledBlobProgress(onProgress, `pushing ${shortDigest(layer.digest)}`, layer.digest, layer.size, progressIntervalMs);
    const result = await uploadBlob({
      client,
      layer,
      blobPath: store.blobPath(layer.digest),
      slots,
      plan,
      signal: blobSignal,
      onProgress: (completed) => progress.update(completed),
    });
    progress.done(result.outcome);
    return { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, ...result };
  });

  onProgress?.({ status: 'pushing manifest' });
  const digest = createHash('sha256').update(stored.bytes).digest('hex');
  const url = manifestUrl(client.endpoint);
  const contentType = manifest.mediaType === '' ? 'application/vnd.docker.distribution.manifest.v2+json' : manifest.mediaType;
  for (let failures = 0; ; ) {
    const { response } = await client.call({ method: 'PUT', url, headers: { 'content-type': contentType }, body: stored.bytes }, { ok: [200, 201, 202, 204], what });
    const claimed = header(response.headers, 'docker-content-digest');
    if (claimed === undefined || claimed === `sha256:${digest}`) break;
    // The registry stored other bytes than we sent (changed in transit): send them again over the tag.
    const error = new RegistryError('ERR_REGISTRY_DIGEST_MISMATCH', `${what}: the registry stored ${claimed}, we sent sha256:${digest}`, { url: redactUrl(url), expected: `sha256:${digest}`, actual: claimed });
    if (++failures > client.policy.retries) throw error;
    await client.backoff(failures);
  }
  onProgress?.({ status: 'success' });
  return { name: stored.name, digest, blobs };
}
