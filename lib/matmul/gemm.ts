// f32 matrix multiply through the native GEMM kernels (cpp/matmul): C = alpha·op(A)·op(B) + beta·C,
// dense row-major. LoRA merging is the first user: W[out×in] += s · B[out×r] · A[r×in] is
// gemm(B, A, { m: out, n: in, k: r, c: W, alpha: s }).
// Every argument is checked here, before any native work (the addon checks lengths again).
import { loadNative, type NativeAddon } from '../native.js';
import { invalidArgument } from '../argumentError.js';
import { callSync, planNativeJob } from '../nativeCall.js';

export interface GemmSyncOptions {
  /** Rows of op(A) and of C. */
  m: number;
  /** Columns of op(B) and of C. */
  n: number;
  /** Columns of op(A), rows of op(B): the length of each dot product. */
  k: number;
  /**
   * C, m×n, updated in place and returned (it must not share memory with a or b). Without it a
   * new zeroed array is returned.
   */
  c?: Float32Array;
  /** Scale of the product (default 1; rounded to f32 like beta). 0 leaves A and B unread, as in BLAS. */
  alpha?: number;
  /**
   * Scale of C's old values: default 1 when `c` is given (C += alpha·op(A)·op(B)), else 0. With 0,
   * C is written without being read, so NaNs in it do not survive. Only 0 is allowed without `c`.
   */
  beta?: number;
  /** `a` holds A transposed (k×m), so op(A) = Aᵀ. */
  transA?: boolean;
  /** `b` holds B transposed (n×k), so op(B) = Bᵀ. */
  transB?: boolean;
  /** Threads to split C over (default: the native pool size). The result never depends on it. */
  threads?: number;
}

export interface GemmOptions extends GemmSyncOptions {
  /**
   * Stops the job before its next block of C; the promise then rejects with `signal.reason` and
   * a given `c` is left partly updated.
   */
  signal?: AbortSignal;
}

/** The codes of the TypeError / RangeError thrown for bad arguments (Node's own codes). */
export type GemmArgumentErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE';

interface GemmPlan {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  threads: number;
}

function fail(ErrorType: typeof TypeError | typeof RangeError, code: GemmArgumentErrorCode, what: string, name: string, value: unknown): never {
  return invalidArgument(ErrorType, what, name, value, code);
}

function dimension(value: unknown, name: string): number {
  if (typeof value !== 'number') fail(TypeError, 'ERR_INVALID_ARG_TYPE', 'an integer >= 0', name, value);
  if (!Number.isSafeInteger(value) || value < 0) fail(RangeError, 'ERR_OUT_OF_RANGE', 'an integer >= 0', name, value);
  return value;
}

function matrix(value: unknown, name: string, rows: number, cols: number, shape: string): Float32Array {
  if (!(value instanceof Float32Array)) fail(TypeError, 'ERR_INVALID_ARG_TYPE', 'a Float32Array', name, value);
  const length = rows * cols;
  if (!Number.isSafeInteger(length)) fail(RangeError, 'ERR_OUT_OF_RANGE', `${shape} below 2^53 elements`, name, value);
  if (value.length !== length) fail(RangeError, 'ERR_OUT_OF_RANGE', `a Float32Array of ${length} elements (${shape})`, name, value);
  return value;
}

function scalar(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') fail(TypeError, 'ERR_INVALID_ARG_TYPE', 'a finite number', name, value);
  if (!Number.isFinite(value)) fail(RangeError, 'ERR_OUT_OF_RANGE', 'a finite number', name, value);
  return value;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(TypeError, 'ERR_INVALID_ARG_TYPE', 'a boolean', name, value);
  return value;
}

function sharesMemory(x: Float32Array, y: Float32Array): boolean {
  if (x.buffer !== y.buffer || x.byteLength === 0 || y.byteLength === 0) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

function newMatrix(m: number, n: number): Float32Array {
  try {
    return new Float32Array(m * n);
  } catch {
    return fail(RangeError, 'ERR_OUT_OF_RANGE', `an m×n that fits in one Float32Array (or a c)`, 'm×n', `${m}×${n}`);
  }
}

function planGemm(a: unknown, b: unknown, options: unknown): GemmPlan {
  if (typeof options !== 'object' || options === null) fail(TypeError, 'ERR_INVALID_ARG_TYPE', 'an options object with m, n and k', 'options', options);
  const o = options as GemmOptions;
  const m = dimension(o.m, 'm');
  const n = dimension(o.n, 'n');
  const k = dimension(o.k, 'k');
  const transA = flag(o.transA, 'transA');
  const transB = flag(o.transB, 'transB');
  const A = matrix(a, 'a', m, k, transA ? `k×m = ${k}×${m}, transA` : `m×k = ${m}×${k}`);
  const B = matrix(b, 'b', k, n, transB ? `n×k = ${n}×${k}, transB` : `k×n = ${k}×${n}`);
  let c: Float32Array;
  let beta: number;
  if (o.c === undefined) {
    beta = scalar(o.beta, 'beta', 0);
    if (beta !== 0) fail(RangeError, 'ERR_OUT_OF_RANGE', '0 or no beta when no c is given', 'beta', o.beta);
    c = newMatrix(m, n);
  } else {
    c = matrix(o.c, 'c', m, n, `m×n = ${m}×${n}`);
    beta = scalar(o.beta, 'beta', 1);
    if (sharesMemory(c, A) || sharesMemory(c, B)) fail(RangeError, 'ERR_INVALID_ARG_VALUE', 'a Float32Array that shares no memory with a or b', 'c', c);
  }
  const alpha = scalar(o.alpha, 'alpha', 1);
  const threads = o.threads === undefined ? 0 : dimension(o.threads, 'threads');
  return { a: A, b: B, c, m, n, k, transA, transB, alpha, beta, threads };
}

function runSync(native: NativeAddon, p: GemmPlan): Float32Array {
  native.gemmSync(p.a, p.b, p.c, p.m, p.n, p.k, p.transA, p.transB, p.alpha, p.beta, p.threads);
  return p.c;
}

/**
 * C = alpha·op(A)·op(B) + beta·C on the JS thread (the pool still splits the work), returning C.
 * Meant for small products; use gemm() otherwise. Each element is within about k·2⁻²⁴ (relative
 * to the sum of absolute products) of the exact result.
 */
export function gemmSync(a: Float32Array, b: Float32Array, options: GemmSyncOptions): Float32Array {
  const plan = planGemm(a, b, options);
  const native = loadNative();
  return callSync(new Error(), () => runSync(native, plan));
}

/**
 * C = alpha·op(A)·op(B) + beta·C off the JS thread; resolves with C (the given `c`, updated in
 * place, or a new array). Bad arguments reject with a TypeError or RangeError (with `code`) before
 * any native work; an abort rejects with `signal.reason`. The arrays must not be modified until
 * the promise settles.
 */
export function gemm(a: Float32Array, b: Float32Array, options: GemmOptions): Promise<Float32Array> {
  return planNativeJob(
    new Error(),
    options,
    () => planGemm(a, b, options),
    (p, done) => loadNative().gemmAsync(p.a, p.b, p.c, p.m, p.n, p.k, p.transA, p.transB, p.alpha, p.beta, p.threads, done),
    (p) => p.c,
  );
}
