// ggml's own fp16/bf16 row converters (libggml-base.so, through koffi): the reference for
// cpp/core/fp16*. ggml_bf16_t is `struct { uint16_t bits; }`, so its rows are uint16_t arrays.
import { loadGgmlBase } from './ggmlLibrary.js';

export interface GgmlHalfFloat {
  /** ggml version string of the loaded library. */
  version: string;
  fp16ToFp32Row(src: Uint16Array, dst: Float32Array): void;
  fp32ToFp16Row(src: Float32Array, dst: Uint16Array): void;
  /** ggml_fp32_to_bf16_row_ref: the scalar reference (ggml_fp32_to_bf16_row may flush subnormals on AVX512-BF16 builds). */
  fp32ToBf16RowRef(src: Float32Array, dst: Uint16Array): void;
  bf16ToFp32Row(src: Uint16Array, dst: Float32Array): void;
}

let cached: GgmlHalfFloat | null | undefined;

/** Null when the reference library cannot be loaded (see referenceUnavailableReason()). */
export function loadGgmlHalfFloat(): GgmlHalfFloat | null {
  if (cached !== undefined) return cached;
  const ref = loadGgmlBase();
  if (!ref) return (cached = null);
  const { lib } = ref;
  // koffi passes typed arrays to pointer parameters as pointers to their memory (no copy), so
  // the outputs are written in place.
  const fp16ToFp32 = lib.func('void ggml_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n)');
  const fp32ToFp16 = lib.func('void ggml_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n)');
  const fp32ToBf16Ref = lib.func('void ggml_fp32_to_bf16_row_ref(const float *x, uint16_t *y, int64_t n)');
  const bf16ToFp32 = lib.func('void ggml_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n)');
  const checkLength = (name: string, src: { length: number }, dst: { length: number }) => {
    if (dst.length < src.length) throw new RangeError(`${name}: dst has ${dst.length} elements, src ${src.length}`);
  };
  cached = {
    version: ref.version,
    fp16ToFp32Row(src, dst) {
      checkLength('ggml_fp16_to_fp32_row', src, dst);
      fp16ToFp32(src, dst, src.length);
    },
    fp32ToFp16Row(src, dst) {
      checkLength('ggml_fp32_to_fp16_row', src, dst);
      fp32ToFp16(src, dst, src.length);
    },
    fp32ToBf16RowRef(src, dst) {
      checkLength('ggml_fp32_to_bf16_row_ref', src, dst);
      fp32ToBf16Ref(src, dst, src.length);
    },
    bf16ToFp32Row(src, dst) {
      checkLength('ggml_bf16_to_fp32_row', src, dst);
      bf16ToFp32(src, dst, src.length);
    },
  };
  return cached;
}
