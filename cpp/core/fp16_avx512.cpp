// AVX-512 (F/BW/VL) row converters; the tail uses masked loads and stores instead of a scalar loop.
// GCC 12 reports a false -Wmaybe-uninitialized inside avx512fintrin.h for the _mm512_*
// intrinsics that pass an undefined vector as the pass-through operand.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "core/fp16.h"
#include "core/isa.h"

namespace gguf_forge {
namespace {

inline __mmask16 tail_mask(size_t remaining) { return static_cast<__mmask16>((1u << remaining) - 1); }

// See fp16_avx2.cpp: vcvtps2ph keeps NaN payloads, ggml writes sign|0x7E00.
inline __m512 canonicalize_nan(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(abs, _mm512_set1_epi32(0x7F800000));
  const __m512i quiet = _mm512_or_si512(_mm512_andnot_si512(_mm512_set1_epi32(0x7FFFFFFF), u),
                                        _mm512_set1_epi32(0x7FC00000));
  return _mm512_castsi512_ps(_mm512_mask_blend_epi32(is_nan, u, quiet));
}

// Integer RNE exactly as ggml_compute_fp32_to_bf16 (vcvtneps2bf16 would flush subnormals).
inline __m256i fp32_to_bf16_x16(__m512i u) {
  const __m512i hi = _mm512_srli_epi32(u, 16);
  const __mmask16 is_nan =
      _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
  const __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), _mm512_and_si512(hi, _mm512_set1_epi32(1)));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
  const __m512i r = _mm512_mask_blend_epi32(is_nan, rounded, _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
  return _mm512_cvtepi32_epi16(r);
}

// Full vectors use plain loads and stores (masked stores are slow on some cores, e.g. Zen 4);
// only the tail of fewer than 16 elements is masked.

void fp32_to_fp16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = canonicalize_nan(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 x = canonicalize_nan(_mm512_maskz_loadu_ps(m, src + i));
    _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
}

void fp16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
  }
}

void fp32_to_bf16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_loadu_si512(src + i);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), fp32_to_bf16_x16(u));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(dst + i, m, fp32_to_bf16_x16(_mm512_maskz_loadu_epi32(m, src + i)));
  }
}

void bf16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    _mm512_storeu_si512(dst + i, _mm512_slli_epi32(w, 16));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
    _mm512_mask_storeu_epi32(dst + i, m, _mm512_slli_epi32(w, 16));
  }
}

}  // namespace

void register_fp16_avx512(KernelTable& table) {
  table.fp32_to_fp16_row = fp32_to_fp16_row;
  table.fp16_to_fp32_row = fp16_to_fp32_row;
  table.fp32_to_bf16_row = fp32_to_bf16_row;
  table.bf16_to_fp32_row = bf16_to_fp32_row;
}

}  // namespace gguf_forge
