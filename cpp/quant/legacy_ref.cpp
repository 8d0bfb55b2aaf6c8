// Reference Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (blocks of 32), equal to ggml-quants.c's
// quantize_row_*_ref / quantize_row_*_impl / dequantize_row_*. Algorithms: research/llamacpp.md §2.4.
//
// Traps kept on purpose, because they decide output bytes:
//  - the plain paths quantize with the *unrounded* reciprocal scale and truncate with
//    (int8_t)(v + 8.5f) (resp. +16.5f, +0.5f) after the float add; Q8_0 alone uses roundf;
//  - the signed scale comes from the first element of largest magnitude (strict >), so an all-zero
//    block stores d = -0 (0x8000) for Q4_0/Q5_0;
//  - the imatrix paths weight each element by qw*sqrt(sigma2 + x²) with sigma2 = Σx²/n over the
//    whole row (never across rows), and keep the L of the scale search without requantizing.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstring>

#include "quant/fp16_scalar.h"
#include "quant/quant_ref.h"
#include "quant/ref_rows.h"
#include "quant/scale_search.h"

namespace gguf_forge {
namespace quant {

using detail::make_qkx_quants;
using detail::make_qx_quants;
using detail::signed_absmax;

namespace {

// ---- plain (no imatrix) rows, over k = any whole number of blocks ----------------------------

void q4_0_blocks(const float* x, block_q4_0* y, int64_t k) {
  const int64_t nb = k / QK4_0;
  for (int64_t i = 0; i < nb; i++, x += QK4_0) {
    float amax;
    const float max = signed_absmax(x, QK4_0, &amax);
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[QK4_0 / 2 + j] * id;
      const int t0 = static_cast<int8_t>(x0 + 8.5f);
      const int t1 = static_cast<int8_t>(x1 + 8.5f);
      const uint8_t q0 = static_cast<uint8_t>(t0 < 15 ? t0 : 15);
      const uint8_t q1 = static_cast<uint8_t>(t1 < 15 ? t1 : 15);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void q4_1_blocks(const float* x, block_q4_1* y, int64_t k) {
  const int64_t nb = k / QK4_1;
  for (int64_t i = 0; i < nb; i++, x += QK4_1) {
    float min = 3.40282347e+38f;  // FLT_MAX
    float max = -3.40282347e+38f;
    for (int j = 0; j < QK4_1; j++) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    y[i].m = float_to_half(min);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[QK4_1 / 2 + j] - min) * id;
      const int t0 = static_cast<int8_t>(x0 + 0.5f);
      const int t1 = static_cast<int8_t>(x1 + 0.5f);
      const uint8_t q0 = static_cast<uint8_t>(t0 < 15 ? t0 : 15);
      const uint8_t q1 = static_cast<uint8_t>(t1 < 15 ? t1 : 15);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void q5_0_blocks(const float* x, block_q5_0* y, int64_t k) {
  const int64_t nb = k / QK5_0;
  for (int64_t i = 0; i < nb; i++, x += QK5_0) {
    float amax;
    const float max = signed_absmax(x, QK5_0, &amax);
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[QK5_0 / 2 + j] * id;
      const int t0 = static_cast<int8_t>(x0 + 16.5f);
      const int t1 = static_cast<int8_t>(x1 + 16.5f);
      const uint8_t q0 = static_cast<uint8_t>(t0 < 31 ? t0 : 31);
      const uint8_t q1 = static_cast<uint8_t>(t1 < 31 ? t1 : 31);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + QK5_0 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

void q5_1_blocks(const float* x, block_q5_1* y, int64_t k) {
  const int64_t nb = k / QK5_1;
  for (int64_t i = 0; i < nb; i++, x += QK5_1) {
    float min = 3.40282347e+38f;
    float max = -3.40282347e+38f;
    for (int j = 0; j < QK5_1; j++) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    y[i].m = float_to_half(min);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[QK5_1 / 2 + j] - min) * id;
      // No clamp to 31 here, unlike the other legacy types (ggml has none either).
      const uint8_t q0 = static_cast<uint8_t>(x0 + 0.5f);
      const uint8_t q1 = static_cast<uint8_t>(x1 + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + QK5_1 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

void q8_0_blocks(const float* x, block_q8_0* y, int64_t k) {
  const int64_t nb = k / QK8_0;
  for (int64_t i = 0; i < nb; i++, x += QK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
      const float ax = std::fabs(x[j]);
      amax = amax > ax ? amax : ax;  // ggml's MAX(amax, fabsf(v))
    }
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    for (int j = 0; j < QK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));  // half away from 0
  }
}

// ---- imatrix rows ------------------------------------------------------------------------------

float row_sigma2(const float* x, int64_t n_per_row) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n_per_row; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / n_per_row;
}

void row_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  for (int j = 0; j < 32; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

void q4_0_row_imatrix(const float* x, block_q4_0* y, int64_t n_per_row, const float* imatrix) {
  float weight[QK4_0];
  int8_t L[QK4_0];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / QK4_0; ++ib) {
    const float* xb = x + QK4_0 * ib;
    row_weights(xb, imatrix + QK4_0 * ib, sigma2, weight);
    const float d = make_qx_quants(QK4_0, 8, xb, L, weight);
    y[ib].d = float_to_half(d);
    for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void q4_1_row_imatrix(const float* x, block_q4_1* y, int64_t n_per_row, const float* imatrix) {
  float weight[QK4_1];
  uint8_t L[QK4_1], Laux[QK4_1];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / QK4_1; ++ib) {
    const float* xb = x + QK4_1 * ib;
    row_weights(xb, imatrix + QK4_1 * ib, sigma2, weight);
    float min;
    const float d = make_qkx_quants(QK4_1, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[ib].d = float_to_half(d);
    y[ib].m = float_to_half(-min);
    for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void q5_0_row_imatrix(const float* x, block_q5_0* y, int64_t n_per_row, const float* imatrix) {
  float weight[QK5_0];
  int8_t L[QK5_0];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / QK5_0; ++ib) {
    const float* xb = x + QK5_0 * ib;
    row_weights(xb, imatrix + QK5_0 * ib, sigma2, weight);
    const float d = make_qx_quants(QK5_0, 16, xb, L, weight);
    y[ib].d = float_to_half(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint8_t q0 = static_cast<uint8_t>(L[j]);
      const uint8_t q1 = static_cast<uint8_t>(L[j + 16]);
      y[ib].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[ib].qh, &qh, sizeof qh);
  }
}

void q5_1_row_imatrix(const float* x, block_q5_1* y, int64_t n_per_row, const float* imatrix) {
  float weight[QK5_1];
  uint8_t L[QK5_1], Laux[QK5_1];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / QK5_1; ++ib) {
    const float* xb = x + QK5_1 * ib;
    row_weights(xb, imatrix + QK5_1 * ib, sigma2, weight);
    float min;
    const float d = make_qkx_quants(QK5_1, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[ib].d = float_to_half(d);
    y[ib].m = float_to_half(-min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint8_t q0 = L[j];
      const uint8_t q1 = L[j + 16];
      y[ib].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[ib].qh, &qh, sizeof qh);
  }
}

// Blocks are independent without an imatrix, so the rows are one stream of blocks; with one, each
// row is quantized on its own (its sigma2 is a row statistic).
}  // namespace

size_t quantize_q4_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q4_0, 32>(src, dst, nrows, n_per_row, imatrix, q4_0_blocks, q4_0_row_imatrix);
}
size_t quantize_q4_1_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q4_1, 32>(src, dst, nrows, n_per_row, imatrix, q4_1_blocks, q4_1_row_imatrix);
}
size_t quantize_q5_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q5_0, 32>(src, dst, nrows, n_per_row, imatrix, q5_0_blocks, q5_0_row_imatrix);
}
size_t quantize_q5_1_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  return quantize_ref_rows<block_q5_1, 32>(src, dst, nrows, n_per_row, imatrix, q5_1_blocks, q5_1_row_imatrix);
}
size_t quantize_q8_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* /*imatrix*/) {
  return quantize_ref_rows<block_q8_0, 32>(src, dst, nrows, n_per_row, nullptr, q8_0_blocks, nullptr);
}

// ---- dequantization: (q - offset) as an int times the fp16 scale, plus m where there is one ----

void dequantize_row_q4_0_ref(const void* src, float* y, int64_t k) {
  const block_q4_0* x = static_cast<const block_q4_0*>(src);
  for (int64_t i = 0; i < k / QK4_0; i++, y += QK4_0) {
    const float d = half_to_float(x[i].d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      y[j] = ((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1_ref(const void* src, float* y, int64_t k) {
  const block_q4_1* x = static_cast<const block_q4_1*>(src);
  for (int64_t i = 0; i < k / QK4_1; i++, y += QK4_1) {
    const float d = half_to_float(x[i].d);
    const float m = half_to_float(x[i].m);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      y[j] = (x[i].qs[j] & 0x0F) * d + m;
      y[j + QK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0_ref(const void* src, float* y, int64_t k) {
  const block_q5_0* x = static_cast<const block_q5_0*>(src);
  for (int64_t i = 0; i < k / QK5_0; i++, y += QK5_0) {
    const float d = half_to_float(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof qh);
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = (((x[i].qs[j] & 0x0F) | h0) - 16) * d;
      y[j + QK5_0 / 2] = (((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequantize_row_q5_1_ref(const void* src, float* y, int64_t k) {
  const block_q5_1* x = static_cast<const block_q5_1*>(src);
  for (int64_t i = 0; i < k / QK5_1; i++, y += QK5_1) {
    const float d = half_to_float(x[i].d);
    const float m = half_to_float(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof qh);
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = ((x[i].qs[j] & 0x0F) | h0) * d + m;
      y[j + QK5_1 / 2] = ((x[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequantize_row_q8_0_ref(const void* src, float* y, int64_t k) {
  const block_q8_0* x = static_cast<const block_q8_0*>(src);
  for (int64_t i = 0; i < k / QK8_0; i++, y += QK8_0) {
    const float d = half_to_float(x[i].d);
    for (int j = 0; j < QK8_0; ++j) y[j] = x[i].qs[j] * d;
  }
}

}  // namespace quant
}  // namespace gguf_forge
