// One blob from blobs/ to the registry (Ollama's server/upload.go, made resumable): HEAD first; a
// cross-repository mount when the layer came `from` another model; else an upload session, the blob
// sent in PATCH chunks (Ollama's part sizes), then PUT ?digest=. After a failed chunk the registry is
// asked where the session stands (GET on the upload URL, its Range header) and sending resumes
// there; a session the registry dropped is replaced by a new one from offset 0.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StoreError } from '../store/errors.js';
import type { Layer } from '../store/manifest.js';
import { parseModelName } from '../store/names.js';
import { partSizeFor, type PartPlan } from './blobDownload.js';
import { gaveUp, type RegistryClient } from './client.js';
import { blobUrl, uploadsUrl, type RegistryEndpoint } from './endpoint.js';
import { RegistryError, redactUrl } from './errors.js';
import { header, isTransient, readBody, statusError, type HttpResponse } from './http.js';
import type { TransferSlots } from './slots.js';

/** Bytes read from the blob file per chunk handed to the socket. */
const READ_BYTES = 1 << 20;

export interface BlobUploadOptions {
  readonly client: RegistryClient;
  readonly layer: Pick<Layer, 'digest' | 'size' | 'from'>;
  readonly blobPath: string;
  readonly slots: TransferSlots;
  readonly plan: PartPlan;
  readonly signal: AbortSignal;
  readonly onProgress: (completed: number) => void;
}

export interface BlobUploadResult {
  readonly outcome: 'skipped' | 'mounted' | 'uploaded';
  /** Body bytes sent (chunks re-sent after failures included). */
  readonly bytesSent: number;
  /** Upload sessions opened (more than 1: the registry dropped one and the blob started over). */
  readonly sessions: number;
  /** Times sending resumed at the offset the registry reported after a failure. */
  readonly resumes: number;
}

/** The repository a layer's `from` names on this registry (Ollama mounts from DisplayNamespaceModel), or undefined. */
export function mountSource(from: string | undefined, endpoint: RegistryEndpoint): string | undefined {
  if (from === undefined || from === '') return undefined;
  try {
    const name = parseModelName(from);
    const repository = `${name.namespace}/${name.model}`;
    return repository === endpoint.repository ? undefined : repository;
  } catch {
    return undefined; // a file path (GGUF taken as-is), not a model
  }
}

/** `0-<last>` (distribution's Range on upload responses, no "bytes=" prefix) -> the next offset. */
function offsetFromRange(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^(?:bytes=)?0-(\d+)$/.exec(value.trim());
  if (match === null) return undefined;
  const last = Number(match[1]);
  // "0-0" is what distribution reports for an empty session (it never says "0--1").
  return last === 0 ? 0 : last + 1;
}

function locationOf(response: HttpResponse, preferDockerUpload = true): URL {
  const value = (preferDockerUpload ? header(response.headers, 'docker-upload-location') : undefined) ?? header(response.headers, 'location');
  if (value === undefined || value === '') {
    throw new RegistryError('ERR_REGISTRY_PROTOCOL', `HTTP ${response.status} from ${redactUrl(response.url)} without a Location`, { url: redactUrl(response.url) });
  }
  try {
    return new URL(value, response.url);
  } catch (error) {
    throw new RegistryError('ERR_REGISTRY_PROTOCOL', `invalid Location ${JSON.stringify(value.slice(0, 200))}`, { url: redactUrl(response.url), cause: error });
  }
}

/** Statuses by which the registry says an upload session is gone or unusable. */
const DEAD_SESSION = new Set([400, 404, 416]);

export async function uploadBlob(options: BlobUploadOptions): Promise<BlobUploadResult> {
  const { client, layer, blobPath, signal } = options;
  const { digest, size } = layer;
  const what = `blob ${digest}`;
  const head = await client.call({ method: 'HEAD', url: blobUrl(client.endpoint, digest) }, { ok: [200, 404], what, followRedirects: true, signal });
  if (head.response.status === 200) {
    options.onProgress(size);
    return { outcome: 'skipped', bytesSent: 0, sessions: 0, resumes: 0 };
  }
  const info = await stat(blobPath).catch(() => undefined);
  if (!info?.isFile()) throw new StoreError('ERR_STORE_BLOB_MISSING', `blob ${digest} does not exist`, { path: blobPath, digest });
  if (info.size !== size) throw new StoreError('ERR_STORE_BLOB_SIZE', `blob ${digest} holds ${info.size} bytes but the layer says ${size}`, { path: blobPath, digest });

  const partSize = partSizeFor(size, options.plan);
  const partCount = Math.ceil(size / partSize);
  let bytesSent = 0;
  let sessions = 0;
  let resumes = 0;
  let location: URL | undefined;
  // md5 of each part PUT to redirected storage: Ollama's S3-style `etag` on commit.
  let storageMd5s = new Map<number, Buffer>();
  let lastDrop = '';

  /** Opens a session (or mounts); true when the blob was mounted. */
  const startSession = async (mountFrom: string | undefined): Promise<boolean> => {
    if (sessions > client.policy.retries) {
      throw new RegistryError('ERR_REGISTRY_UPLOAD', `${what}: the registry dropped ${sessions} upload sessions (last: ${lastDrop}); giving up`, { digest });
    }
    sessions++;
    storageMd5s = new Map();
    const url = uploadsUrl(client.endpoint, mountFrom === undefined ? undefined : { digest, from: mountFrom });
    const { response } = await client.call({ method: 'POST', url, body: Buffer.alloc(0) }, { ok: [201, 202], what, signal });
    if (response.status === 201) {
      const claimed = header(response.headers, 'docker-content-digest');
      if (claimed === undefined || claimed === digest) return true;
      throw new RegistryError('ERR_REGISTRY_PROTOCOL', `${what}: mount answered with digest ${claimed}`, { digest });
    }
    location = locationOf(response);
    return false;
  };

  const body = (start: number, end: number, md5?: Hash) => ({
    length: end - start + 1,
    open: () => {
      const stream = createReadStream(blobPath, { start, end, highWaterMark: READ_BYTES });
      if (md5 !== undefined) stream.on('data', (chunk) => md5.update(chunk as Buffer));
      return stream;
    },
  });

  /** PUTs one part to the storage URL a 307 named (no registry credentials go there). */
  const putToStorage = async (storage: URL, start: number, end: number): Promise<void> => {
    for (let failures = 0; ; ) {
      const md5 = createHash('md5');
      let error: unknown;
      try {
        const response = await client.exchange(
          { method: 'PUT', url: storage, headers: { 'content-type': 'application/octet-stream' }, body: body(start, end, md5), onBodyChunk: (n) => void (bytesSent += n) },
          { signal },
        );
        const text = await readBody(response);
        if (response.status >= 200 && response.status < 300) {
          storageMd5s.set(Math.floor(start / partSize), md5.digest());
          return;
        }
        error = statusError(response, text, `${what} part at ${start}`);
      } catch (thrown) {
        error = thrown;
      }
      signal.throwIfAborted();
      if (!isTransient(error) || ++failures > client.policy.retries) throw gaveUp(error, failures);
      await client.backoff(failures, error, signal);
    }
  };

  /** Sends [start, end]; returns the registry's new offset. */
  const patch = async (start: number, end: number): Promise<number> => {
    const url = location as URL;
    let sentThisTime = 0;
    const response = await client.exchange(
      {
        method: 'PATCH',
        url,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'x-redirect-uploads': '1' },
        body: body(start, end),
        onBodyChunk: (n) => {
          bytesSent += n;
          sentThisTime += n;
          options.onProgress(Math.min(size, start + sentThisTime));
        },
      },
      { signal },
    );
    if (response.status === 307) {
      // Ollama's registry: the part goes to pre-signed storage; the next PATCH URL is Docker-Upload-Location.
      const storage = locationOf(response, false);
      const next = locationOf(response);
      response.release();
      await putToStorage(storage, start, end);
      location = next;
      return end + 1;
    }
    const text = await readBody(response);
    if (response.status !== 202 && response.status !== 204) throw statusError(response, text, `${what} chunk ${start}-${end}`);
    location = locationOf(response);
    const reported = offsetFromRange(header(response.headers, 'range'));
    // "0-0" after sending byte 0 alone means one byte (distribution cannot say it otherwise).
    if (reported === undefined || (reported === 0 && start === 0 && end === 0)) return end + 1;
    return reported;
  };

  /** Where the session stands: its offset, or 'dead'. */
  const queryStatus = async (): Promise<number | 'dead'> => {
    try {
      const { response } = await client.call({ method: 'GET', url: location as URL }, { ok: [200, 204], what: `${what} upload status`, retries: 0, signal });
      const reported = offsetFromRange(header(response.headers, 'range'));
      if (reported === undefined || reported > size) return 'dead';
      if (header(response.headers, 'location') !== undefined) location = locationOf(response);
      return reported;
    } catch (error) {
      if (error instanceof RegistryError && error.status !== undefined && DEAD_SESSION.has(error.status)) return 'dead';
      throw error;
    }
  };

  if (await startSession(mountSource(layer.from, client.endpoint))) {
    options.onProgress(size);
    return { outcome: 'mounted', bytesSent: 0, sessions, resumes };
  }

  let offset = 0;
  let failures = 0;
  let needStatus = false;
  for (;;) {
    signal.throwIfAborted();
    try {
      if (needStatus) {
        const status = await queryStatus();
        needStatus = false;
        if (status === 'dead') {
          lastDrop = 'the registry no longer knew the session after a failed chunk';
          await startSession(undefined);
          offset = 0;
        } else {
          if (status > 0) resumes++;
          offset = status;
        }
        options.onProgress(offset);
        continue;
      }
      if (offset < size) {
        // Chunks keep Ollama's part boundaries, also after resuming mid-part.
        const end = Math.min(size, (Math.floor(offset / partSize) + 1) * partSize) - 1;
        const reached = await options.slots.run(() => patch(offset, end), signal);
        if (reached <= offset || reached > size) {
          // Not the progress we sent for: ask again rather than guess.
          needStatus = true;
          continue;
        }
        if (reached !== end + 1) needStatus = true;
        offset = reached;
        failures = 0;
        options.onProgress(offset);
        continue;
      }
      const commit = new URL(location as URL);
      commit.searchParams.set('digest', digest);
      if (partCount > 0 && storageMd5s.size === partCount) {
        const parts = [...storageMd5s.keys()].sort((a, b) => a - b).map((k) => storageMd5s.get(k) as Buffer);
        commit.searchParams.set('etag', `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${partCount}`);
      }
      let response: HttpResponse;
      try {
        ({ response } = await client.call({ method: 'PUT', url: commit, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(0) }, { ok: [201, 204], what, retries: 0, signal }));
      } catch (error) {
        if (error instanceof RegistryError && error.status !== undefined && DEAD_SESSION.has(error.status)) {
          // The registry's bytes do not hash to the digest (changed in transit) or the session is gone: start over.
          lastDrop = `commit refused: ${error.message}`;
          await startSession(undefined);
          offset = 0;
          options.onProgress(0);
          continue;
        }
        throw error;
      }
      const claimed = header(response.headers, 'docker-content-digest');
      if (claimed !== undefined && claimed !== digest) {
        throw new RegistryError('ERR_REGISTRY_UPLOAD', `${what}: the registry stored it as ${claimed}`, { digest, expected: digest, actual: claimed });
      }
      options.onProgress(size);
      return { outcome: 'uploaded', bytesSent, sessions, resumes };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!isTransient(error)) throw error;
      if (++failures > client.policy.retries) throw gaveUp(error, failures);
      await client.backoff(failures, error, signal);
      if (offset >= size) {
        // A commit whose answer was lost may have succeeded.
        const again = await client.call({ method: 'HEAD', url: blobUrl(client.endpoint, digest) }, { ok: [200, 404], what, followRedirects: true, signal });
        if (again.response.status === 200) {
          options.onProgress(size);
          return { outcome: 'uploaded', bytesSent, sessions, resumes };
        }
      }
      needStatus = true;
    }
  }
}
