// One blob from the registry into blobs/, resumable: ranged parts fetched in parallel into
// `sha256-<hex>-partial` (pre-sized, written at offsets), each part's progress kept in
// `sha256-<hex>-partial-<N>` as Ollama's server/download.go keeps it ({"N","Offset","Size","Completed"}),
// so an interrupted pull (ours or Ollama's) continues where it stopped. The sha256 is computed while
// the parts arrive, over the contiguous prefix written so far, and checked before the rename.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, statfs } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { syncDir } from '../store/atomicFile.js';
import { writeAllAt } from '../pieceWrite.js';
import { WritebackPacer } from '../writeback.js';
import { blobUrl } from './endpoint.js';
import { RegistryError, redactUrl } from './errors.js';
import { gaveUp, type RegistryClient } from './client.js';
import { header, isTransient, readBody, statusError } from './http.js';
import { ConnectionRamp } from './connectionRamp.js';
import { BlockPool, bulkGet, type BulkResponse } from './bulkGet.js';
import { createPrefixHasher } from './prefixHasher.js';
import type { TransferSlots } from './slots.js';

/** Ollama's numDownloadParts / minDownloadPartSize / maxDownloadPartSize (decimal MB), shared with uploads. */
export const OLLAMA_PART_PLAN = { parts: 16, minPartSize: 100_000_000, maxPartSize: 1_000_000_000 } as const;
/** Bytes gathered from the socket before one positioned write. */
const WRITE_BYTES = 1 << 20;
/** From this size on, blob bodies are read with bulkGet (below it one extra request costs more than it saves). */
const BULK_MIN_BYTES = 32 << 20;
/** Writes of one part queued at once (memory held: this many times WRITE_BYTES). */
const MAX_WRITES_IN_FLIGHT = 4;
/** Progress after which part files are rewritten, whatever the interval. */
const SAVE_BYTES = 2 << 20;
/** Spare bulkGet blocks kept per blob download (each 1 MiB). */
const SPARE_BLOCKS = 32;
/** Largest part file read (Ollama's are ~70 bytes). */
const MAX_PART_FILE_BYTES = 4096;

export interface PartPlan {
  /** A fixed part size in bytes (overrides the rule below). */
  partSize?: number;
  /** Ollama's rule: total / parts, clamped to [minPartSize, maxPartSize]. */
  parts?: number;
  minPartSize?: number;
  maxPartSize?: number;
}

/** Ollama's part size for a blob of `total` bytes (Go integer division, then the clamp). */
export function partSizeFor(total: number, plan: PartPlan = {}): number {
  if (plan.partSize !== undefined) {
    if (!Number.isSafeInteger(plan.partSize) || plan.partSize < 1) throw new RangeError(`Expected a positive integer for partSize but received ${String(plan.partSize)}`);
    return plan.partSize;
  }
  const parts = plan.parts ?? OLLAMA_PART_PLAN.parts;
  const min = plan.minPartSize ?? OLLAMA_PART_PLAN.minPartSize;
  const max = plan.maxPartSize ?? OLLAMA_PART_PLAN.maxPartSize;
  for (const [name, v] of [['parts', parts], ['minPartSize', min], ['maxPartSize', max]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`Expected a positive integer for ${name} but received ${String(v)}`);
  }
  return Math.min(max, Math.max(min, Math.floor(total / parts)));
}

/** Ollama's part record (its JSON field names and order). */
export interface DownloadPart {
  N: number;
  Offset: number;
  Size: number;
  Completed: number;
}

export function planParts(total: number, plan: PartPlan = {}): DownloadPart[] {
  const size = partSizeFor(total, plan);
  const parts: DownloadPart[] = [];
  for (let offset = 0; offset < total; offset += size) parts.push({ N: parts.length, Offset: offset, Size: Math.min(size, total - offset), Completed: 0 });
  return parts;
}

export interface BlobDownloadOptions {
  readonly client: RegistryClient;
  readonly digest: string;
  readonly size: number;
  /** blobs/sha256-<hex>. */
  readonly blobPath: string;
  readonly slots: TransferSlots;
  readonly plan: PartPlan;
  /** Aborts this blob (the pull's signal, or a sibling's failure). */
  readonly signal: AbortSignal;
  readonly onProgress: (completed: number) => void;
  /** true: read bodies with bulkGet, false: through node:http only; default: bulkGet from 32 MiB on. */
  readonly bulkTransport?: boolean;
  /** Longest time between two rewrites of the part files while bytes arrive (default 250 ms; also every 2 MiB of progress). */
  readonly saveIntervalMs?: number;
}

export interface BlobDownloadResult {
  /** Bytes received from the network by this call. */
  readonly bytesTransferred: number;
  /** Bytes a previous, interrupted pull had already stored. */
  readonly resumedBytes: number;
}

/** A response body either path delivers: bulkGet's, or node:http's behind the same face. */
type BodySource = Pick<BulkResponse, 'status' | 'headers' | 'url' | 'close' | 'pipe'>;
type NodeBodySource = BodySource & { errorBody(): Promise<Buffer>; statusError(body: Buffer): RegistryError };

const partFileName = (blobPath: string, n: number) => `${blobPath}-partial-${n}`;

/** Everything a pull left for this blob: the data file and its part files. */
async function leftovers(blobPath: string): Promise<{ data: string; partFiles: string[] }> {
  const dir = dirname(blobPath);
  const prefix = `${basename(blobPath)}-partial-`;
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return {
    data: `${blobPath}-partial`,
    partFiles: names.filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length))).map((n) => join(dir, n)),
  };
}

/** Deletes a blob's partial data and part files. */
export async function discardPartial(blobPath: string): Promise<void> {
  const { data, partFiles } = await leftovers(blobPath);
  await Promise.all([data, ...partFiles].map((p) => rm(p, { force: true })));
}

/** The saved parts, when they describe exactly this blob and its data file is there; else undefined. */
async function loadParts(blobPath: string, size: number): Promise<DownloadPart[] | undefined> {
  const { data, partFiles } = await leftovers(blobPath);
  if (partFiles.length === 0) return undefined;
  const dataSize = await open(data, 'r')
    .then(async (h) => {
      try {
        return (await h.stat()).size;
      } finally {
        await h.close();
      }
    })
    .catch(() => undefined);
  if (dataSize !== size) return undefined;
  const parts: DownloadPart[] = [];
  for (const file of partFiles) {
    let value: unknown;
    try {
      const text = await readFile(file);
      if (text.length > MAX_PART_FILE_BYTES) return undefined;
      value = JSON.parse(text.toString('utf8'));
    } catch {
      return undefined;
    }
    const p = value as Partial<DownloadPart> | null;
    const ints = [p?.N, p?.Offset, p?.Size, p?.Completed];
    if (p === null || typeof p !== 'object' || !ints.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) return undefined;
    const part = p as DownloadPart;
    if (part.Completed > part.Size || part.Size === 0) return undefined;
    parts.push({ N: part.N, Offset: part.Offset, Size: part.Size, Completed: part.Completed });
  }
  // The parts must tile [0, size) exactly, with distinct numbers matching their file names.
  parts.sort((a, b) => a.Offset - b.Offset);
  let end = 0;
  for (const part of parts) {
    if (part.Offset !== end) return undefined;
    end += part.Size;
  }
  if (end !== size || new Set(parts.map((p) => p.N)).size !== parts.length) return undefined;
  const names = new Set(partFiles.map((f) => basename(f)));
  if (!parts.every((p) => names.has(basename(partFileName(blobPath, p.N))))) return undefined;
  return parts;
}

/** Ollama's part file bytes: json.NewEncoder output of jsonBlobDownloadPart. */
function partJson(part: DownloadPart): string {
  return `{"N":${part.N},"Offset":${part.Offset},"Size":${part.Size},"Completed":${part.Completed}}\n`;
}

/**
 * Keeps part files current while bytes arrive: a part's record is rewritten once it advanced
 * SAVE_BYTES or `intervalMs` passed since its last save, so a killed pull loses at most that much.
 * The record (~70 bytes) is overwritten in place with one positioned write, synchronously: queued
 * behind the data writes in libuv's pool it would lag the progress it records, and a temp file
 * renamed over it costs ext4 a journal entry and a flush each time (over a millisecond, hundreds of
 * times per gigabyte, all on the thread that reads the sockets). A part's offset and size never
 * change and Completed only grows, so each new text is at least as long as the one it covers (the
 * first save of a run truncates, for a record some other tool wrote). A
 * record torn by a crash fails to parse and the blob starts over; the sha256 check guards the rest.
 */
class PartSaver {
  readonly #blobPath: string;
  readonly #parts: readonly DownloadPart[];
  readonly #saved = new Map<number, { completed: number; at: number }>();
  readonly #intervalMs: number;

  constructor(blobPath: string, parts: readonly DownloadPart[], intervalMs: number) {
    this.#blobPath = blobPath;
    this.#parts = parts;
    this.#intervalMs = intervalMs;
    for (const part of parts) this.#saved.set(part.N, { completed: -1, at: 0 });
  }

  /** After `part` advanced. */
  maybeSave(part: DownloadPart): void {
    const saved = this.#saved.get(part.N) as { completed: number; at: number };
    if (part.Completed - saved.completed < SAVE_BYTES && Date.now() - saved.at < this.#intervalMs) return;
    try {
      this.#write(part);
    } catch {
      /* a failed periodic save only costs resume precision; save() reports failures */
    }
  }

  /** Writes every part whose progress changed since its last save. */
  save(): void {
    for (const part of this.#parts) if (this.#saved.get(part.N)?.completed !== part.Completed) this.#write(part);
  }

  #write(part: DownloadPart): void {
    const completed = part.Completed;
    // The first save of this run truncates: a record some other tool wrote may be longer.
    const first = this.#saved.get(part.N)?.completed === -1;
    const fd = openSync(partFileName(this.#blobPath, part.N), constants.O_WRONLY | constants.O_CREAT | (first ? constants.O_TRUNC : 0), 0o644);
    try {
      writeSync(fd, partJson({ ...part, Completed: completed }), 0);
    } finally {
      closeSync(fd);
    }
    this.#saved.set(part.N, { completed, at: Date.now() });
  }
}

function parseContentRange(value: string | undefined): { first: number; last: number; total: number | undefined } | undefined {
  const match = value === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim());
  if (match === null) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first || (total !== undefined && !Number.isSafeInteger(total))) return undefined;
  return { first, last, total };
}

/** Downloads (or resumes) one blob and renames it into place once its sha256 matches. */
export async function downloadBlob(options: BlobDownloadOptions): Promise<BlobDownloadResult> {
  const { client, digest, size, blobPath, signal } = options;
  signal.throwIfAborted();
  const dataPath = `${blobPath}-partial`;
  let parts = await loadParts(blobPath, size);
  if (parts === undefined) {
    await discardPartial(blobPath);
    parts = planParts(size, options.plan);
  }
  const resumedBytes = parts.reduce((sum, p) => sum + p.Completed, 0);
  const remaining = size - resumedBytes;
  const fs = await statfs(dirname(blobPath)).catch(() => undefined);
  if (fs !== undefined && fs.bavail * fs.bsize < remaining) {
    throw new RegistryError('ERR_REGISTRY_NO_SPACE', `blob ${digest} needs ${remaining} more bytes but ${dirname(blobPath)} has ${fs.bavail * fs.bsize} free`, { digest });
  }

  const handle = await open(dataPath, resumedBytes > 0 ? 'r+' : 'w+', 0o644);
  const saver = new PartSaver(blobPath, parts, options.saveIntervalMs ?? 250);
  const hasher = createPrefixHasher(handle, dataPath, parts, size);
  // Each part's written run goes to disk as it grows, so the fsync before the rename has little left.
  const writebacks = new Map(parts.map((p) => [p, new WritebackPacer(handle.fd, p.Offset + p.Completed)]));
  const writebacksSettled = () => Promise.all([...writebacks.values()].map((w) => w.settle()));
  let transferred = 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await hasher.close();
    await writebacksSettled();
    await handle.close();
  };
  const report = () => options.onProgress(parts.reduce((sum, p) => sum + p.Completed, 0));
  try {
    if (resumedBytes === 0) {
      await handle.truncate(size); // sparse: every part writes at its own offset
      saver.save();
    }
    report();
    const url = blobUrl(client.endpoint, digest);
    const useBulk = options.bulkTransport ?? size >= BULK_MIN_BYTES;
    // Parts start in file order, as many at once as keeps raising the rate (connectionRamp.ts).
    const ramp = new ConnectionRamp({ max: Math.max(1, Math.min(parts.length, options.slots.size)) });
    const blocks = new BlockPool(SPARE_BLOCKS);
    // First failure stops the siblings, so their progress is saved and the error surfaces at once.
    const stop = new AbortController();
    const partSignal = AbortSignal.any([signal, stop.signal]);
    setMaxListeners(0, partSignal); // one listener per request in flight

    // Large blobs: the body comes over bulkGet from the URL the registry sends blob reads to
    // (found once through node:http, which also answers auth and follows redirects).
    let direct: Promise<URL | undefined> | undefined;
    const directUrl = () =>
      (direct ??= client
        .exchange({ method: 'GET', url, headers: { range: 'bytes=0-0' } }, { followRedirects: true, signal: partSignal })
        .then((response) => {
          response.release();
          return response.status === 206 || response.status === 200 ? response.url : undefined;
        })
        .catch(() => undefined));

    /** One response for [start, end], through bulkGet when it can, else node:http. */
    const openBody = async (start: number, end: number): Promise<BodySource | NodeBodySource> => {
      const range = `bytes=${start}-${end}`;
      const target = useBulk ? await directUrl() : undefined;
      if (target !== undefined) {
        const headers: Record<string, string> = { range };
        const authorization = client.authorizationFor(target);
        if (authorization !== undefined) headers.authorization = authorization;
        const bulk = await bulkGet(target, headers, { ...client.transport, signal: partSignal, blocks });
        if (bulk.status === 206 || bulk.status === 200) return bulk;
        // Expired token or storage URL, a new redirect…: node:http sorts it out, and the next part looks again.
        bulk.close();
        direct = undefined;
      }
      const response = await client.exchange({ method: 'GET', url, headers: { range } }, { followRedirects: true, signal: partSignal });
      const headers: Record<string, string> = {};
      for (const name of ['content-range', 'content-length']) {
        const value = header(response.headers, name);
        if (value !== undefined) headers[name] = value;
      }
      const source: NodeBodySource = {
        status: response.status,
        headers,
        url: response.url,
        close: () => response.release(),
        errorBody: () => readBody(response).catch(() => Buffer.alloc(0)),
        statusError: (body: Buffer) => statusError(response, body, `blob ${digest}`),
        pipe: async (consume) => {
          try {
            for await (const chunk of response.body as AsyncIterable<Buffer>) {
              response.touch();
              const result = consume(chunk);
              if (result === 'stop') break;
              if (result !== undefined) await result;
            }
          } finally {
            response.release();
          }
        },
      };
      return source;
    };

    const fetchOnce = async (part: DownloadPart): Promise<void> => {
      const start = part.Offset + part.Completed;
      const end = part.Offset + part.Size - 1;
      const source = await openBody(start, end);
      // bulkGet's blocks go back to the pool once written (node:http's chunks are not ours to reuse).
      const pooled = !('statusError' in source);
      let skip = 0;
      const contentRange = source.headers['content-range'];
      if (source.status === 206) {
        const range = parseContentRange(contentRange);
        if (range === undefined || range.first !== start || range.last > end || (range.total !== undefined && range.total !== size)) {
          source.close();
          throw new RegistryError('ERR_REGISTRY_PROTOCOL', `blob ${digest}: asked for bytes ${start}-${end} of ${size}, got Content-Range ${JSON.stringify(contentRange ?? null)}`, { digest, url: redactUrl(source.url) });
        }
      } else if (source.status === 200) {
        const length = Number(source.headers['content-length']);
        if (Number.isFinite(length) && length !== size) {
          source.close();
          throw new RegistryError('ERR_REGISTRY_PROTOCOL', `blob ${digest}: the registry sent ${length} bytes for a ${size}-byte blob`, { digest, url: redactUrl(source.url) });
        }
        skip = start; // no range support: read past what we have
      } else if ('statusError' in source) {
        throw source.statusError(await source.errorBody());
      } else {
        source.close();
        throw new RegistryError('ERR_REGISTRY_HTTP', `blob ${digest}: HTTP ${source.status}`, { status: source.status, digest, url: redactUrl(source.url) });
      }
      const want = end - start + 1;
      let got = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // Writes go out without waiting for the previous one (their positions are explicit), so the
      // socket keeps being read while the disk works; Completed advances in order as they finish.
      const writes: Array<Promise<void>> = [];
      let writeAt = start;
      const issue = () => {
        if (pendingBytes === 0) return;
        const chunks = pending;
        const length = pendingBytes;
        const position = writeAt;
        pending = [];
        pendingBytes = 0;
        writeAt += length;
        const previous = writes.at(-1);
        // One buffer, written in 64 KiB pieces (lib/pieceWrite.ts): bulkGet's blocks come whole, node:http's are joined.
        const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
        if (pooled && chunks.length > 1) for (const chunk of chunks) blocks.give(chunk);
        const written = writeAllAt(handle, bytes, position);
        const done = Promise.all([previous, written]).then(() => {
          part.Completed += length;
          writebacks.get(part)?.advance(part.Offset + part.Completed);
          hasher.written(position, [bytes], length);
          if (pooled) blocks.give(bytes);
          ramp.transferred(length);
          report();
          saver.maybeSave(part);
        });
        done.catch(() => undefined); // observed when awaited below
        writes.push(done);
      };
      /** Waits for every write; a failed write (ENOSPC…) wins over `cause`. */
      const settleWrites = async (cause?: unknown) => {
        issue();
        const results = await Promise.allSettled(writes.splice(0));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        if (cause !== undefined) throw cause;
      };
      const consume = (raw: Buffer): void | Promise<void> | 'stop' => {
        let chunk = raw;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
        }
        // More than asked for (a 200 without range support, or a server overrunning its range): stop there.
        const overrun = chunk.length > want - got;
        if (overrun) chunk = chunk.subarray(0, want - got);
        if (chunk.length > 0) {
          got += chunk.length;
          transferred += chunk.length;
          pending.push(chunk);
          pendingBytes += chunk.length;
        }
        const stop = overrun || (got >= want && source.status !== 206);
        if (pendingBytes >= WRITE_BYTES || stop) issue();
        if (stop) return 'stop';
        if (writes.length > MAX_WRITES_IN_FLIGHT) return writes.shift();
        return undefined;
      };
      try {
        await source.pipe(consume);
      } catch (error) {
        // Bytes that arrived before the connection failed are good: keep them for the next attempt.
        await settleWrites(error);
      }
      await settleWrites();
      if (got < want) {
        throw new RegistryError('ERR_REGISTRY_NETWORK', `blob ${digest}: response ended after ${got} of ${want} bytes`, { digest, url: redactUrl(url) });
      }
    };

    const runPart = async (part: DownloadPart): Promise<void> => {
      for (let failures = 0; part.Completed < part.Size; ) {
        partSignal.throwIfAborted();
        const before = part.Completed;
        try {
          await options.slots.run(() => fetchOnce(part), partSignal);
        } catch (error) {
          if (partSignal.aborted) throw partSignal.reason;
          if (!isTransient(error)) throw error;
          // A step that moved bytes starts its retry budget afresh (a slow link is not a dead one).
          if (part.Completed > before) failures = 0;
          if (++failures > client.policy.retries) throw gaveUp(error, failures);
          try {
            saver.save();
          } catch {
            /* resume precision only */
          }
          await client.backoff(failures, error, partSignal);
        }
      }
    };

    const results = await Promise.allSettled(
      parts.map((part) =>
        ramp.run(() => runPart(part), partSignal).catch((error: unknown) => {
          stop.abort(error);
          throw error;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      try {
        saver.save();
      } catch {
        /* resume precision only */
      }
      // The first error is the cause; siblings only report having been stopped by it.
      throw signal.aborted ? signal.reason : stop.signal.reason ?? failed.reason;
    }
    saver.save();
    // The flush to disk runs while the hash finishes (a mismatch deletes the file anyway).
    const [actual] = await Promise.all([hasher.digest(size), writebacksSettled().then(() => handle.sync())]);
    if (actual !== digest.toLowerCase().replace(/^sha256-/, 'sha256:')) {
      await close();
      await discardPartial(blobPath);
      throw new RegistryError('ERR_REGISTRY_DIGEST_MISMATCH', `digest mismatch, file must be downloaded again: want ${digest}, got ${actual}`, { digest, expected: digest, actual });
    }
    await close();
    await rename(dataPath, blobPath);
    await syncDir(dirname(blobPath));
    const { partFiles } = await leftovers(blobPath);
    await Promise.all(partFiles.map((p) => rm(p, { force: true })));
    return { bytesTransferred: transferred, resumedBytes };
  } finally {
    await close().catch(() => undefined);
  }
}
