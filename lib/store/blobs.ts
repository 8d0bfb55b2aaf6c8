// Content-addressed blobs: bytes stream into a temp file inside blobs/ while they are hashed, the
// temp is fsynced and renamed to sha256-<hex>. Identical content is stored once (Ollama's NewLayer);
// a reused blob gets its mtime touched so a concurrent prune's grace period protects it.
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, link, open, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { renameInto, syncDir, tempFileName } from './atomicFile.js';
import { StoreError } from './errors.js';
import { blobFileName } from './manifest.js';
import { writeAllAt } from '../pieceWrite.js';
import { WritebackPacer } from '../writeback.js';

/** Temp files in blobs/ start with this; it is not a digest name, so Ollama's startup prune also removes strays after an hour. */
export const BLOB_TEMP_PREFIX = 'sha256-tmp-';
const CHUNK_BYTES = 4 << 20;

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
  /** A large blob goes to disk as it is written, so the fsync before the rename has little left to do. */
  readonly #writeback: WritebackPacer;
  #state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';

  private constructor(blobsDir: string, temp: string, handle: FileHandle, onDigest: DigestHook | undefined) {
    this.#blobsDir = blobsDir;
    this.#temp = temp;
    this.#handle = handle;
    this.#onDigest = onDigest;
    this.#writeback = new WritebackPacer(handle.fd);
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
    const at = this.#size;
    this.#size += bytes.length;
    const queued = this.#queue.then(async () => {
      await writeAllAt(this.#handle, bytes, at);
      this.#writeback.advance(at + bytes.length);
    });
    // A failed write fails this call and every later one; commit() reports it too.
    this.#queue = queued;
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
      await this.#writeback.settle();
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
    await this.#writeback.settle();
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

/**
 * Copies a file into a blob, hashing while copying. On Linux the kernel copies (see kernelCopyToBlob);
 * elsewhere the bytes pass through this process once, hashed on the way.
 */
export async function copyFileToBlob(blobsDir: string, source: string, options: BlobFileOptions, onDigest?: DigestHook): Promise<BlobInfo> {
  if (process.platform === 'linux') return kernelCopyToBlob(blobsDir, source, options, onDigest);
  return streamCopyToBlob(blobsDir, source, options, onDigest);
}

/** The portable copy: read, hash, write (exported for the tests of platforms that do not use it). */
export async function streamCopyToBlob(blobsDir: string, source: string, options: BlobFileOptions, onDigest?: DigestHook): Promise<BlobInfo> {
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

/** How long the hashing reader waits when it has caught up with the kernel copy. */
const CATCH_UP_WAIT_MS = 2;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The kernel copies the file into a temp (fs.copyFile: copy_file_range, the bytes never enter this
 * process, as `cp` does) while this thread hashes the temp as it grows, so copying and hashing overlap
 * and the digest is of the bytes the blob holds: a source edited meanwhile cannot leave a blob that
 * differs from its name. Linux only: there the copy appends in order and a read below the file's size
 * sees copied bytes (a copier that sizes the file first, as Windows' CopyFile may, would not).
 * The hashed part is handed to the disk as it is hashed (lib/writeback.ts). The copy itself cannot be cancelled: on an
 * abort or error the temp is unlinked at once and again once the copy has ended.
 */
async function kernelCopyToBlob(blobsDir: string, source: string, options: BlobFileOptions, onDigest?: DigestHook): Promise<BlobInfo> {
  const total = (await stat(source)).size;
  const temp = join(blobsDir, tempFileName(BLOB_TEMP_PREFIX));
  const copy: { state: 'running' | 'done' | 'failed'; error?: unknown } = { state: 'running' };
  const copying = copyFile(source, temp, constants.COPYFILE_EXCL).then(
    () => void (copy.state = 'done'),
    (error: unknown) => {
      copy.state = 'failed';
      copy.error = error;
    },
  );
  let handle: FileHandle | undefined;
  let writeback: WritebackPacer | undefined;
  let reading: Promise<{ bytesRead: number; length: number; buffer: Buffer }> | undefined;
  try {
    // The copy creates the temp first; wait for it, or for the copy to fail.
    while (handle === undefined) {
      options.signal?.throwIfAborted();
      // The copy's state before the attempt: a copy that ends while open() fails has created the
      // temp after open() looked, so only one already done before the attempt means it is gone.
      const before = copy.state;
      try {
        handle = await open(temp, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        if (copy.state === 'failed') throw copy.error;
        if (before === 'done') throw error; // the temp was removed under us
        if (copy.state !== 'done') await sleep(1);
      }
    }
    const reader = handle;
    // The copied part goes to disk as it is hashed, so the fsync before the rename has little left to do.
    writeback = new WritebackPacer(reader.fd);
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    let which = 0;
    let position = 0; // bytes hashed
    let requested = 0; // bytes asked for (hashed + the read in flight)
    let known = 0; // the temp's size when last looked at
    let reported = 0;
    const startRead = () => {
      const buffer = buffers[which] as Buffer;
      which ^= 1;
      // Reads end on 4 MiB boundaries (the copy may allow less), so progress comes once per 4 MiB.
      const length = Math.min(CHUNK_BYTES - (requested % CHUNK_BYTES), known - requested);
      const at = requested;
      requested += length;
      reading = reader.read(buffer, 0, length, at).then(({ bytesRead }) => ({ bytesRead, length, buffer }));
    };
    for (;;) {
      options.signal?.throwIfAborted();
      if (reading === undefined) {
        if (requested >= known) {
          // Whether the copy had ended is read before the size, so a size read after the end is final.
          const ended = copy.state !== 'running';
          if (copy.state === 'failed') throw copy.error;
          known = (await reader.stat()).size;
          if (requested >= known) {
            if (ended) break;
            await sleep(CATCH_UP_WAIT_MS);
            continue;
          }
        }
        startRead();
      }
      const { bytesRead, length, buffer } = await (reading as Promise<{ bytesRead: number; length: number; buffer: Buffer }>);
      reading = undefined;
      // A read below a regular file's size is never short; if it were, the bytes hashed would not be the blob's.
      if (bytesRead !== length) throw new StoreError('ERR_STORE_BLOB_SIZE', `reading the copy of ${source} gave ${bytesRead} of ${length} bytes`, { path: temp });
      if (requested < known) startRead(); // the next read runs while this chunk is hashed
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      if (position % CHUNK_BYTES === 0) {
        reported = position;
        options.onProgress?.({ completed: position, total: Math.max(total, position) });
      }
      writeback.advance(position);
    }
    if (reported !== position) options.onProgress?.({ completed: position, total: Math.max(total, position) });
    await writeback.settle();
    const digest = `sha256:${hash.digest('hex')}`;
    checkExpected(options.expectedDigest, digest, source);
    onDigest?.(digest);
    await reader.chmod(0o644);
    await reader.sync();
    await reader.close();
    handle = undefined;
    return await settleTemp(blobsDir, temp, digest, position);
  } catch (error) {
    await writeback?.settle();
    await reading?.catch(() => undefined);
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    void copying.then(() => rm(temp, { force: true }));
    throw error;
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
