// Content-addressed blobs: bytes stream into a temp file inside blobs/ while they are hashed, the
// temp is fsynced and renamed to sha256-<hex>. Identical content is stored once (Ollama's NewLayer);
// a reused blob gets its mtime touched so a concurrent prune's grace period protects it.
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, link, open, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { renameInto, syncDir, tempFileName, writeFully } from './atomicFile.js';
import { StoreError } from './errors.js';
import { blobFileName } from './manifest.js';

/** Temp files in blobs/ start with this; it is not a digest name, so Ollama's startup prune also removes strays after an hour. */
export const BLOB_TEMP_PREFIX = 'sha256-tmp-';
const CHUNK_BYTES = 4 << 20;
/**
 * A large blob is flushed to disk as it is written (fdatasync in the background every this many bytes),
 * so the fsync before the rename has little left to do instead of the whole file: the disk works while
 * the bytes are still being hashed.
 */
const FLUSH_EVERY_BYTES = 64 << 20;

export interface BlobInfo {
  /** `sha256:<hex>`. */
  readonly digest: string;
  readonly size: number;
  readonly path: string;
  /** false when a blob with this digest already existed and was reused. */
  readonly created: boolean;
}

export type BlobImportMethod = 'copy' | 'reflink' | 'hardlink';

export interface BlobProgress {
  readonly completed: number;
  readonly total: number;
}

export interface BlobFileOptions {
  /**
   * Import without copying where the file system allows: a reflink (copy-on-write clone), else a hard
   * link (the blob then shares the file's inode, so editing the file in place corrupts the blob and
   * the touch that protects a fresh blob from prune also sets the file's mtime), else a copy.
   */
  link?: boolean;
  /** Refuse (ERR_STORE_DIGEST_MISMATCH, nothing stored) unless the content hashes to this digest. */
  expectedDigest?: string;
  signal?: AbortSignal;
  onProgress?: (progress: BlobProgress) => void;
}

/** Called with the digest once content is hashed, before it appears under its name (the store pins it there). */
export type DigestHook = (digest: string) => void;

function checkExpected(expected: string | undefined, digest: string, path: string): void {
  if (expected !== undefined && expected.toLowerCase().replace('-', ':') !== digest) {
    throw new StoreError('ERR_STORE_DIGEST_MISMATCH', `digest mismatch, expected "${expected}", got "${digest}"`, { path, digest });
  }
}

/**
 * Moves a hashed temp file under its digest name, or drops it when that blob already exists with the
 * same size. A same-named file of another size cannot be that content, so it is replaced.
 */
async function settleTemp(blobsDir: string, temp: string, digest: string, size: number): Promise<BlobInfo> {
  const path = join(blobsDir, blobFileName(digest));
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && existing.size === size) {
    // Touch before dropping our copy: if another process deleted the blob meanwhile, ours takes its place.
    const now = new Date();
    const touched = await utimes(path, now, now).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (touched) {
      await rm(temp, { force: true });
      return { digest, size, path, created: false };
    }
  }
  await renameInto(temp, path);
  // rename() does nothing when both names are links to one inode (two --link imports of the same
  // file racing): the blob is in place, so the temp name only has to go.
  await rm(temp, { force: true });
  await syncDir(blobsDir);
  return { digest, size, path, created: true };
}

/**
 * Streams bytes into a new blob. write() hashes at once and queues the file write (calls may overlap;
 * bytes land in call order); commit() fsyncs and settles the blob and returns it; abort() removes
 * the temp. close() is commit() for GgufSink (GgufWriter.toSink), the blob then in `result`.
 */
export class BlobWriter {
  readonly #blobsDir: string;
  readonly #temp: string;
  readonly #handle: FileHandle;
  readonly #hash: Hash = createHash('sha256');
  readonly #onDigest: DigestHook | undefined;
  #size = 0;
  #result: BlobInfo | undefined;
  #queue: Promise<void> = Promise.resolve();
  #unflushed = 0;
  /** The background flush (never rejects); after a failure no other starts and commit() throws the error. */
  #flush: Promise<void> = Promise.resolve();
  #flushBusy = false;
  #flushError: unknown;
  #state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';

  private constructor(blobsDir: string, temp: string, handle: FileHandle, onDigest: DigestHook | undefined) {
    this.#blobsDir = blobsDir;
    this.#temp = temp;
    this.#handle = handle;
    this.#onDigest = onDigest;
  }

  static async open(blobsDir: string, onDigest?: DigestHook): Promise<BlobWriter> {
    const temp = join(blobsDir, tempFileName(BLOB_TEMP_PREFIX));
    return new BlobWriter(blobsDir, temp, await open(temp, 'wx', 0o600), onDigest);
  }

  /** The temp file's path (for tests and crash diagnostics). */
  get tempPath(): string {
    return this.#temp;
  }

  get size(): number {
    return this.#size;
  }

  /** The stored blob once commit()/close() succeeded (for callers such as GgufWriter that close the sink themselves). */
  get result(): BlobInfo | undefined {
    return this.#result;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new StoreError('ERR_STORE_WRITER_CLOSED', `blob writer is ${this.#state}`, { path: this.#temp }));
    this.#hash.update(bytes);
    this.#size += bytes.length;
    const queued = this.#queue.then(() => writeFully(this.#handle, bytes));
    // A failed write fails this call and every later one; commit() reports it too.
    this.#queue = queued;
    this.#unflushed += bytes.length;
    if (this.#unflushed >= FLUSH_EVERY_BYTES && !this.#flushBusy) {
      this.#unflushed = 0;
      this.#flushBusy = true;
      // Outside the write queue: later writes go on while this flush runs.
      this.#flush = queued
        .then(() => this.#handle.datasync())
        .then(
          () => void (this.#flushBusy = false),
          (error: unknown) => void (this.#flushError ??= error),
        );
    }
    return queued;
  }

  async close(): Promise<void> {
    await this.commit();
  }

  async commit(): Promise<BlobInfo> {
    if (this.#state !== 'open') throw new StoreError('ERR_STORE_WRITER_CLOSED', `blob writer is ${this.#state}`, { path: this.#temp });
    this.#state = 'closing';
    try {
      await this.#queue;
      await this.#flush;
      if (this.#flushError !== undefined) throw this.#flushError;
      await this.#handle.chmod(0o644);
      await this.#handle.sync();
      await this.#handle.close();
      const digest = `sha256:${this.#hash.digest('hex')}`;
      this.#onDigest?.(digest);
      const info = await settleTemp(this.#blobsDir, this.#temp, digest, this.#size);
      this.#state = 'closed';
      this.#result = info;
      return info;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    await this.#queue.catch(() => undefined);
    await this.#flush;
    await this.#handle.close().catch(() => undefined);
    await rm(this.#temp, { force: true });
  }
}

/** Buffers in flight in pump(): one being read, one being hashed, the rest waiting on their writes. */
const PUMP_BUFFERS = 4;

/**
 * Reads `handle` from 0 to EOF in chunks, feeding each to `consume` in order. The next read is issued
 * before the current chunk is consumed, so the read (a thread-pool task) runs while this thread
 * hashes, and writes queue behind; a buffer is reused only once its write has finished. Hashing on
 * one thread is then the only serial step.
 */
async function pump(
  handle: FileHandle,
  total: number,
  consume: (chunk: Uint8Array) => Promise<void> | void,
  options: { signal?: AbortSignal; onProgress?: (p: BlobProgress) => void },
): Promise<number> {
  const size = Math.min(CHUNK_BYTES, Math.max(total, 1));
  const buffers = Array.from({ length: PUMP_BUFFERS }, () => Buffer.allocUnsafe(size));
  const consumed: Array<Promise<void> | void> = new Array(PUMP_BUFFERS).fill(undefined);
  const readInto = (which: number, position: number) => handle.read(buffers[which] as Buffer, 0, size, position);
  let position = 0;
  let which = 0;
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    options.signal?.throwIfAborted();
    reading = readInto(0, 0);
    for (;;) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      const next = (which + 1) % PUMP_BUFFERS;
      await consumed[next]; // that buffer's write is done: it may be read into
      options.signal?.throwIfAborted();
      reading = readInto(next, position + bytesRead);
      consumed[which] = consume((buffers[which] as Buffer).subarray(0, bytesRead));
      position += bytesRead;
      which = next;
      options.onProgress?.({ completed: position, total: Math.max(total, position) });
    }
    await Promise.all(consumed);
  } catch (error) {
    // Never leave a read or write running (or its rejection unobserved) behind a failure or an abort.
    await Promise.allSettled([reading, ...consumed]);
    throw error;
  }
  return position;
}

/** sha256 of a file, streamed (verify and link imports). */
export async function hashFile(path: string, options: { signal?: AbortSignal; onProgress?: (p: BlobProgress) => void } = {}): Promise<{ digest: string; size: number }> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const size = await pump(handle, (await handle.stat()).size, (chunk) => void hash.update(chunk), options);
    return { digest: `sha256:${hash.digest('hex')}`, size };
  } finally {
    await handle.close();
  }
}

/** Copies a file into a blob, hashing while copying (one read of the source). */
export async function copyFileToBlob(blobsDir: string, source: string, options: BlobFileOptions, onDigest?: DigestHook): Promise<BlobInfo> {
  const input = await open(source, 'r');
  let writer: BlobWriter | undefined;
  try {
    const total = (await input.stat()).size;
    writer = await BlobWriter.open(blobsDir, (digest) => {
      checkExpected(options.expectedDigest, digest, source);
      onDigest?.(digest);
    });
    const w = writer;
    await pump(input, total, (chunk) => w.write(chunk), options);
    return await writer.commit();
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await input.close();
  }
}

/**
 * Stores a complete file that already sits in blobs/ under a temp name (e.g. a quantizer's output)
 * as a blob: hashed once, fsynced, renamed to its digest name (or dropped when that blob exists).
 * The temp name is gone afterwards whether this succeeds or not.
 */
export async function adoptFileAsBlob(blobsDir: string, temp: string, options: { signal?: AbortSignal; onProgress?: (p: BlobProgress) => void }, onDigest?: DigestHook): Promise<BlobInfo> {
  try {
    const { digest, size } = await hashFile(temp, options);
    onDigest?.(digest);
    const handle = await open(temp, 'r');
    try {
      await handle.chmod(0o644);
      await handle.sync(); // the bytes are durable before a digest name can point at them
    } finally {
      await handle.close();
    }
    return await settleTemp(blobsDir, temp, digest, size);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

// Errors after which a link attempt falls back to the next method rather than failing the import.
const LINK_FALLBACK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOTTY', 'ENOSYS', 'EMLINK', 'EINVAL']);

/** Imports a file as a blob: reflink, hard link, then copy (see BlobFileOptions.link). */
export async function linkFileToBlob(blobsDir: string, source: string, options: BlobFileOptions, onDigest?: DigestHook): Promise<BlobInfo & { method: BlobImportMethod }> {
  const temp = join(blobsDir, tempFileName(BLOB_TEMP_PREFIX));
  let method: BlobImportMethod | undefined;
  try {
    await copyFile(source, temp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    method = 'reflink';
  } catch (error) {
    if (!LINK_FALLBACK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    try {
      await link(source, temp);
      method = 'hardlink';
    } catch (linkError) {
      if (!LINK_FALLBACK.has((linkError as NodeJS.ErrnoException).code ?? '')) throw linkError;
    }
  }
  if (method === undefined) return { ...(await copyFileToBlob(blobsDir, source, options, onDigest)), method: 'copy' };
  try {
    // Hash what the blob will hold (the clone or the shared inode), not the source path, which could change between the two reads.
    const { digest, size } = await hashFile(temp, options);
    checkExpected(options.expectedDigest, digest, source);
    onDigest?.(digest);
    // A hard link shares the user's inode: leave its mode alone. A clone is ours.
    if (method === 'reflink') await chmod(temp, 0o644);
    return { ...(await settleTemp(blobsDir, temp, digest, size)), method };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
