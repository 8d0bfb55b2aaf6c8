// ggml's own quantizers and dequantizers (libggml-base.so, through koffi): ggml_quantize_chunk,
// the path llama-quantize takes, and each type's to_float from ggml_get_type_traits.
import { loadGgmlBase } from './ggmlLibrary.js';

export interface GgmlQuantize {
  version: string;
  /** ggml_quantize_chunk(type, src, dst, 0, rows, cols, imatrix); returns the bytes written. */
  quantizeChunk(type: number, src: Float32Array, dst: Uint8Array, rows: number, cols: number, imatrix: Float32Array | null): number;
  /** ggml_get_type_traits(type)->to_float over `count` weights (a copy for F32, whose to_float is null). */
  toFloat(type: number, src: Uint8Array, dst: Float32Array, count: number): void;
  /** ggml_get_type_traits(type): block size and bytes per block. */
  traits(type: number): { blockSize: number; typeSize: number };
}

let cached: GgmlQuantize | null | undefined;

/** Null when the reference library cannot be loaded (see referenceUnavailableReason()). */
export function loadGgmlQuantize(): GgmlQuantize | null {
  if (cached !== undefined) return cached;
  const ref = loadGgmlBase();
  if (!ref) return (cached = null);
  const { koffi, lib } = ref;
  const quantizeChunk = lib.func(
    'size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)',
  );
  const quantizeInit = lib.func('void ggml_quantize_init(int type)');
  const TypeTraits = koffi.struct('gguf_forge_ggml_type_traits', {
    type_name: 'const char *',
    blck_size: 'int64_t',
    blck_size_interleave: 'int64_t',
    type_size: 'size_t',
    is_quantized: 'bool',
    to_float: 'void *',
    from_float_ref: 'void *',
  });
  const getTypeTraits = lib.func('ggml_get_type_traits', koffi.pointer(TypeTraits), ['int']);
  const ToFloat = koffi.proto('void gguf_forge_ggml_to_float_t(const void *x, float *y, int64_t k)');
  type Traits = { blck_size: number | bigint; type_size: number | bigint; to_float: unknown };
  const traitsCache = new Map<number, Traits>();
  const traitsOf = (type: number): Traits => {
    let t = traitsCache.get(type);
    if (!t) {
      quantizeInit(type);
      t = koffi.decode(getTypeTraits(type), TypeTraits) as Traits;
      traitsCache.set(type, t);
    }
    return t;
  };
  cached = {
    version: ref.version,
    quantizeChunk(type, src, dst, rows, cols, imatrix) {
      traitsOf(type);
      return Number(quantizeChunk(type, src, dst, 0, rows, cols, imatrix));
    },
    toFloat(type, src, dst, count) {
      const t = traitsOf(type);
      if (dst.length < count) throw new RangeError(`toFloat: dst has ${dst.length} floats, ${count} needed`);
      if (t.to_float === null) {
        new Uint8Array(dst.buffer, dst.byteOffset, count * 4).set(src.subarray(0, count * 4));
        return;
      }
      koffi.call(t.to_float, ToFloat, src, dst, count);
    },
    traits(type) {
      const t = traitsOf(type);
      return { blockSize: Number(t.blck_size), typeSize: Number(t.type_size) };
    },
  };
  return cached;
}
