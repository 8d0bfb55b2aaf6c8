// Reference k-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (super-blocks of 256), equal to ggml-quants.c's
// quantize_row_*_ref / quantize_row_*_impl / dequantize_row_*. Algorithms: research/llamacpp.md §2.4.
//
// Shape of every quantizer: fit a scale (and min) per sub-block, quantize those to 4/6/8 bits
// against one fp16 super-scale, then requantize the weights with the scales *read back from fp16*
// (h(d)*sc), so the stored quants match what a reader reconstructs. A sub-block whose
// requantized scale is exactly 0 keeps the L of its scale search. Scales and mins of Q2_K/Q4_K/Q5_K
// are non-negative; Q3_K and Q6_K scales are signed, taken from the first sub-block of largest
// |scale|.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstring>

#include "quant/fp16_scalar.h"
#include "quant/quant_ref.h"
#include "quant/ref_rows.h"
#include "quant/scale_search.h"

namespace gguf_forge {
namespace quant {

using detail::clamp_int;
using detail::kGroupMaxEps;
using detail::make_q3_quants;
using detail::make_qkx_quants;
using detail::make_qp_quants;
using detail::make_qx_quants;
using detail::nearest_int;

namespace {

// ---- packing shared by several types -----------------------------------------------------------

// Four 2-bit quants per byte: byte 32h+l of a 128-element half h holds elements l, l+32, l+64,
// l+96 of that half, lowest bits first (Q2_K qs and Q3_K's low bits).
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Q3_K/Q6_K-style 6-bit signed scales l in [0, 63] (bias 32): low nibbles of sub-blocks 0-7 in
// scales[0..7] low halves, 8-15 in their high halves; the top 2 bits in scales[8 + j%4] at 2*(j/4).
void pack_q3_scale(uint8_t* scales, int j, int l) {
  if (j < 8) {
    scales[j] = static_cast<uint8_t>(l & 0xF);
  } else {
    scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
  }
  l >>= 4;
  scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
}

int unpack_q3_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  return (low | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

// Q4_K/Q5_K: 8 6-bit scales and 8 6-bit mins in 12 bytes (ggml's get_scale_min_k4 layout).
void pack_scale_min_k4(uint8_t* scales, int j, uint8_t ls, uint8_t lm) {
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    scales[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// Σx² over a super-block, sequentially.
float sum_sq_256(const float* x) {
  float s = 0;
  for (int j = 0; j < QK_K; ++j) s += x[j] * x[j];
  return s;
}

// ---- Q2_K ---------------------------------------------------------------------------------------

// Shared tail of both Q2_K paths: requantize with h(d), h(dmin), then pack.
void q2_K_finish(const float* x, block_q2_K* y, uint8_t* L) {
  const float dh = half_to_float(y->d);
  const float mh = half_to_float(y->dmin);
  for (int j = 0; j < QK_K / 16; ++j) {
    const float d = dh * (y->scales[j] & 0xF);
    if (!d) continue;
    const float dm = mh * (y->scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
    }
  }
  pack_2bit(L, y->qs);
}

void q2_K_blocks(const float* x, block_q2_K* y, int64_t k) {
  uint8_t L[QK_K];
  uint8_t Laux[16];
  float weights[16];
  float mins[QK_K / 16];
  float scales[QK_K / 16];
  const float q4scale = 15.f;
  for (int64_t i = 0; i < k / QK_K; i++, x += QK_K) {
    float max_scale = 0;
    float max_min = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      y[i].d = float_to_half(max_scale / q4scale);
    } else {
      for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = 0;
      y[i].d = float_to_half(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < QK_K / 16; ++j) {
        // Shifted as unsigned: for non-finite input nearest_int returns garbage that may be negative.
        y[i].scales[j] |= static_cast<uint8_t>(static_cast<unsigned>(nearest_int(iscale * mins[j])) << 4);
      }
      y[i].dmin = float_to_half(max_min / q4scale);
    } else {
      y[i].dmin = float_to_half(0.f);
    }
    q2_K_finish(x, &y[i], L);
  }
}

void q2_K_row_imatrix(const float* x, block_q2_K* y, int64_t n_per_row, const float* imatrix) {
  uint8_t L[QK_K];
  uint8_t Laux[16];
  float mins[QK_K / 16];
  float scales[QK_K / 16];
  float sw[QK_K / 16];
  float weight[16];
  uint8_t Ls[QK_K / 16], Lm[QK_K / 16];
  for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K) {
    const float sigma2 = sum_sq_256(x) / QK_K;  // no factor 2 here, unlike Q3_K..Q5_K
    for (int j = 0; j < QK_K / 16; ++j) {
      const float* qw = imatrix + QK_K * i + 16 * j;
      for (int l = 0; l < 16; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      sw[j] = 0;
      for (int l = 0; l < 16; ++l) sw[j] += weight[l];
      scales[j] = make_qkx_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
    }
    const float dm = make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
    const float mm = make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
    y[i].d = float_to_half(dm);
    y[i].dmin = float_to_half(mm);
    for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    q2_K_finish(x, &y[i], L);
  }
}

// ---- Q3_K ---------------------------------------------------------------------------------------

// Shared tail: requantize with h(d)*(sc-32) into [0, 7], split off the high bit into hmask
// (bit j/32 of hmask[j%32]), pack the low 2 bits.
void q3_K_finish(const float* x, block_q3_K* y, int8_t* L) {
  const float dh = half_to_float(y->d);
  for (int j = 0; j < QK_K / 16; ++j) {
    const int8_t sc = static_cast<int8_t>(unpack_q3_scale(y->scales, j));
    const float d = dh * sc;
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
  }
  std::memset(y->hmask, 0, QK_K / 8);
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < QK_K; ++j) {
    if (L[j] > 3) {
      y->hmask[m] |= hm;
      L[j] -= 4;
    }
    if (++m == QK_K / 8) {
      m = 0;
      hm <<= 1;
    }
  }
  pack_2bit(reinterpret_cast<const uint8_t*>(L), y->qs);
}

void q3_K_blocks(const float* x, block_q3_K* y, int64_t k) {
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int64_t i = 0; i < k / QK_K; i++, x += QK_K) {
    float max_scale = 0;
    float amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(y[i].scales, 0, 12);
    if (max_scale) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < QK_K / 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));  // ggml narrows before clamping
        l = static_cast<int8_t>(clamp_int(l, -32, 31) + 32);
        pack_q3_scale(y[i].scales, j, l);
      }
      y[i].d = float_to_half(1 / iscale);
    } else {
      y[i].d = float_to_half(0.f);
    }
    q3_K_finish(x, &y[i], L);
  }
}

void q3_K_row_imatrix(const float* x, block_q3_K* y, int64_t n_per_row, const float* imatrix) {
  int8_t L[QK_K];
  float scales[QK_K / 16];
  float weight[16];
  float sw[QK_K / 16];
  int8_t Ls[QK_K / 16];
  for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K) {
    const float sigma2 = 2 * sum_sq_256(x) / QK_K;
    for (int j = 0; j < QK_K / 16; ++j) {
      const float* qw = imatrix + QK_K * i + 16 * j;
      for (int l = 0; l < 16; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weight[l];
      sw[j] = sumw;
      scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, weight);
    }
    std::memset(y[i].scales, 0, 12);
    // The 16 signed scales themselves are quantized symmetrically to [0, 63] (bias 32).
    const float d_block = make_qx_quants(QK_K / 16, 32, scales, Ls, sw);
    for (int j = 0; j < QK_K / 16; ++j) pack_q3_scale(y[i].scales, j, Ls[j]);
    y[i].d = float_to_half(d_block);
    q3_K_finish(x, &y[i], L);
  }
}

// ---- Q4_K / Q5_K ----------------------------------------------------------------------------------

// Plain path: per 32-weight sub-block, weights av_x + |x| and the asymmetric fit; then 6-bit
// scales and mins against max_scale/63 and max_min/63. Leaves L from the fit.
void k4_5_plain_scales(const float* x, uint8_t* scales12, ggml_half* d, ggml_half* dmin, uint8_t* L, int nmax,
                       float rmin, float rdelta, int nstep) {
  uint8_t Laux[32];
  float weights[32];
  float mins[QK_K / 32];
  float scales[QK_K / 32];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < QK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < QK_K / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));  // narrowed, then capped
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    pack_scale_min_k4(scales12, j, ls, lm);
  }
  *d = float_to_half(max_scale / 63.f);
  *dmin = float_to_half(max_min / 63.f);
}

// imatrix path: weights qw*sqrt(sigma2 + x²), the qkx3 fit, and make_qp_quants for the 6-bit
// scales and mins. Leaves L from the fit. make_qp_quants can return a "negative" L (wrapped to
// uint8) when a sub-block's fitted scale is negative; ggml's Q5_K caps it at 63, its Q4_K packs
// the raw byte (spilling into neighbouring bits), and both are reproduced: cap_at_63.
void k4_5_imatrix_scales(const float* x, const float* qw_block, uint8_t* scales12, ggml_half* d, ggml_half* dmin,
                         uint8_t* L, int nmax, bool cap_at_63) {
  uint8_t Laux[32];
  uint8_t Ls[QK_K / 32];
  uint8_t Lm[QK_K / 32];
  float weights[32];
  float sw[QK_K / 32];
  float mins[QK_K / 32];
  float scales[QK_K / 32];
  const float sigma2 = 2 * sum_sq_256(x) / QK_K;
  for (int j = 0; j < QK_K / 32; ++j) {
    const float* qw = qw_block + 32 * j;
    for (int l = 0; l < 32; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    scales[j] = make_qkx_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
  }
  const float d_block = make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
  const float m_block = make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
  for (int j = 0; j < QK_K / 32; ++j) {
    const uint8_t ls = cap_at_63 && Ls[j] > 63 ? 63 : Ls[j];
    const uint8_t lm = cap_at_63 && Lm[j] > 63 ? 63 : Lm[j];
    pack_scale_min_k4(scales12, j, ls, lm);
  }
  *d = float_to_half(d_block);
  *dmin = float_to_half(m_block);
}

// Requantize against h(d)*sc and h(dmin)*m into [0, nmax].
void k4_5_requantize(const float* x, const uint8_t* scales12, ggml_half dh, ggml_half dminh, uint8_t* L, int nmax) {
  uint8_t sc, m;
  for (int j = 0; j < QK_K / 32; ++j) {
    get_scale_min_k4(j, scales12, &sc, &m);
    const float d = half_to_float(dh) * sc;
    if (!d) continue;
    const float dm = half_to_float(dminh) * m;
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

// Q4_K quants: per 64 weights, 32 bytes with the first 32 in the low nibbles.
void q4_K_pack(const uint8_t* L, uint8_t* q) {
  for (int j = 0; j < QK_K; j += 64, q += 32) {
    for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

// Q5_K: low nibbles as Q4_K; the 5th bit of L[64c+j] is qh[j] bit 2c, of L[64c+32+j] bit 2c+1.
void q5_K_pack(const uint8_t* L, uint8_t* qh, uint8_t* ql) {
  std::memset(qh, 0, QK_K / 8);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < QK_K; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j];
      if (l1 > 15) {
        l1 -= 16;
        qh[j] |= m1;
      }
      int l2 = L[n + j + 32];
      if (l2 > 15) {
        l2 -= 16;
        qh[j] |= m2;
      }
      ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    m1 = static_cast<uint8_t>(m1 << 2);
    m2 = static_cast<uint8_t>(m2 << 2);
  }
}

void q4_K_blocks(const float* x, block_q4_K* y, int64_t k) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < k / QK_K; i++, x += QK_K) {
    k4_5_plain_scales(x, y[i].scales, &y[i].d, &y[i].dmin, L, 15, -1.f, 0.1f, 20);
    k4_5_requantize(x, y[i].scales, y[i].d, y[i].dmin, L, 15);
    q4_K_pack(L, y[i].qs);
  }
}

void q4_K_row_imatrix(const float* x, block_q4_K* y, int64_t n_per_row, const float* imatrix) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K) {
    k4_5_imatrix_scales(x, imatrix + QK_K * i, y[i].scales, &y[i].d, &y[i].dmin, L, 15, false);
    k4_5_requantize(x, y[i].scales, y[i].d, y[i].dmin, L, 15);
    q4_K_pack(L, y[i].qs);
  }
}

void q5_K_blocks(const float* x, block_q5_K* y, int64_t k) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < k / QK_K; i++, x += QK_K) {
    k4_5_plain_scales(x, y[i].scales, &y[i].d, &y[i].dmin, L, 31, -0.5f, 0.1f, 15);
    k4_5_requantize(x, y[i].scales, y[i].d, y[i].dmin, L, 31);
    q5_K_pack(L, y[i].qh, y[i].qs);
  }
}

void q5_K_row_imatrix(const float* x, block_q5_K* y, int64_t n_per_row, const float* imatrix) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n_per_row / QK_K; i++, x += QK_K) {
    k4_5_imatrix_scales(x, imatrix + QK_K * i, y[i].scales, &y[i].d, &y[i].dmin, L, 31, true);
    k4_5_requantize(x, y[i].scales, y[i].d, y[i].dmin, L, 31);
    q5_K_pack(L, y[i].qh, y[i].qs);
  }
}

// ---- Q6_K ---------------------------------------------------------------------------------------

// Both paths: symmetric 6-bit fit per 16 (weights x², or the raw imatrix, no sigma2 term), int8
// scales against 1/iscale with iscale = -128/max_scale, requantize into [0, 63] (bias 32).
void q6_K_block(const float* x, block_q6_K* y, const float* qw_block) {
  int8_t L[QK_K];
  float scales[QK_K / 16];
  float max_scale = 0;
  float max_abs_scale = 0;
  for (int ib = 0; ib < QK_K / 16; ++ib) {
    const float* qw = qw_block ? qw_block + 16 * ib : nullptr;
    const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, qw);
    scales[ib] = scale;
    const float abs_scale = std::fabs(scale);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scale;
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(y, 0, sizeof *y);
    return;
  }
  const float iscale = -128.f / max_scale;
  y->d = float_to_half(1 / iscale);
  for (int ib = 0; ib < QK_K / 16; ++ib) {
    const int l = nearest_int(iscale * scales[ib]);
    y->scales[ib] = static_cast<int8_t>(l < 127 ? l : 127);
  }
  for (int j = 0; j < QK_K / 16; ++j) {
    const float d = half_to_float(y->d) * y->scales[j];
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
  }
  // Per 128-half: ql holds low nibbles of (l, l+64) and (l+32, l+96); qh the four top-2-bit pairs.
  uint8_t* ql = y->ql;
  uint8_t* qh = y->qh;
  for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t q1 = L[j + l + 0] & 0xF;
      const uint8_t q2 = L[j + l + 32] & 0xF;
      const uint8_t q3 = L[j + l + 64] & 0xF;
      const uint8_t q4 = L[j + l + 96] & 0xF;
      ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
      ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
      qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                   ((L[j + l + 96] >> 4) << 6));
    }
  }
}

void q6_K_blocks(const float* x, block_q6_K* y, int64_t k) {
  for (int64_t i = 0; i < k / QK_K; i++) q6_K_block(x + QK_K * i, &y[i], nullptr);
}

void q6_K_row_imatrix(const float* x, block_q6_K* y, int64_t n_per_row, const float* imatrix) {
  for (int64_t i = 0; i < n_per_row / QK_K; i++) q6_K_block(x + QK_K * i, &y[i], imatrix + QK_K * i);
}

}  // namespace

size_t quantize_q2_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q2_K, QK_K>(src, dst, nrows, n_per_row, imatrix, q2_K_blocks, q2_K_row_imatrix);
}
size_t quantize_q3_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q3_K, QK_K>(src, dst, nrows, n_per_row, imatrix, q3_K_blocks, q3_K_row_imatrix);
}
size_t quantize_q4_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q4_K, QK_K>(src, dst, nrows, n_per_row, imatrix, q4_K_blocks, q4_K_row_imatrix);
}
size_t quantize_q5_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q5_K, QK_K>(src, dst, nrows, n_per_row, imatrix, q5_K_blocks, q5_K_row_imatrix);
}
size_t quantize_q6_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q6_K, QK_K>(src, dst, nrows, n_per_row, imatrix, q6_K_blocks, q6_K_row_imatrix);
}

// ---- dequantization ------------------------------------------------------------------------------

void dequantize_row_q2_K_ref(const void* src, float* y, int64_t k) {
  const block_q2_K* x = static_cast<const block_q2_K*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const float d = half_to_float(x[i].d);
    const float min = half_to_float(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int n = 0; n < QK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * (sc & 0xF);
          const float ml = min * (sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequantize_row_q3_K_ref(const void* src, float* y, int64_t k) {
  const block_q3_K* x = static_cast<const block_q3_K*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const float d_all = half_to_float(x[i].d);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < QK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * unpack_q3_scale(x[i].scales, is++);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
          }
        }
      }
    }
  }
}

void dequantize_row_q4_K_ref(const void* src, float* y, int64_t k) {
  const block_q4_K* x = static_cast<const block_q4_K*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const uint8_t* q = x[i].qs;
    const float d = half_to_float(x[i].d);
    const float min = half_to_float(x[i].dmin);
    uint8_t sc, m;
    for (int is = 0; is < QK_K / 32; is += 2, q += 32) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void dequantize_row_q5_K_ref(const void* src, float* y, int64_t k) {
  const block_q5_K* x = static_cast<const block_q5_K*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = half_to_float(x[i].d);
    const float min = half_to_float(x[i].dmin);
    uint8_t sc, m;
    uint8_t u1 = 1, u2 = 2;
    for (int is = 0; is < QK_K / 32; is += 2, ql += 32) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dequantize_row_q6_K_ref(const void* src, float* y, int64_t k) {
  const block_q6_K* x = static_cast<const block_q6_K*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const float d = half_to_float(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * q1;  // (d * sc) * q, as ggml
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

}  // namespace quant
}  // namespace gguf_forge
