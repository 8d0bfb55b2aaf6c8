// fp32 <-> fp16 / bf16 row conversion through the native kernels (bit-exact with ggml's row
// converters: round-to-nearest-even, subnormals kept, NaN handled as ggml does).
import { loadNative } from '../native.js';

export interface ConvertOptions {
  /** Worker threads for large inputs (default: the native pool size). Output never depends on it. */
  threads?: number;
}

function threadsOption(options: ConvertOptions | undefined): number {
  const threads = options?.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) {
    throw new RangeError(`Expected a non-negative integer for threads but received ${threads} of type ${typeof threads}`);
  }
  return threads;
}

function expect<T>(value: unknown, ctor: { new (...args: never[]): T; name: string }, name: string): T {
  if (!(value instanceof ctor)) {
    throw new TypeError(`Expected a ${ctor.name} for ${name} but received ${String(value)} of type ${typeof value}`);
  }
  return value;
}

/** IEEE binary16 bit patterns of `src`, as ggml_fp32_to_fp16_row gives them. */
export function fp32ToFp16(src: Float32Array, options?: ConvertOptions): Uint16Array {
  expect(src, Float32Array, 'src');
  const dst = new Uint16Array(src.length);
  loadNative().fp32ToFp16(src, dst, threadsOption(options));
  return dst;
}

/** Exact float32 values of binary16 bit patterns. */
export function fp16ToFp32(src: Uint16Array, options?: ConvertOptions): Float32Array {
  expect(src, Uint16Array, 'src');
  const dst = new Float32Array(src.length);
  loadNative().fp16ToFp32(src, dst, threadsOption(options));
  return dst;
}

/** bfloat16 bit patterns of `src`, as ggml_fp32_to_bf16_row_ref gives them. */
export function fp32ToBf16(src: Float32Array, options?: ConvertOptions): Uint16Array {
  expect(src, Float32Array, 'src');
  const dst = new Uint16Array(src.length);
  loadNative().fp32ToBf16(src, dst, threadsOption(options));
  return dst;
}

/** Exact float32 values of bfloat16 bit patterns. */
export function bf16ToFp32(src: Uint16Array, options?: ConvertOptions): Float32Array {
  expect(src, Uint16Array, 'src');
  const dst = new Float32Array(src.length);
  loadNative().bf16ToFp32(src, dst, threadsOption(options));
  return dst;
}
