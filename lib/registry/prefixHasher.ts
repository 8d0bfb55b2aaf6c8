// sha256 of a blob being downloaded in parallel parts, advanced over the longest prefix whose bytes
// are on disk, so hashing overlaps the transfer instead of following it. Small blobs are hashed on
// this thread (chunks at the prefix's end as they are written, the rest read back); large ones in a
// worker thread that reads the partial file itself, leaving this thread to the sockets.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { DownloadPart } from './blobDownload.js';
import { RegistryError } from './errors.js';

/** Bytes read back per step. */
const HASH_READ_BYTES = 4 << 20;
/** New prefix bytes per message to the worker. */
const POST_BYTES = 8 << 20;
/** From this size on a worker hashes (its start-up, ~20 ms, is noise beside the transfer). */
export const WORKER_HASH_MIN_BYTES = 32 << 20;

export interface PrefixHasher {
  /** `chunks` (`length` bytes) were just written at `position`. */
  written(position: number, chunks: readonly Buffer[], length: number): void;
  /** The digest once all `total` bytes are written. */
  digest(total: number): Promise<string>;
  /** Stops any reading (before the file is closed, renamed or deleted). */
  close(): Promise<void>;
}

/** End of the contiguous written prefix. */
function frontier(parts: readonly DownloadPart[]): number {
  let end = 0;
  for (const part of parts) {
    if (part.Offset !== end) break;
    end = part.Offset + part.Completed;
    if (part.Completed < part.Size) break;
  }
  return end;
}

export function createPrefixHasher(handle: FileHandle, path: string, parts: readonly DownloadPart[], total: number): PrefixHasher {
  return total >= WORKER_HASH_MIN_BYTES ? new WorkerPrefixHasher(path, parts) : new LocalPrefixHasher(handle, parts);
}

class LocalPrefixHasher implements PrefixHasher {
  readonly #hash: Hash = createHash('sha256');
  readonly #handle: FileHandle;
  readonly #parts: readonly DownloadPart[];
  #hashed = 0;
  #reading: Promise<void> | undefined;
  #buffer: Buffer | undefined;
  #error: unknown;

  constructor(handle: FileHandle, parts: readonly DownloadPart[]) {
    this.#handle = handle;
    this.#parts = parts;
  }

  written(position: number, chunks: readonly Buffer[], length: number): void {
    if (this.#reading === undefined && position === this.#hashed) {
      for (const chunk of chunks) this.#hash.update(chunk);
      this.#hashed += length;
    }
    if (this.#reading === undefined && this.#hashed < frontier(this.#parts)) this.#reading = this.#catchUp();
  }

  async #catchUp(): Promise<void> {
    try {
      this.#buffer ??= Buffer.allocUnsafe(HASH_READ_BYTES);
      for (let end = frontier(this.#parts); this.#hashed < end; end = frontier(this.#parts)) {
        const { bytesRead } = await this.#handle.read(this.#buffer, 0, Math.min(HASH_READ_BYTES, end - this.#hashed), this.#hashed);
        if (bytesRead <= 0) throw new RegistryError('ERR_REGISTRY_PROTOCOL', 'partial file shorter than its recorded progress');
        this.#hash.update(this.#buffer.subarray(0, bytesRead));
        this.#hashed += bytesRead;
      }
    } catch (error) {
      this.#error ??= error;
    } finally {
      this.#reading = undefined;
    }
  }

  async close(): Promise<void> {
    while (this.#reading !== undefined) await this.#reading;
  }

  async digest(total: number): Promise<string> {
    await this.close();
    if (this.#hashed < total) {
      this.#reading = this.#catchUp();
      await this.close();
    }
    if (this.#error !== undefined) throw this.#error;
    if (this.#hashed !== total) throw new RegistryError('ERR_REGISTRY_PROTOCOL', `hashed ${this.#hashed} of ${total} bytes`);
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

// The worker: a plain CommonJS script (eval'd, so it needs no module resolution under any loader).
// It hashes the file from 0 up to the latest target it was told, then answers a finish request.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const fd = openSync(workerData.path, 'r');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(${HASH_READ_BYTES});
let hashed = 0, target = 0, finish = -1;
parentPort.on('message', (m) => {
  if (m.target > target) target = m.target;
  if (m.finish !== undefined) { finish = m.finish; if (finish > target) target = finish; }
  try {
    while (hashed < target) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, target - hashed), hashed);
      if (n <= 0) throw new Error('partial file shorter than its recorded progress');
      hash.update(buffer.subarray(0, n));
      hashed += n;
    }
    if (finish >= 0) { closeSync(fd); parentPort.postMessage({ hashed, digest: hash.digest('hex') }); }
  } catch (e) { parentPort.postMessage({ error: String(e && e.message || e) }); }
});
`;

class WorkerPrefixHasher implements PrefixHasher {
  readonly #parts: readonly DownloadPart[];
  readonly #worker: Worker;
  readonly #answer: Promise<{ hashed?: number; digest?: string; error?: string }>;
  #posted = 0;

  constructor(path: string, parts: readonly DownloadPart[]) {
    this.#parts = parts;
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path } });
    this.#worker.unref();
    this.#answer = new Promise((resolve) => {
      this.#worker.once('message', resolve);
      this.#worker.once('error', (error) => resolve({ error: error.message }));
      this.#worker.once('exit', () => resolve({ error: 'hash worker exited' }));
    });
    // Bytes an earlier, interrupted pull left: start on them at once.
    this.#post();
  }

  #post(): void {
    const end = frontier(this.#parts);
    // Batched: a message per POST_BYTES of new prefix (the finish message covers the tail).
    if (end >= this.#posted + POST_BYTES || (this.#posted === 0 && end > 0)) {
      this.#posted = end;
      this.#worker.postMessage({ target: end });
    }
  }

  written(): void {
    this.#post();
  }

  async digest(total: number): Promise<string> {
    this.#worker.postMessage({ finish: total });
    const answer = await this.#answer;
    if (answer.error !== undefined || answer.digest === undefined) throw new RegistryError('ERR_REGISTRY_PROTOCOL', `hashing the partial file failed: ${answer.error ?? 'no digest'}`);
    if (answer.hashed !== total) throw new RegistryError('ERR_REGISTRY_PROTOCOL', `hashed ${answer.hashed} of ${total} bytes`);
    return `sha256:${answer.digest}`;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
