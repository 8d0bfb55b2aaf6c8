// Reference IQ4_NL (blocks of 32) and IQ4_XS (super-blocks of 256 with 6-bit sub-block scales),
// equal to what ggml_quantize_chunk writes: ggml-quants.c quantize_iq4_nl / quantize_iq4_xs, both
// through quantize_row_iq4_nl_impl with ntry = 7 (research/llamacpp.md §2.4).
//
// Trap: ggml's quantize_row_iq4_nl_ref (also the CPU from_float) passes ntry = -1 and skips the
// scale search, so it gives different bytes; files made by llama-quantize use the search, and so
// does this code. IQ4_XS has no such split.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstring>

#include "quant/fp16_scalar.h"
#include "quant/quant_ref.h"
#include "quant/scale_search.h"

namespace gguf_forge {
namespace quant {

using detail::clamp_int;
using detail::kGroupMaxEps;
using detail::nearest_int;
using detail::signed_absmax;

namespace {

// The 16 non-linear levels, ascending.
constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Index of the level nearest to x; a tie between two levels goes to the upper one. ggml finds the
// bracketing pair [mu-1, mu] by binary search; inside (val[0], val[15]) that pair is also given by
// mu = #{i : val[i] <= x} (the levels ascend strictly), which counts without data-dependent branches
// (a binary search mispredicts on every other step). The final comparison is ggml's, unchanged.
int best_index_iq4nl(float x) {
  const int8_t* val = kvalues_iq4nl;
  if (x <= val[0]) return 0;
  if (x >= val[15]) return 15;
  int mu = 1;
  // !(x < v) rather than x >= v: a NaN (inf * 0 in tiny blocks) then lands on 15, as in ggml's search.
  for (int i = 1; i < 15; ++i) mu += !(x < val[i]) ? 1 : 0;
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

constexpr int kNtry = 7;

// One super-block of `super_block_size` weights in sub-blocks of 32: quantize_row_iq4_nl_impl
// with ntry = 7. For IQ4_NL (super_block_size 32) writes d and q4; for IQ4_XS also the 6-bit
// sub-block scales. qw: the imatrix slice of this super-block, or null.
void iq4_superblock(int super_block_size, const float* x, ggml_half* dh, uint8_t* q4, uint16_t* scales_h,
                    uint8_t* scales_l, const float* qw_block) {
  constexpr int block_size = 32;
  uint8_t L[QK_K];
  float weight[block_size];
  float scales[QK_K / block_size];

  float sigma2 = 0;
  for (int j = 0; j < super_block_size; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / super_block_size;

  std::memset(q4, 0, super_block_size / 2);
  dh[0] = float_to_half(0.f);

  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < super_block_size / block_size; ++ib) {
    const float* xb = x + ib * block_size;
    uint8_t* Lb = L + ib * block_size;
    if (qw_block) {
      const float* qw = qw_block + ib * block_size;
      for (int j = 0; j < block_size; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
    } else {
      for (int j = 0; j < block_size; ++j) weight[j] = xb[j] * xb[j];
    }
    float amax;
    const float max = signed_absmax(xb, block_size, &amax);
    if (amax < kGroupMaxEps) {
      scales[ib] = 0;
      continue;  // Lb is rewritten below in both layouts
    }
    // Start with the largest magnitude on the most negative level, then try 15 scales around it.
    float d = -max / kvalues_iq4nl[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < block_size; ++j) {
      const int l = best_index_iq4nl(id * xb[j]);
      Lb[j] = static_cast<uint8_t>(l);
      const float q = kvalues_iq4nl[l];
      const float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kNtry; itry <= kNtry; ++itry) {
      id = (itry + kvalues_iq4nl[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < block_size; ++j) {
        const float q = kvalues_iq4nl[best_index_iq4nl(id * xb[j])];
        const float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    const float abs_d = std::fabs(d);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = d;
    }
  }

  if (super_block_size / block_size > 1) {
    // IQ4_XS: 6-bit signed sub-block scales against d = -max_scale/32; each sub-block's quants
    // are re-chosen with the unrounded fp32 d*l (not the fp16 one).
    const int nb = super_block_size / block_size;
    std::memset(scales_h, 0, ((nb + 7) / 8) * sizeof(uint16_t));
    const float d = -max_scale / 32;
    dh[0] = float_to_half(d);
    const float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < nb; ++ib) {
      int l = clamp_int(nearest_int(id * scales[ib]), -32, 31);
      const float dl = d * l;
      const float idl = dl ? 1 / dl : 0.f;
      uint8_t* Lb = L + ib * block_size;
      const float* xb = x + ib * block_size;
      for (int j = 0; j < block_size; ++j) Lb[j] = static_cast<uint8_t>(best_index_iq4nl(idl * xb[j]));
      l += 32;
      const uint8_t l_l = static_cast<uint8_t>(l & 0xf);
      const uint8_t l_h = static_cast<uint8_t>(l >> 4);
      if (ib % 2 == 0) {
        scales_l[ib / 2] = l_l;
      } else {
        scales_l[ib / 2] |= static_cast<uint8_t>(l_l << 4);
      }
      scales_h[ib / 8] |= static_cast<uint16_t>(l_h << 2 * (ib % 8));
    }
  } else {
    // IQ4_NL: store the searched scale and re-choose the quants with its unrounded reciprocal.
    dh[0] = float_to_half(scales[0]);
    const float id = scales[0] ? 1 / scales[0] : 0;
    for (int j = 0; j < super_block_size; ++j) L[j] = static_cast<uint8_t>(best_index_iq4nl(id * x[j]));
  }

  for (int i = 0; i < super_block_size / 32; ++i) {
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = static_cast<uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
  }
}

}  // namespace

size_t quantize_iq4_nl_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  const int64_t nblock = n_per_row / QK4_NL;
  block_iq4_nl* y = static_cast<block_iq4_nl*>(dst);
  for (int64_t row = 0; row < nrows; ++row, src += n_per_row, y += nblock) {
    for (int64_t ibl = 0; ibl < nblock; ++ibl) {
      const float* qw = imatrix ? imatrix + QK4_NL * ibl : nullptr;
      iq4_superblock(QK4_NL, src + QK4_NL * ibl, &y[ibl].d, y[ibl].qs, nullptr, nullptr, qw);
    }
  }
  return static_cast<size_t>(nrows * nblock) * sizeof(block_iq4_nl);
}

size_t quantize_iq4_xs_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  const int64_t nblock = n_per_row / QK_K;
  block_iq4_xs* y = static_cast<block_iq4_xs*>(dst);
  for (int64_t row = 0; row < nrows; ++row, src += n_per_row, y += nblock) {
    for (int64_t ibl = 0; ibl < nblock; ++ibl) {
      const float* qw = imatrix ? imatrix + QK_K * ibl : nullptr;
      iq4_superblock(QK_K, src + QK_K * ibl, &y[ibl].d, y[ibl].qs, &y[ibl].scales_h, y[ibl].scales_l, qw);
    }
  }
  return static_cast<size_t>(nrows * nblock) * sizeof(block_iq4_xs);
}

void dequantize_row_iq4_nl_ref(const void* src, float* y, int64_t k) {
  const block_iq4_nl* x = static_cast<const block_iq4_nl*>(src);
  for (int64_t i = 0; i < k / QK4_NL; i++, y += QK4_NL) {
    const float d = half_to_float(x[i].d);
    for (int j = 0; j < QK4_NL / 2; ++j) {
      y[j] = d * kvalues_iq4nl[x[i].qs[j] & 0xf];
      y[j + QK4_NL / 2] = d * kvalues_iq4nl[x[i].qs[j] >> 4];
    }
  }
}

void dequantize_row_iq4_xs_ref(const void* src, float* y, int64_t k) {
  const block_iq4_xs* x = static_cast<const block_iq4_xs*>(src);
  for (int64_t i = 0; i < k / QK_K; i++) {
    const uint8_t* qs = x[i].qs;
    const float d = half_to_float(x[i].d);
    for (int ib = 0; ib < QK_K / 32; ++ib, y += 32, qs += 16) {
      const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[i].scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * kvalues_iq4nl[qs[j] & 0xf];
        y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
      }
    }
  }
}

}  // namespace quant
}  // namespace gguf_forge
