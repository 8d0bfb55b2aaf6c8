// IQ4_NL and IQ4_XS quantizers for NEON (AArch64), without imatrix; the imatrix path calls the
// reference. Equal to iq4_ref.cpp (ggml's quantize_row_iq4_nl_impl with ntry = 7) by the scheme of
// the x86 iq4_simd.inc: vectorised ACROSS blocks of 32, lane k of a step being block (IQ4_NL) or
// sub-block (IQ4_XS) k, each lane running the reference's scalar sequence for its block (same
// operand order, sums from element 0 up, strict compares as masks, separate FMUL/FADD: this unit
// is built with -ffp-contract=off and fp_strict.h). A step is 8 lanes in two groups of 4 (two
// independent dependency chains), which is also one IQ4_XS super-block; its super-block work (8
// scales -> 6-bit ones) is scalar.
//
// Nearest level: ggml's best_index_int8 (bracket by binary search, then x - lo < hi - x) equals
// #{k : !(x < mid_k)} over the 15 midpoints of adjacent levels (all exact in binary32) for every
// float input, NaN (-> 15) and infinities included (iq4_simd.inc, checked exhaustively there).
// Here that count is a 4-step branch-free binary search whose thresholds and levels come from
// byte-table lookups (TBL).
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"
#include "quant/blocks.h"
#include "quant/fp16_scalar.h"
#include "quant/quant_ref.h"
#include "quant/scale_search.h"

namespace gguf_forge {
namespace {

using quant::QK4_NL;
using quant::QK_K;
using quant::block_iq4_nl;
using quant::block_iq4_xs;
using quant::float_to_half;
using quant::detail::clamp_int;
using quant::detail::nearest_int;

constexpr int kGroups = 2;           // vectors of 4 lanes per step
constexpr int kLanes = 4 * kGroups;  // blocks of 32 per step

// kvalues_iq4nl, and the midpoints between neighbours.
alignas(16) constexpr float kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
constexpr float kMid[15] = {-115.5f, -93.5f, -74.f, -57.f, -42.f, -28.5f, -16.f, -4.5f,
                            7.f,     19.f,   31.5f, 45.5f, 61.f,  79.f,  101.f};
// Thresholds of steps 3 and 4, indexed by the index bits found so far (idx >> 2, idx >> 1).
alignas(16) constexpr float kStep3[4] = {kMid[1], kMid[5], kMid[9], kMid[13]};
alignas(16) constexpr float kStep4[8] = {kMid[0], kMid[2], kMid[4], kMid[6], kMid[8], kMid[10], kMid[12], kMid[14]};

struct Tables {
  uint8x16_t step3;
  uint8x16x2_t step4;
  uint8x16x4_t levels;
  Tables() {
    const uint8_t* s3 = reinterpret_cast<const uint8_t*>(kStep3);
    const uint8_t* s4 = reinterpret_cast<const uint8_t*>(kStep4);
    const uint8_t* lv = reinterpret_cast<const uint8_t*>(kLevels);
    step3 = vld1q_u8(s3);
    step4 = {{vld1q_u8(s4), vld1q_u8(s4 + 16)}};
    levels = {{vld1q_u8(lv), vld1q_u8(lv + 16), vld1q_u8(lv + 32), vld1q_u8(lv + 48)}};
  }
};

// Byte indices that make TBL fetch float i of a table into each lane holding i.
inline uint8x16_t float_lanes(uint32x4_t i) {
  return vreinterpretq_u8_u32(vmlaq_u32(vdupq_n_u32(0x03020100), i, vdupq_n_u32(0x04040404)));
}

inline uint32x4_t not_less(float32x4_t p, float32x4_t t) { return vmvnq_u32(vcltq_f32(p, t)); }

// Index of the nearest level to p, lane-wise (see the top comment); *q = that level.
inline uint32x4_t nearest(const Tables& tb, float32x4_t p, float32x4_t* q) {
  const uint32x4_t c1 = not_less(p, vdupq_n_f32(kMid[7]));
  uint32x4_t idx = vandq_u32(c1, vdupq_n_u32(8));
  const float32x4_t t2 = vbslq_f32(c1, vdupq_n_f32(kMid[11]), vdupq_n_f32(kMid[3]));
  idx = vorrq_u32(idx, vandq_u32(not_less(p, t2), vdupq_n_u32(4)));
  const float32x4_t t3 = vreinterpretq_f32_u8(vqtbl1q_u8(tb.step3, float_lanes(vshrq_n_u32(idx, 2))));
  idx = vorrq_u32(idx, vandq_u32(not_less(p, t3), vdupq_n_u32(2)));
  const float32x4_t t4 = vreinterpretq_f32_u8(vqtbl2q_u8(tb.step4, float_lanes(vshrq_n_u32(idx, 1))));
  idx = vorrq_u32(idx, vandq_u32(not_less(p, t4), vdupq_n_u32(1)));
  *q = vreinterpretq_f32_u8(vqtbl4q_u8(tb.levels, float_lanes(idx)));
  return idx;
}

// One step of blocks: X[g][i] lane k = element i of block 4g + k.
struct Step {
  float32x4_t X[kGroups][32];
  float32x4_t W[kGroups][32];
};

// Transposes 8 consecutive blocks of 32 at x into s.X (rows of 4 x 4 floats at a time).
inline void load(const float* x, Step& s) {
  for (int g = 0; g < kGroups; ++g) {
    const float* xg = x + 32 * 4 * g;
    for (int c = 0; c < 32; c += 4) {
      const float32x4_t r0 = vld1q_f32(xg + c), r1 = vld1q_f32(xg + 32 + c);
      const float32x4_t r2 = vld1q_f32(xg + 64 + c), r3 = vld1q_f32(xg + 96 + c);
      const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
      const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
      s.X[g][c + 0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
      s.X[g][c + 1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
      s.X[g][c + 2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
      s.X[g][c + 3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    }
  }
}

// Σ w*q*x and Σ w*q*q over each lane's block, q = the level nearest to id*x.
inline void sums(const Tables& tb, const Step& s, const float32x4_t* id, float32x4_t* sumqx, float32x4_t* sumq2) {
  float32x4_t sx[kGroups], s2[kGroups];
  for (int g = 0; g < kGroups; ++g) sx[g] = s2[g] = vdupq_n_f32(0.f);
  for (int i = 0; i < 32; ++i) {
    for (int g = 0; g < kGroups; ++g) {
      float32x4_t q;
      nearest(tb, vmulq_f32(id[g], s.X[g][i]), &q);
      const float32x4_t wq = vmulq_f32(s.W[g][i], q);
      sx[g] = vaddq_f32(sx[g], vmulq_f32(wq, s.X[g][i]));
      s2[g] = vaddq_f32(s2[g], vmulq_f32(wq, q));
    }
  }
  for (int g = 0; g < kGroups; ++g) {
    sumqx[g] = sx[g];
    sumq2[g] = s2[g];
  }
}

// The scale of each lane's block: iq4_superblock's search in iq4_ref.cpp (0 for a block whose
// largest |x| is below kGroupMaxEps). Fills s.W.
inline void search(const Tables& tb, Step& s, float32x4_t* scale) {
  const float32x4_t zero = vdupq_n_f32(0.f);
  float32x4_t max[kGroups], d[kGroups], id[kGroups], best[kGroups], sumqx[kGroups], sumq2[kGroups];
  uint32x4_t small[kGroups];
  for (int g = 0; g < kGroups; ++g) {
    float32x4_t amax = zero;
    max[g] = zero;
    for (int i = 0; i < 32; ++i) {
      const float32x4_t xi = s.X[g][i];
      s.W[g][i] = vmulq_f32(xi, xi);
      const float32x4_t ax = vabsq_f32(xi);
      const uint32x4_t m = vcgtq_f32(ax, amax);  // false for NaN, as the reference's strict >
      amax = vbslq_f32(m, ax, amax);
      max[g] = vbslq_f32(m, xi, max[g]);
    }
    small[g] = vcltq_f32(amax, vdupq_n_f32(quant::detail::kGroupMaxEps));
    d[g] = vdivq_f32(vnegq_f32(max[g]), vdupq_n_f32(kLevels[0]));
    id[g] = vdivq_f32(vdupq_n_f32(1.f), d[g]);
  }
  sums(tb, s, id, sumqx, sumq2);
  for (int g = 0; g < kGroups; ++g) {
    d[g] = vbslq_f32(vcgtq_f32(sumq2[g], zero), vdivq_f32(sumqx[g], sumq2[g]), zero);
    best[g] = vmulq_f32(d[g], sumqx[g]);
  }
  for (int itry = -7; itry <= 7; ++itry) {
    const float32x4_t num = vdupq_n_f32(static_cast<float>(itry + static_cast<int>(kLevels[0])));
    for (int g = 0; g < kGroups; ++g) id[g] = vdivq_f32(num, max[g]);
    sums(tb, s, id, sumqx, sumq2);
    for (int g = 0; g < kGroups; ++g) {
      const uint32x4_t upd = vandq_u32(vcgtq_f32(sumq2[g], zero),
                                       vcgtq_f32(vmulq_f32(sumqx[g], sumqx[g]), vmulq_f32(best[g], sumq2[g])));
      const float32x4_t nd = vdivq_f32(sumqx[g], sumq2[g]);
      d[g] = vbslq_f32(upd, nd, d[g]);
      best[g] = vbslq_f32(upd, vmulq_f32(nd, sumqx[g]), best[g]);
    }
  }
  for (int g = 0; g < kGroups; ++g) scale[g] = vbslq_f32(small[g], zero, d[g]);
}

// The packed nibbles of each lane's block for the levels nearest to id*x, written to qs[k] for
// lane k: byte j = L[j] | L[j+16] << 4.
inline void pack(const Tables& tb, const Step& s, const float32x4_t* id, uint8_t* const* qs, int n) {
  for (int g = 0; g < kGroups; ++g) {
    uint32x4_t L[32];
    for (int i = 0; i < 32; ++i) {
      float32x4_t q;
      L[i] = nearest(tb, vmulq_f32(id[g], s.X[g][i]), &q);
    }
    // b[m] holds bytes j = 4m..4m+3 for the 4 lanes, lane-minor: byte j of lane k is at 4j + k.
    uint8x16x4_t b;
    for (int m = 0; m < 4; ++m) {
      uint32x4_t v[4];
      for (int t = 0; t < 4; ++t) v[t] = vorrq_u32(L[4 * m + t], vshlq_n_u32(L[4 * m + t + 16], 4));
      const uint16x8_t h0 = vcombine_u16(vmovn_u32(v[0]), vmovn_u32(v[1]));
      const uint16x8_t h1 = vcombine_u16(vmovn_u32(v[2]), vmovn_u32(v[3]));
      b.val[m] = vcombine_u8(vmovn_u16(h0), vmovn_u16(h1));
    }
    static const uint8_t kGather[16] = {0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60};
    const uint8x16_t gather = vld1q_u8(kGather);
    for (int k = 0; k < 4 && 4 * g + k < n; ++k) {
      vst1q_u8(qs[4 * g + k], vqtbl4q_u8(b, vaddq_u8(gather, vdupq_n_u8(static_cast<uint8_t>(k)))));
    }
  }
}

// IQ4_NL: up to kLanes consecutive blocks (idle lanes see zeros and are never written back).
void nl_step(const Tables& tb, const float* x, block_iq4_nl* y, int n) {
  Step s;
  if (n == kLanes) {
    load(x, s);
  } else {
    float buf[32 * kLanes] = {};
    std::memcpy(buf, x, sizeof(float) * 32 * static_cast<size_t>(n));
    load(buf, s);
  }
  float32x4_t d[kGroups], id[kGroups];
  search(tb, s, d);
  float dl[kLanes];
  for (int g = 0; g < kGroups; ++g) {
    // NaN != 0, as in the reference's `scales[0] ? 1 / scales[0] : 0`.
    const uint32x4_t nonzero = vmvnq_u32(vceqq_f32(d[g], vdupq_n_f32(0.f)));
    id[g] = vbslq_f32(nonzero, vdivq_f32(vdupq_n_f32(1.f), d[g]), vdupq_n_f32(0.f));
    vst1q_f32(dl + 4 * g, d[g]);
  }
  uint8_t* qs[kLanes];
  for (int k = 0; k < n; ++k) {
    y[k].d = float_to_half(dl[k]);
    qs[k] = y[k].qs;
  }
  pack(tb, s, id, qs, n);
}

// IQ4_XS: one super-block (lane k = sub-block k).
void xs_step(const Tables& tb, const float* x, block_iq4_xs* y) {
  Step s;
  load(x, s);
  float32x4_t sv[kGroups];
  search(tb, s, sv);
  float sc[kLanes], idl[kLanes];
  for (int g = 0; g < kGroups; ++g) vst1q_f32(sc + 4 * g, sv[g]);
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const float abs_d = std::fabs(sc[ib]);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = sc[ib];
    }
  }
  const float d = -max_scale / 32;
  y->d = float_to_half(d);
  const float id = d ? 1 / d : 0.f;
  y->scales_h = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int l = clamp_int(nearest_int(id * sc[ib]), -32, 31);
    const float dl = d * l;
    idl[ib] = dl ? 1 / dl : 0.f;
    const int lb = l + 32;
    if (ib % 2 == 0) {
      y->scales_l[ib / 2] = static_cast<uint8_t>(lb & 0xf);
    } else {
      y->scales_l[ib / 2] |= static_cast<uint8_t>((lb & 0xf) << 4);
    }
    y->scales_h |= static_cast<uint16_t>((lb >> 4) << 2 * ib);
  }
  float32x4_t idv[kGroups];
  for (int g = 0; g < kGroups; ++g) idv[g] = vld1q_f32(idl + 4 * g);
  uint8_t* qs[kLanes];
  for (int k = 0; k < kLanes; ++k) qs[k] = y->qs + 16 * k;
  pack(tb, s, idv, qs, kLanes);
}

size_t quantize_iq4_nl_neon(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr) return quant::quantize_iq4_nl_ref(src, dst, nrows, n_per_row, imatrix);
  // Without an imatrix blocks are independent (the row's sigma2 only feeds imatrix weights).
  const Tables tb;
  const int64_t nb = nrows * (n_per_row / QK4_NL);
  block_iq4_nl* y = static_cast<block_iq4_nl*>(dst);
  for (int64_t i = 0; i < nb; i += kLanes) {
    const int n = nb - i < kLanes ? static_cast<int>(nb - i) : kLanes;
    nl_step(tb, src + QK4_NL * i, y + i, n);
  }
  return static_cast<size_t>(nb) * sizeof(block_iq4_nl);
}

size_t quantize_iq4_xs_neon(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr) return quant::quantize_iq4_xs_ref(src, dst, nrows, n_per_row, imatrix);
  static_assert(kLanes * 32 == QK_K, "one step is one IQ4_XS super-block");
  const Tables tb;
  const int64_t nb = nrows * (n_per_row / QK_K);
  block_iq4_xs* y = static_cast<block_iq4_xs*>(dst);
  for (int64_t i = 0; i < nb; ++i) xs_step(tb, src + QK_K * i, y + i);
  return static_cast<size_t>(nb) * sizeof(block_iq4_xs);
}

}  // namespace

void register_iq4_neon(KernelTable& table) {
  table.quantize_rows[static_cast<int>(quant::GgmlType::IQ4_NL)] = quantize_iq4_nl_neon;
  table.quantize_rows[static_cast<int>(quant::GgmlType::IQ4_XS)] = quantize_iq4_xs_neon;
}

}  // namespace gguf_forge
