// AVX2 + F16C row converters. Compiled with -mavx2 -mfma -mf16c; only reached through the
// dispatch table after cpuid/XGETBV said the CPU and OS can run them.
#include <immintrin.h>

#include "core/fp16.h"
#include "core/isa.h"

namespace gguf_forge {
namespace {

// vcvtps2ph keeps a NaN's payload (and quiets it), ggml drops it: replace every NaN lane by the
// payload-free quiet NaN of the same sign, which converts to sign|0x7E00 exactly like ggml.
inline __m256 canonicalize_nan(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i is_nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
  const __m256i quiet = _mm256_or_si256(_mm256_andnot_si256(_mm256_set1_epi32(0x7FFFFFFF), u),
                                        _mm256_set1_epi32(0x7FC00000));
  return _mm256_castsi256_ps(_mm256_blendv_epi8(u, quiet, is_nan));
}

void fp32_to_fp16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = canonicalize_nan(_mm256_loadu_ps(src + i));
    const __m256 b = canonicalize_nan(_mm256_loadu_ps(src + i + 8));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 8), _mm256_cvtps_ph(b, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = canonicalize_nan(_mm256_loadu_ps(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

void fp16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 8));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(a));
    _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(b));
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

// Integer RNE exactly as ggml_compute_fp32_to_bf16 (vcvtneps2bf16 would flush subnormals).
inline __m256i fp32_to_bf16_x8(__m256i u) {
  const __m256i hi = _mm256_srli_epi32(u, 16);
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i is_nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
  const __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), _mm256_and_si256(hi, _mm256_set1_epi32(1)));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
  const __m256i quiet = _mm256_or_si256(hi, _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rounded, quiet, is_nan);  // every lane now holds a value <= 0xFFFF
}

void fp32_to_bf16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = fp32_to_bf16_x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    const __m256i b = fp32_to_bf16_x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 8)));
    // packus works per 128-bit lane: a0 b0 a1 b1 -> reorder the 64-bit quarters to a0 a1 b0 b1.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256i a = fp32_to_bf16_x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), packed);
  }
  for (; i < n; ++i) dst[i] = fp32_to_bf16(src[i]);
}

void bf16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(w, 16));
  }
  for (; i < n; ++i) dst[i] = bf16_to_fp32(src[i]);
}

}  // namespace

void register_fp16_avx2(KernelTable& table) {
  table.fp32_to_fp16_row = fp32_to_fp16_row;
  table.fp16_to_fp32_row = fp16_to_fp32_row;
  table.fp32_to_bf16_row = fp32_to_bf16_row;
  table.bf16_to_fp32_row = bf16_to_fp32_row;
}

}  // namespace gguf_forge
