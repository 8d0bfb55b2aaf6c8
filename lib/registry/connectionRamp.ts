// How many parts of one blob download at once. Ollama opens all of them (up to 16) from the start;
// over a slow or distant link that is what fills the pipe, but where one connection already moves
// bytes as fast as this machine can take them (loopback, a LAN, a registry next door), the extra
// connections only split the same bandwidth across the file. The blob's sha256 can only advance over
// the contiguous prefix, so with every part running at once nearly all of the hashing waits until the
// last part lands. The ramp starts with one connection and doubles while each doubling still raises
// the measured rate, like TCP's slow start; once a doubling gains nothing it steps back. A link whose
// rate dipped just then is not held to that width for good: every few seconds it tries one doubling
// again. Parts start in file order, so the written prefix (and the hash) follows the transfer closely.
import { TransferSlots } from './slots.js';

export interface ConnectionRampOptions {
  /** Most parts at once (the pull's concurrency). */
  readonly max: number;
  /** Length of one rate measurement (default 250 ms). */
  readonly windowMs?: number;
  /** A doubling is kept when the rate grew by more than this factor (default 1.15). */
  readonly gain?: number;
  /** Windows spent at a settled width before one more doubling is tried (default 20, 5 s). */
  readonly probeAfterWindows?: number;
  /** Clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

export class ConnectionRamp {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #gain: number;
  readonly #probeAfter: number;
  readonly #now: () => number;
  readonly #slots = new TransferSlots(1);
  /** Measuring whether the last doubling paid off; else settled for `#settledWindows` windows. */
  #growing: boolean;
  #settledWindows = 0;
  #windowStart: number | undefined;
  #windowBytes = 0;
  #lastRate: number | undefined;
  #previousWidth = 1;

  constructor(options: ConnectionRampOptions) {
    if (!Number.isSafeInteger(options.max) || options.max < 1) throw new RangeError(`Expected a positive integer for max but received ${String(options.max)}`);
    this.#max = options.max;
    this.#windowMs = options.windowMs ?? 250;
    this.#gain = options.gain ?? 1.15;
    this.#probeAfter = options.probeAfterWindows ?? 20;
    this.#now = options.now ?? (() => performance.now());
    this.#growing = this.#max > 1;
  }

  /** Parts allowed at once now. */
  get width(): number {
    return this.#slots.size;
  }

  /** Runs `task` once fewer than `width` tasks run; tasks start in call order. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#slots.run(task, signal);
  }

  /** `bytes` of the blob arrived. */
  transferred(bytes: number): void {
    if (this.#max === 1) return;
    const now = this.#now();
    // The first window opens with the first byte: connection set-up is not part of any rate.
    if (this.#windowStart === undefined) {
      this.#windowStart = now;
      return;
    }
    this.#windowBytes += bytes;
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#windowMs) return;
    const rate = this.#windowBytes / elapsed;
    this.#windowStart = now;
    this.#windowBytes = 0;
    if (!this.#growing) {
      // Settled: after a while, try one more doubling against the rate of now.
      if (this.width === this.#max || ++this.#settledWindows < this.#probeAfter) return;
      this.#lastRate = rate;
      this.#double();
    } else if (this.#lastRate === undefined || rate > this.#lastRate * this.#gain) {
      this.#lastRate = rate;
      // At the cap the doubling that got here paid off: nothing left to try.
      if (this.width === this.#max) this.#settle(this.width);
      else this.#double();
    } else {
      // The last doubling bought nothing: go back to the width that earned the best rate.
      this.#settle(this.#previousWidth);
    }
  }

  #double(): void {
    this.#growing = true;
    this.#previousWidth = this.width;
    this.#slots.resize(Math.min(this.#max, this.width * 2));
  }

  #settle(width: number): void {
    this.#growing = false;
    this.#settledWindows = 0;
    this.#slots.resize(width);
  }
}
