// The scale searches shared by the reference quantizers: ggml-quants.c's make_qx_quants,
// make_q3_quants, make_qkx2_quants / make_qkx3_quants and make_qp_quants, same names so the two
// can be read side by side (research/llamacpp.md §2.3). Their results decide the output bytes, so
// every expression keeps ggml's operand order and types: binary32 only, sums accumulated
// sequentially from element 0, `w*x*l` meaning `(w*x)*(float)l`, no fused multiply-add (the whole
// module is built with -ffp-contract=off).
#pragma once

#include <cstdint>
#include <cmath>
#include <cstring>

namespace gguf_forge {
namespace quant {
namespace detail {

// Below this, a group's largest |x| counts as zero (ggml's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, by adding 1.5*2^23 and reading the low mantissa bits. Valid for
// |f| < 2^22; ggml only asserts that in debug builds, so larger values give the same garbage here
// as there. (Not lrintf: that would follow the current rounding mode and differ out of range.)
static inline int nearest_int(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007FFFFF) - 0x00400000;
}

static inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The element of largest magnitude, the first one on ties (strict >, as ggml): its sign decides
// the sign of a symmetric scale. Writes |that element| to *amax (0 for an all-zero group).
static inline float signed_absmax(const float* x, int n, float* amax) {
  float max = 0;
  float best = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > best) {
      best = ax;
      max = x[i];
    }
  }
  *amax = best;
  return max;
}

// Symmetric signed scale for x ≈ scale*(L - nmax), L in [0, 2*nmax-1]; make_qx_quants with
// rmse_type 1 (the only one the quantizers here use). Weights qw, or x² when qw is null. Tries
// 19 scales around -nmax/max and keeps the least-squares one. Returns 0 (and L = 0) for a group
// whose largest |x| is below kGroupMaxEps.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, const float* qw);

// Q3_K's scale: like make_qx_quants with w = x² but refined by up to 5 sweeps of coordinate
// descent instead of the 19-step search. L in [0, 2*nmax-1].
float make_q3_quants(int n, int nmax, const float* x, int8_t* L);

// Asymmetric fit x ≈ scale*L + min with min <= 0 and L in [0, nmax], searched over nstep+1 scales
// (rmin + rdelta*is + nmax)/(max - min); error is Σ w*|e| when use_mad, else Σ w*e². Writes -min
// to *the_min. Laux is scratch of n bytes. This is make_qkx2_quants, and also make_qkx3_quants
// when weights are given (all callers here give them): the two differ only in the degenerate
// test, `max == min` vs `max <= min`, which cannot disagree because min <= x[0] <= max.
float make_qkx_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                      uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);

// Positive scale for non-negative x (sub-block scales or mins), L in [0, nmax], weights qw:
// a 9-step search then up to 5 coordinate-descent sweeps.
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* qw);

}  // namespace detail
}  // namespace quant
}  // namespace gguf_forge
