import { setMaxListeners } from 'node:events';
import type { PartPlan } from './blobDownload.js';
// A counting semaphore: at most `size` transfers (HTTP exchanges with a body) at once, shared by
// every blob of a pull or push, so "16 connections" means 16 however many blobs there are.
// Waiters are served in call order.
export class TransferSlots {
  #size: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#size = TransferSlots.#checked(size);
  }

  static #checked(size: number): number {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`Expected a positive integer for concurrency but received ${String(size)}`);
    return size;
  }

  get size(): number {
    return this.#size;
  }

  /** Changes the limit; tasks already running go on, waiters start while there is room. */
  resize(size: number): void {
    this.#size = TransferSlots.#checked(size);
    this.#pump();
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#busy < this.#size && this.#waiting.length === 0) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#busy++;
        resolve();
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #release(): void {
    this.#busy--;
    this.#pump();
  }

  #pump(): void {
    while (this.#busy < this.#size) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      next();
    }
  }
}

/** What each blob transfer of one pull or push shares. */
export interface BlobTransferContext {
  readonly slots: TransferSlots;
  readonly plan: PartPlan;
  /** Aborted by the caller's signal or by the first blob that fails. */
  readonly signal: AbortSignal;
}

/**
 * Transfers every blob at once over `concurrency` shared slots. The first failure stops the
 * others and is thrown (the caller's abort reason when it aborted), after every blob has settled,
 * so no transfer is still writing when this returns.
 */
export async function transferBlobs<B, R>(
  blobs: readonly B[],
  options: PartPlan & { concurrency: number; signal: AbortSignal | undefined },
  transfer: (blob: B, context: BlobTransferContext) => Promise<R>,
): Promise<R[]> {
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  setMaxListeners(0, signal); // one listener per transfer in flight
  const context: BlobTransferContext = {
    slots: new TransferSlots(options.concurrency),
    plan: {
      ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
      ...(options.parts === undefined ? {} : { parts: options.parts }),
      ...(options.minPartSize === undefined ? {} : { minPartSize: options.minPartSize }),
      ...(options.maxPartSize === undefined ? {} : { maxPartSize: options.maxPartSize }),
    },
    signal,
  };
  const settled = await Promise.allSettled(
    blobs.map((blob) =>
      transfer(blob, context).catch((error: unknown) => {
        stop.abort(error);
        throw error;
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw options.signal?.aborted ? options.signal.reason : (stop.signal.reason ?? failed.reason);
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}
