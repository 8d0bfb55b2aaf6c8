// Tensor quantization and dequantization through the native kernels: the bytes ggml_quantize_chunk
// writes and the floats ggml's dequantize_row_* reads back, for every type in typeInfo.ts.
// Every argument is checked here, before any native work (the addon checks lengths again).
import { loadNative, type NativeAddon } from '../native.js';
import { invalidArgument } from '../argumentError.js';
import { callSync, planNativeJob } from '../nativeCall.js';
import {
  SOURCE_TYPE_NAMES,
  quantizedByteLength,
  resolveQuantType,
  type QuantTypeInfo,
  type QuantTypeName,
  type SourceTypeName,
} from './typeInfo.js';

/** A tensor type, by name (case-insensitive) or ggml id. */
export type QuantTypeArg = QuantTypeName | Lowercase<QuantTypeName> | (string & {}) | number;

/**
 * Source elements, row-major (`rows` rows of `cols`): a Float32Array (F32), a Uint16Array of F16
 * or BF16 bits (sourceType required), or a Uint8Array of raw little-endian elements of
 * `sourceType` at any alignment (a view of a mapped file, for instance).
 */
export type QuantizeSource = Float32Array | Uint16Array | Uint8Array;

export interface QuantizeSyncOptions {
  rows: number;
  /** Row length; a multiple of the target type's block size (32, or 256 for k-quants and IQ4_XS). */
  cols: number;
  /** Element type of the source: F32 (default for Float32Array and Uint8Array), F16 or BF16. */
  sourceType?: SourceTypeName | Lowercase<SourceTypeName> | number;
  /** Importance matrix: one non-negative weight per column, the same for every row (llama-imatrix). */
  imatrix?: Float32Array | null;
  /** Threads to split rows over (default: the native pool size). The bytes never depend on it. */
  threads?: number;
  /**
   * Write into this buffer (exactly the output's length, not overlapping the source) instead of a new
   * one, e.g. to reuse two buffers across the row chunks of a large tensor. It is what resolves.
   */
  output?: Uint8Array;
}

export interface QuantizeOptions extends QuantizeSyncOptions {
  /** Stops the job before its next row chunk; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

export interface DequantizeOptions {
  /** Threads to split blocks over (default: the native pool size). */
  threads?: number;
}

interface QuantizePlan {
  type: QuantTypeInfo;
  sourceType: number;
  source: QuantizeSource;
  rows: number;
  cols: number;
  imatrix: Float32Array | null;
  threads: number;
  dst: Uint8Array;
}

function fail(ErrorType: typeof TypeError | typeof RangeError, what: string, name: string, value: unknown): never {
  return invalidArgument(ErrorType, what, name, value);
}

function integerOption(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number') fail(TypeError, `an integer >= ${min}`, name, value);
  if (!Number.isSafeInteger(value) || value < min) fail(RangeError, `an integer >= ${min}`, name, value);
  return value;
}

function threadsOption(value: unknown): number {
  return value === undefined ? 0 : integerOption(value, 'threads', 0);
}

function sourceTypeOf(source: unknown, sourceType: unknown): number {
  if (!(source instanceof Float32Array || source instanceof Uint16Array || source instanceof Uint8Array)) {
    fail(TypeError, 'a Float32Array, Uint16Array or Uint8Array', 'source', source);
  }
  if (sourceType === undefined) {
    if (source instanceof Uint16Array) fail(TypeError, "'F16' or 'BF16' (the bits a Uint16Array source holds)", 'sourceType', sourceType);
    return 0;
  }
  const info = resolveQuantType(sourceType, 'sourceType', SOURCE_TYPE_NAMES);
  if (source instanceof Float32Array && info.name !== 'F32') fail(TypeError, "'F32' (or no sourceType) for a Float32Array source", 'sourceType', sourceType);
  if (source instanceof Uint16Array && info.name === 'F32') fail(TypeError, "'F16' or 'BF16' for a Uint16Array source", 'sourceType', sourceType);
  return info.id;
}

function planQuantize(typeArg: unknown, source: unknown, options: unknown): QuantizePlan {
  const type = resolveQuantType(typeArg);
  if (typeof options !== 'object' || options === null) fail(TypeError, 'an options object with rows and cols', 'options', options);
  const o = options as QuantizeOptions;
  const sourceType = sourceTypeOf(source, o.sourceType);
  const src = source as QuantizeSource;
  const rows = integerOption(o.rows, 'rows', 0);
  const cols = integerOption(o.cols, 'cols', 1);
  if (cols % type.blockSize !== 0) fail(RangeError, `a multiple of ${type.blockSize} (the ${type.name} block size)`, 'cols', cols);
  const elements = rows * cols;
  if (!Number.isSafeInteger(elements)) fail(RangeError, 'rows * cols below 2^53', 'rows', rows);
  const elementBytes = sourceType === 0 ? 4 : 2;
  if (src.byteLength !== elements * elementBytes) {
    fail(RangeError, `${elements * elementBytes} bytes (${rows} rows × ${cols} cols × ${elementBytes}) of source data`, 'source', src);
  }
  let imatrix: Float32Array | null = null;
  if (o.imatrix !== undefined && o.imatrix !== null) {
    if (!(o.imatrix instanceof Float32Array)) fail(TypeError, 'a Float32Array or null', 'imatrix', o.imatrix);
    if (o.imatrix.length !== cols) fail(RangeError, `a Float32Array of ${cols} weights (one per column)`, 'imatrix', o.imatrix);
    imatrix = o.imatrix;
  }
  const threads = threadsOption(o.threads);
  const outputBytes = quantizedByteLength(type, rows, cols);
  let dst: Uint8Array;
  if (o.output === undefined) dst = new Uint8Array(outputBytes);
  else {
    if (!(o.output instanceof Uint8Array)) fail(TypeError, 'a Uint8Array', 'output', o.output);
    if (o.output.length !== outputBytes) fail(RangeError, `a Uint8Array of exactly ${outputBytes} bytes`, 'output', o.output);
    if (o.output.buffer === src.buffer && o.output.byteOffset < src.byteOffset + src.byteLength && src.byteOffset < o.output.byteOffset + o.output.byteLength) {
      fail(RangeError, 'a buffer that does not overlap the source', 'output', o.output);
    }
    dst = o.output;
  }
  return { type, sourceType, source: src, rows, cols, imatrix, threads, dst };
}

function runSync(native: NativeAddon, p: QuantizePlan): Uint8Array {
  native.quantizeSync(p.type.id, p.source, p.sourceType, p.dst, p.rows, p.cols, p.imatrix, p.threads);
  return p.dst;
}

/**
 * Quantizes `rows` rows of `cols` weights into `type` on the JS thread and returns the tensor
 * bytes, identical to ggml_quantize_chunk's. Meant for small tensors; use quantize() otherwise.
 */
export function quantizeSync(type: QuantTypeArg, source: QuantizeSource, options: QuantizeSyncOptions): Uint8Array {
  const plan = planQuantize(type, source, options);
  const native = loadNative();
  return callSync(new Error(), () => runSync(native, plan));
}

/**
 * Quantizes `rows` rows of `cols` weights into `type` off the JS thread; resolves with the tensor
 * bytes, identical to ggml_quantize_chunk's (with the same imatrix). Bad arguments reject with a
 * TypeError or RangeError before any native work; an abort rejects with `signal.reason`. The
 * source and imatrix must not be modified until the promise settles.
 */
export function quantize(type: QuantTypeArg, source: QuantizeSource, options: QuantizeOptions): Promise<Uint8Array> {
  return planNativeJob(
    new Error(),
    options,
    () => planQuantize(type, source, options),
    (p, done) => loadNative().quantizeAsync(p.type.id, p.source, p.sourceType, p.dst, p.rows, p.cols, p.imatrix, p.threads, done),
    (p) => p.dst,
  );
}

/** Weights of `count` (whole blocks) `type` values in `bytes`, as ggml's dequantize_row_* gives them. */
export function dequantize(type: QuantTypeArg, bytes: Uint8Array, count: number, options?: DequantizeOptions): Float32Array {
  const info = resolveQuantType(type);
  if (!(bytes instanceof Uint8Array)) fail(TypeError, 'a Uint8Array', 'bytes', bytes);
  integerOption(count, 'count', 0);
  if (count % info.blockSize !== 0) fail(RangeError, `a multiple of ${info.blockSize} (the ${info.name} block size)`, 'count', count);
  const byteLength = quantizedByteLength(info, 1, count);
  if (bytes.byteLength !== byteLength) fail(RangeError, `${byteLength} bytes (${count} ${info.name} weights)`, 'bytes', bytes);
  const threads = threadsOption(options?.threads);
  const native = loadNative();
  const out = new Float32Array(count);
  callSync(new Error(), () => native.dequantize(info.id, bytes, out, count, threads));
  return out;
}
