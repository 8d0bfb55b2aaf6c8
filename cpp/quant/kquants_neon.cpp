// Q4_K, Q5_K and Q6_K quantizers for NEON (AArch64), without imatrix; the imatrix paths call the
// reference. Same scheme as the x86 kquants_simd.inc: the sub-block scale searches (make_qkx2_quants
// for Q4_K/Q5_K, make_qx_quants for Q6_K; scale_search.cpp) run vectorised ACROSS sub-blocks,
// lane k of a group being one sub-block, each lane running the reference's scalar sequence for it
// (same operand order, separate FMUL/FADD: this unit is built with -ffp-contract=off and
// fp_strict.h; nearest_int by the 1.5*2^23 bit trick lane-wise, which is exact for every input,
// NaN and out-of-range included; strict comparisons as masks). One step is one super-block: 8
// sub-blocks of 32 in 2 groups of 4 lanes (Q4_K/Q5_K), 16 sub-blocks of 16 in 4 groups (Q6_K),
// the groups interleaved as independent dependency chains. The super-block part (6-bit or int8
// scales against an fp16 d, requantization against h(d)*sc, packing) is the reference's, with the
// requantization and packing vectorised in natural element order.
//
// Unlike the x86 version this keeps the bit-trick rounding on every candidate (no range-proven
// float shortcut): simpler to hold equal, at some cost in speed.
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

using quant::QK_K;
using quant::block_q4_K;
using quant::block_q5_K;
using quant::block_q6_K;
using quant::float_to_half;
using quant::half_to_float;
using quant::detail::kGroupMaxEps;
using quant::detail::nearest_int;

typedef float32x4_t vf;
typedef uint32x4_t vm;  // lane masks

inline vf splat(float f) { return vdupq_n_f32(f); }
inline vf sel(vm m, vf a, vf b) { return vbslq_f32(m, a, b); }
inline bool any(vm m) { return vmaxvq_u32(m) != 0; }

// clamp_int(nearest_int(f), lo, hi) lane-wise, as float (exact for every f).
inline vf nint_clamp(vf f, int32_t lo, int32_t hi) {
  const vf v = vaddq_f32(f, splat(12582912.f));
  int32x4_t i = vsubq_s32(vandq_s32(vreinterpretq_s32_f32(v), vdupq_n_s32(0x007FFFFF)), vdupq_n_s32(0x00400000));
  i = vminq_s32(vmaxq_s32(i, vdupq_n_s32(lo)), vdupq_n_s32(hi));
  return vcvtq_f32_s32(i);
}

// X[g][i] lane k = x[n*(4g + k) + i]: lane k of group g holds sub-block 4g + k (n values each).
template <int G, int n>
inline void load_lanes(const float* x, vf (*X)[n]) {
  for (int g = 0; g < G; ++g) {
    const float* xg = x + n * 4 * g;
    for (int c = 0; c < n; c += 4) {
      const vf r0 = vld1q_f32(xg + c), r1 = vld1q_f32(xg + n + c);
      const vf r2 = vld1q_f32(xg + 2 * n + c), r3 = vld1q_f32(xg + 3 * n + c);
      const vf t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
      const vf t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
      X[g][c + 0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
      X[g][c + 1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
      X[g][c + 2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
      X[g][c + 3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    }
  }
}

// Lane k of each of the n vectors in L, as bytes: out[i] = L[i][k].
template <int n>
inline void lane_bytes(const vf* L, int k, uint8_t* out) {
  float f[n][4];
  for (int i = 0; i < n; ++i) vst1q_f32(f[i], L[i]);
  for (int i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(static_cast<int>(f[i][k]));
}

// 16 lanes holding 0..255 as bytes.
inline uint8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  const uint16x8_t lo = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(a)), vmovn_u32(vreinterpretq_u32_s32(b)));
  const uint16x8_t hi = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(c)), vmovn_u32(vreinterpretq_u32_s32(d)));
  return vcombine_u8(vmovn_u16(lo), vmovn_u16(hi));
}

// clamp_int(nearest_int((x + dm) / d), lo, hi) + bias (kShift) or clamp_int(nearest_int(x / d),
// lo, hi) + bias for 16 consecutive x, as bytes.
template <bool kShift>
inline uint8x16_t requant16(const float* x, float dm, float d, int32_t lo, int32_t hi, int32_t bias) {
  int32x4_t q[4];
  for (int t = 0; t < 4; ++t) {
    vf v = vld1q_f32(x + 4 * t);
    if (kShift) v = vaddq_f32(v, splat(dm));
    v = vdivq_f32(v, splat(d));
    q[t] = vaddq_s32(vcvtq_s32_f32(nint_clamp(v, lo, hi)), vdupq_n_s32(bias));
  }
  return narrow16(q[0], q[1], q[2], q[3]);
}

// ---- Q4_K / Q5_K ------------------------------------------------------------------------------

constexpr int kQ45Groups = 2;  // 8 sub-blocks of 32: one super-block

// make_qkx_quants(32, nmax, x, w, L, &the_min, Laux, rmin, rdelta, nstep, false) for the 8
// sub-blocks of one super-block: X[g][i], W[g][i]. Writes L[g][i] (as floats), scale[g],
// the_min[g].
void qkx(const vf (*X)[32], const vf (*W)[32], vf (*L)[32], vf* scale_out, vf* the_min_out, int nmax, float rmin,
         float rdelta, int nstep) {
  constexpr int G = kQ45Groups;
  const vf zero = splat(0.f);
  vf mn[G], mx[G], sum_w[G], sum_x[G], min0[G], scale[G], best_error[G];
  vm degenerate[G];
  for (int g = 0; g < G; ++g) {
    mn[g] = mx[g] = X[g][0];
    sum_w[g] = W[g][0];
    sum_x[g] = vmulq_f32(sum_w[g], X[g][0]);
  }
  for (int i = 1; i < 32; ++i) {
    for (int g = 0; g < G; ++g) {
      const vf xi = X[g][i];
      mn[g] = sel(vcltq_f32(xi, mn[g]), xi, mn[g]);
      mx[g] = sel(vcgtq_f32(xi, mx[g]), xi, mx[g]);
      sum_w[g] = vaddq_f32(sum_w[g], W[g][i]);
      sum_x[g] = vaddq_f32(sum_x[g], vmulq_f32(W[g][i], xi));
    }
  }
  vf XM[G][32];  // x - min for the current min (the reference recomputes it: same value)
  for (int g = 0; g < G; ++g) {
    mn[g] = sel(vcgtq_f32(mn[g], zero), zero, mn[g]);
    degenerate[g] = vceqq_f32(mx[g], mn[g]);
    min0[g] = mn[g];
    const vf iscale = vdivq_f32(splat(static_cast<float>(nmax)), vsubq_f32(mx[g], mn[g]));
    scale[g] = vdivq_f32(splat(1.f), iscale);
    best_error[g] = zero;
    for (int i = 0; i < 32; ++i) {
      XM[g][i] = vsubq_f32(X[g][i], mn[g]);
      L[g][i] = nint_clamp(vmulq_f32(iscale, XM[g][i]), 0, nmax);
      vf diff = vsubq_f32(vaddq_f32(vmulq_f32(scale[g], L[g][i]), mn[g]), X[g][i]);
      diff = vmulq_f32(diff, diff);
      best_error[g] = vaddq_f32(best_error[g], vmulq_f32(W[g][i], diff));
    }
  }
  vf Laux[G][32];
  for (int is = 0; is <= nstep; ++is) {
    const float num = rmin + rdelta * is + nmax;
    vf sum_l[G], sum_l2[G], sum_xl[G], iscale[G];
    for (int g = 0; g < G; ++g) {
      iscale[g] = vdivq_f32(splat(num), vsubq_f32(mx[g], mn[g]));
      sum_l[g] = sum_l2[g] = sum_xl[g] = zero;
    }
    for (int i = 0; i < 32; ++i) {
      for (int g = 0; g < G; ++g) {
        const vf l = nint_clamp(vmulq_f32(iscale[g], XM[g][i]), 0, nmax);
        Laux[g][i] = l;
        const vf wl = vmulq_f32(W[g][i], l);
        sum_l[g] = vaddq_f32(sum_l[g], wl);
        sum_l2[g] = vaddq_f32(sum_l2[g], vmulq_f32(wl, l));
        sum_xl[g] = vaddq_f32(sum_xl[g], vmulq_f32(wl, X[g][i]));
      }
    }
    vm dpos[G];
    vf this_scale[G], this_min[G];
    bool anyd = false;
    for (int g = 0; g < G; ++g) {
      const vf D = vsubq_f32(vmulq_f32(sum_w[g], sum_l2[g]), vmulq_f32(sum_l[g], sum_l[g]));
      dpos[g] = vcgtq_f32(D, zero);
      anyd = anyd || any(dpos[g]);
      this_scale[g] = vdivq_f32(vsubq_f32(vmulq_f32(sum_w[g], sum_xl[g]), vmulq_f32(sum_x[g], sum_l[g])), D);
      this_min[g] = vdivq_f32(vsubq_f32(vmulq_f32(sum_l2[g], sum_x[g]), vmulq_f32(sum_l[g], sum_xl[g])), D);
      const vm pos = vcgtq_f32(this_min[g], zero);
      this_min[g] = sel(pos, zero, this_min[g]);
      this_scale[g] = sel(pos, vdivq_f32(sum_xl[g], sum_l2[g]), this_scale[g]);
    }
    if (!anyd) continue;
    vf cur_error[G];
    for (int g = 0; g < G; ++g) cur_error[g] = zero;
    for (int i = 0; i < 32; ++i) {
      for (int g = 0; g < G; ++g) {
        vf diff = vsubq_f32(vaddq_f32(vmulq_f32(this_scale[g], Laux[g][i]), this_min[g]), X[g][i]);
        diff = vmulq_f32(diff, diff);
        cur_error[g] = vaddq_f32(cur_error[g], vmulq_f32(W[g][i], diff));
      }
    }
    for (int g = 0; g < G; ++g) {
      const vm upd = vandq_u32(dpos[g], vcltq_f32(cur_error[g], best_error[g]));
      if (!any(upd)) continue;
      best_error[g] = sel(upd, cur_error[g], best_error[g]);
      scale[g] = sel(upd, this_scale[g], scale[g]);
      mn[g] = sel(upd, this_min[g], mn[g]);
      for (int i = 0; i < 32; ++i) {
        L[g][i] = sel(upd, Laux[g][i], L[g][i]);
        XM[g][i] = vsubq_f32(X[g][i], mn[g]);
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    for (int i = 0; i < 32; ++i) L[g][i] = sel(degenerate[g], splat(0.f), L[g][i]);
    scale_out[g] = sel(degenerate[g], zero, scale[g]);
    the_min_out[g] = vnegq_f32(sel(degenerate[g], min0[g], mn[g]));
  }
}

inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// One Q4_K (NMAX 15) or Q5_K (NMAX 31) super-block: k4_5_plain_scales, k4_5_requantize and the
// packing of kquants_ref.cpp.
template <int NMAX, typename Block>
void q45_block(const float* x, Block* y, float rmin, float rdelta, int nstep) {
  constexpr int G = kQ45Groups;
  vf X[G][32], W[G][32], Lv[G][32];
  load_lanes<G, 32>(x, X);
  for (int g = 0; g < G; ++g) {
    vf sum_x2 = splat(0.f);
    for (int i = 0; i < 32; ++i) sum_x2 = vaddq_f32(sum_x2, vmulq_f32(X[g][i], X[g][i]));
    const vf av_x = vsqrtq_f32(vdivq_f32(sum_x2, splat(32.f)));  // FSQRT is correctly rounded, as sqrtf
    for (int i = 0; i < 32; ++i) W[g][i] = vaddq_f32(av_x, vabsq_f32(X[g][i]));
  }
  vf sv[G], mv[G];
  qkx(X, W, Lv, sv, mv, NMAX, rmin, rdelta, nstep);
  float scales[8], mins[8];
  for (int g = 0; g < G; ++g) {
    vst1q_f32(scales + 4 * g, sv[g]);
    vst1q_f32(mins + 4 * g, mv[g]);
  }
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t* s12 = y->scales;
  std::memset(s12, 0, 12);
  for (int j = 0; j < 8; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));  // narrowed, then capped
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      s12[j] = ls;
      s12[j + 4] = lm;
    } else {
      s12[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      s12[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      s12[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  y->d = float_to_half(max_scale / 63.f);
  y->dmin = float_to_half(max_min / 63.f);
  // Requantize against h(d)*sc, h(dmin)*m; a sub-block whose h(d)*sc is 0 keeps the search's L.
  alignas(16) uint8_t L[QK_K];
  const float hd = half_to_float(y->d), hm = half_to_float(y->dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, s12, &sc, &m);
    const float d = hd * sc;
    if (!d) {
      lane_bytes<32>(Lv[j / 4], j % 4, L + 32 * j);
      continue;
    }
    const float dm = hm * m;
    for (int h = 0; h < 32; h += 16) vst1q_u8(L + 32 * j + h, requant16<true>(x + 32 * j + h, dm, d, 0, NMAX, 0));
  }
  // Per 64 weights: 32 bytes, the first 32 in the low nibbles; Q5_K's 5th bits of L[64c + j]
  // and L[64c + 32 + j] go to bits 2c and 2c+1 of qh[j].
  uint8x16_t qh[2] = {vdupq_n_u8(0), vdupq_n_u8(0)};
  for (int c = 0; c < 4; ++c) {
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t a = vld1q_u8(L + 64 * c + 16 * h);
      const uint8x16_t b = vld1q_u8(L + 64 * c + 32 + 16 * h);
      vst1q_u8(y->qs + 32 * c + 16 * h, vsliq_n_u8(a, b, 4));  // SLI keeps a's low nibble, drops b's bit 4
      if (NMAX == 31) {
        const uint8x16_t bits = vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vshrq_n_u8(b, 4), 1));
        qh[h] = vorrq_u8(qh[h], vshlq_u8(bits, vdupq_n_s8(static_cast<int8_t>(2 * c))));
      }
    }
  }
  if constexpr (NMAX == 31) {
    vst1q_u8(y->qh, qh[0]);
    vst1q_u8(y->qh + 16, qh[1]);
  }
}

size_t quantize_q4_K_neon(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr) return quant::quantize_q4_K_ref(src, dst, nrows, n_per_row, imatrix);
  const int64_t nb = nrows * (n_per_row / QK_K);
  block_q4_K* y = static_cast<block_q4_K*>(dst);
  for (int64_t i = 0; i < nb; ++i) q45_block<15>(src + QK_K * i, y + i, -1.f, 0.1f, 20);
  return static_cast<size_t>(nb) * sizeof(block_q4_K);
}

size_t quantize_q5_K_neon(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr) return quant::quantize_q5_K_ref(src, dst, nrows, n_per_row, imatrix);
  const int64_t nb = nrows * (n_per_row / QK_K);
  block_q5_K* y = static_cast<block_q5_K*>(dst);
  for (int64_t i = 0; i < nb; ++i) q45_block<31>(src + QK_K * i, y + i, -0.5f, 0.1f, 15);
  return static_cast<size_t>(nb) * sizeof(block_q5_K);
}

// ---- Q6_K ---------------------------------------------------------------------------------------

constexpr int kQ6Groups = 4;  // 16 sub-blocks of 16: one super-block

// make_qx_quants(16, 32, x, L, nullptr) (rmse_type 1, weights x*x) for the 16 sub-blocks of one
// super-block: X[g][i]. Writes biased L (l + 32, or 0 for a sub-block below kGroupMaxEps) and
// scale.
void qx16(const vf (*X)[16], vf (*L)[16], vf* scale_out) {
  constexpr int G = kQ6Groups;
  const vf zero = splat(0.f);
  const vf bias = splat(32.f);
  vf mx[G], scale[G], best[G], W[G][16], WX[G][16];
  vm small[G];
  for (int g = 0; g < G; ++g) {
    vf amax = zero;
    mx[g] = zero;
    for (int i = 0; i < 16; ++i) {
      const vf xi = X[g][i];
      const vf ax = vabsq_f32(xi);
      const vm m = vcgtq_f32(ax, amax);  // strict, first on ties; false for NaN
      amax = sel(m, ax, amax);
      mx[g] = sel(m, xi, mx[g]);
      W[g][i] = vmulq_f32(xi, xi);
      WX[g][i] = vmulq_f32(W[g][i], xi);  // w*x, then *l: the reference's (w*x)*l
    }
    small[g] = vcltq_f32(amax, splat(kGroupMaxEps));
  }
  // Candidate is = 0 first (num 32), then is = -9..9 without 0; each keeps the reference's
  // expression for its iscale.
  vf Laux[G][16];
  for (int is = -10; is <= 9; ++is) {
    if (is == 0) continue;
    const bool first = is == -10;
    const float num = first ? -32.f : -(32 + 0.1f * is);
    vf sumlx[G], suml2[G];
    for (int g = 0; g < G; ++g) {
      const vf iscale = vdivq_f32(splat(num), mx[g]);
      sumlx[g] = suml2[g] = zero;
      vf* out = first ? L[g] : Laux[g];
      for (int i = 0; i < 16; ++i) {
        const vf l = nint_clamp(vmulq_f32(iscale, X[g][i]), -32, 31);
        out[i] = vaddq_f32(l, bias);
        sumlx[g] = vaddq_f32(sumlx[g], vmulq_f32(WX[g][i], l));
        suml2[g] = vaddq_f32(suml2[g], vmulq_f32(vmulq_f32(W[g][i], l), l));
      }
    }
    for (int g = 0; g < G; ++g) {
      if (first) {
        // `suml2 ? sumlx/suml2 : 0`: NaN counts as nonzero.
        scale[g] = sel(vceqq_f32(suml2[g], zero), zero, vdivq_f32(sumlx[g], suml2[g]));
        best[g] = vmulq_f32(scale[g], sumlx[g]);
        continue;
      }
      const vm upd = vandq_u32(vcgtq_f32(suml2[g], zero),
                               vcgtq_f32(vmulq_f32(sumlx[g], sumlx[g]), vmulq_f32(best[g], suml2[g])));
      if (!any(upd)) continue;
      const vf ns = vdivq_f32(sumlx[g], suml2[g]);
      scale[g] = sel(upd, ns, scale[g]);
      best[g] = sel(upd, vmulq_f32(ns, sumlx[g]), best[g]);
      for (int i = 0; i < 16; ++i) L[g][i] = sel(upd, Laux[g][i], L[g][i]);
    }
  }
  for (int g = 0; g < G; ++g) {
    for (int i = 0; i < 16; ++i) L[g][i] = sel(small[g], zero, L[g][i]);
    scale_out[g] = sel(small[g], zero, scale[g]);
  }
}

// One Q6_K super-block: q6_K_block of kquants_ref.cpp without imatrix.
void q6_block(const float* x, block_q6_K* y) {
  constexpr int G = kQ6Groups;
  vf X[G][16], Lv[G][16], sv[G];
  load_lanes<G, 16>(x, X);
  qx16(X, Lv, sv);
  float scales[16];
  for (int g = 0; g < G; ++g) vst1q_f32(scales + 4 * g, sv[g]);
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < 16; ++ib) {
    const float abs_scale = std::fabs(scales[ib]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(y, 0, sizeof *y);
    return;
  }
  const float iscale = -128.f / max_scale;
  y->d = float_to_half(1 / iscale);
  for (int ib = 0; ib < 16; ++ib) {
    const int l = nearest_int(iscale * scales[ib]);
    y->scales[ib] = static_cast<int8_t>(l < 127 ? l : 127);
  }
  alignas(16) uint8_t L[QK_K];
  const float hd = half_to_float(y->d);
  for (int j = 0; j < 16; ++j) {
    const float d = hd * y->scales[j];
    if (!d) {
      lane_bytes<16>(Lv[j / 4], j % 4, L + 16 * j);
      continue;
    }
    vst1q_u8(L + 16 * j, requant16<false>(x + 16 * j, 0.f, d, -32, 31, 32));
  }
  // Per 128-half: ql holds low nibbles of (l, l+64) and (l+32, l+96); qh the four top-2-bit pairs.
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 2; ++c) {
      const uint8_t* Lh = L + 128 * h + 16 * c;
      const uint8x16_t a = vld1q_u8(Lh), b = vld1q_u8(Lh + 32), e = vld1q_u8(Lh + 64), f = vld1q_u8(Lh + 96);
      vst1q_u8(y->ql + 64 * h + 16 * c, vsliq_n_u8(a, e, 4));
      vst1q_u8(y->ql + 64 * h + 32 + 16 * c, vsliq_n_u8(b, f, 4));
      const uint8x16_t hi = vorrq_u8(vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vshrq_n_u8(b, 4), 2)),
                                     vorrq_u8(vshlq_n_u8(vshrq_n_u8(e, 4), 4), vshlq_n_u8(vshrq_n_u8(f, 4), 6)));
      vst1q_u8(y->qh + 32 * h + 16 * c, hi);
    }
  }
}

size_t quantize_q6_K_neon(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr) return quant::quantize_q6_K_ref(src, dst, nrows, n_per_row, imatrix);
  const int64_t nb = nrows * (n_per_row / QK_K);
  block_q6_K* y = static_cast<block_q6_K*>(dst);
  for (int64_t i = 0; i < nb; ++i) q6_block(src + QK_K * i, y + i);
  return static_cast<size_t>(nb) * sizeof(block_q6_K);
}

}  // namespace

void register_kquants_neon(KernelTable& table) {
  table.quantize_rows[static_cast<int>(quant::GgmlType::Q4_K)] = quantize_q4_K_neon;
  table.quantize_rows[static_cast<int>(quant::GgmlType::Q5_K)] = quantize_q5_K_neon;
  table.quantize_rows[static_cast<int>(quant::GgmlType::Q6_K)] = quantize_q6_K_neon;
}

}  // namespace gguf_forge
