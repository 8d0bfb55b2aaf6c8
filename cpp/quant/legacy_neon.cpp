// Legacy quantizers for NEON (AArch64, where Advanced SIMD is baseline): Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0 without imatrix; the imatrix path stays on the scalar reference. The same scheme as the
// x86 legacy_simd.inc, with the same rules, so the two can be read side by side:
//
// Vectorised within one block of 32 (8 x 4 lanes). The only cross-lane work is max/min, which is
// exact in any order; every per-element operation is the reference's, in the reference's order
// (x*id then + 8.5f, (x - min)*id then + 0.5f, ...; separate FMUL and FADD, never FMLA: this unit
// is built with -ffp-contract=off and fp_strict.h), and the scalar scale math (d, 1/d) is the
// reference's expression verbatim. Blocks whose bytes could depend on details the vector code does
// not reproduce go through the scalar reference (one block at a time):
//   - any NaN/inf input (the reference's NaN ordering, int conversion of NaN);
//   - a nonzero scale below FLT_MIN (1/d imprecise or infinite: |q| could leave the int8 range
//     where the reference wraps and the saturating FCVTZS/narrowing here would not);
//   - Q4_1/Q5_1 blocks whose min or max is ±0 (the reference keeps the first zero's sign; FMINV
//     and FMAXV order -0 below +0).
// Q4_0/Q5_0 keep the first index of largest magnitude (its sign decides d's sign); an all-zero
// block keeps max = +0 so d = -0, as the reference does.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <arm_neon.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"
#include "quant/blocks.h"
#include "quant/quant_ref.h"

namespace gguf_forge {
namespace {

using quant::block_q4_0;
using quant::block_q4_1;
using quant::block_q5_0;
using quant::block_q5_1;
using quant::block_q8_0;

// fp32 -> fp16 bits of two values at once (FCVTN: round to nearest even under the default FPCR,
// subnormals kept); equals quant::float_to_half for every non-NaN input.
inline void ln_f2h2(float a, float b, uint16_t* ha, uint16_t* hb) {
  const float32x4_t v = vsetq_lane_f32(b, vdupq_n_f32(a), 1);
  const uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(v));
  *ha = vget_lane_u16(h, 0);
  *hb = vget_lane_u16(h, 1);
}

inline uint16_t ln_f2h(float f) {
  return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0);
}

inline bool ln_subnormal_scale(float d) { return d != 0.0f && std::fabs(d) < FLT_MIN; }

struct LnBlock {
  float32x4_t v[8];
  uint32x4_t abits[8];  // |x| as bits
};

inline uint32_t ln_load(const float* x, LnBlock& b) {
  const uint32x4_t absmask = vdupq_n_u32(0x7FFFFFFF);
  for (int k = 0; k < 8; ++k) {
    b.v[k] = vld1q_f32(x + 4 * k);
    b.abits[k] = vandq_u32(vreinterpretq_u32_f32(b.v[k]), absmask);
  }
  // For non-negative floats the bit patterns order like the values, and inf/NaN sort above all
  // finite values: this is max|x| (as bits), and >= 0x7F800000 flags a non-finite element.
  const uint32x4_t m01 = vmaxq_u32(b.abits[0], b.abits[1]), m23 = vmaxq_u32(b.abits[2], b.abits[3]);
  const uint32x4_t m45 = vmaxq_u32(b.abits[4], b.abits[5]), m67 = vmaxq_u32(b.abits[6], b.abits[7]);
  return vmaxvq_u32(vmaxq_u32(vmaxq_u32(m01, m23), vmaxq_u32(m45, m67)));
}

// Sign of the first element of largest magnitude (reference: strict > scan from amax = 0): the
// smallest index whose |x| bits equal amax's.
inline float ln_first_max(const float* x, const LnBlock& b, uint32_t amax_bits) {
  if (amax_bits == 0) return 0.0f;
  const uint32x4_t t = vdupq_n_u32(amax_bits);
  const uint32x4_t none = vdupq_n_u32(32);
  static const uint32_t kIota[4] = {0, 1, 2, 3};
  uint32x4_t idx = vld1q_u32(kIota);
  uint32x4_t first = none;
  for (int k = 0; k < 8; ++k) {
    first = vminq_u32(first, vbslq_u32(vceqq_u32(b.abits[k], t), idx, none));
    idx = vaddq_u32(idx, vdupq_n_u32(4));
  }
  return x[vminvq_u32(first)];  // < 32: some lane holds amax
}

// Elements 4k..4k+15 (k = 0 or 4) of q, each 0..255, as bytes.
inline uint8x16_t ln_narrow16(const int32x4_t* q) {
  const uint16x8_t a = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(q[0])), vmovn_u32(vreinterpretq_u32_s32(q[1])));
  const uint16x8_t b = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(q[2])), vmovn_u32(vreinterpretq_u32_s32(q[3])));
  return vcombine_u8(vmovn_u16(a), vmovn_u16(b));
}

// Bit 4 of each of the 32 values (lo = elements 0-15, hi = 16-31), element j at bit j.
inline uint32_t ln_bit4(uint8x16_t lo, uint8x16_t hi) {
  static const uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bits = vld1q_u8(kBits);
  const uint8x16_t l = vandq_u8(vtstq_u8(lo, vdupq_n_u8(0x10)), bits);
  const uint8x16_t h = vandq_u8(vtstq_u8(hi, vdupq_n_u8(0x10)), bits);
  return static_cast<uint32_t>(vaddv_u8(vget_low_u8(l))) | static_cast<uint32_t>(vaddv_u8(vget_high_u8(l))) << 8 |
         static_cast<uint32_t>(vaddv_u8(vget_low_u8(h))) << 16 | static_cast<uint32_t>(vaddv_u8(vget_high_u8(h))) << 24;
}

// ---- per-block kernels; each returns false when the block must go to the reference ------------

inline bool ln_q8_0(const float* x, block_q8_0* y) {
  LnBlock b;
  const uint32_t amax_bits = ln_load(x, b);
  if (amax_bits >= 0x7F800000u) return false;
  float amax;
  std::memcpy(&amax, &amax_bits, sizeof amax);
  const float d = amax / 127;
  if (ln_subnormal_scale(d)) return false;
  const float id = d ? 1.0f / d : 0.0f;
  y->d = ln_f2h(d);
  const float32x4_t vid = vdupq_n_f32(id);
  int16x8_t h[4];
  for (int k = 0; k < 4; ++k) {
    // FCVTAS rounds half away from zero, as roundf does; |q| <= 127 here (d normal, every
    // |x| <= amax), so the narrowing is exact.
    const int32x4_t q0 = vcvtaq_s32_f32(vmulq_f32(b.v[2 * k], vid));
    const int32x4_t q1 = vcvtaq_s32_f32(vmulq_f32(b.v[2 * k + 1], vid));
    h[k] = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
  }
  vst1q_s8(y->qs, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
  vst1q_s8(y->qs + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
  return true;
}

// Q4_0 (nmax = 8, bias 8.5, clamp 15) and Q5_0 (nmax = 16, bias 16.5, clamp 31): the clamped
// values of elements 0-15 in *lo and 16-31 in *hi.
template <int NMAX>
inline bool ln_q_0(const float* x, uint16_t* d_out, uint8x16_t* lo, uint8x16_t* hi) {
  LnBlock b;
  const uint32_t amax_bits = ln_load(x, b);
  if (amax_bits >= 0x7F800000u) return false;
  const float max = ln_first_max(x, b, amax_bits);
  const float d = max / -NMAX;
  if (ln_subnormal_scale(d)) return false;
  const float id = d ? 1.0f / d : 0.0f;
  *d_out = ln_f2h(d);
  const float32x4_t vid = vdupq_n_f32(id);
  const float32x4_t bias = vdupq_n_f32(NMAX + 0.5f);
  int32x4_t q[8];
  for (int k = 0; k < 8; ++k) {
    // (int8_t)(x*id + bias): the sum is in [0, 2*NMAX+1), so truncation needs no int8 wrap.
    q[k] = vcvtq_s32_f32(vaddq_f32(vmulq_f32(b.v[k], vid), bias));
  }
  const uint8x16_t clamp = vdupq_n_u8(2 * NMAX - 1);
  *lo = vminq_u8(ln_narrow16(q), clamp);
  *hi = vminq_u8(ln_narrow16(q + 4), clamp);
  return true;
}

inline bool ln_q4_0(const float* x, block_q4_0* y) {
  uint16_t dh;
  uint8x16_t lo, hi;
  if (!ln_q_0<8>(x, &dh, &lo, &hi)) return false;
  y->d = dh;
  vst1q_u8(y->qs, vsliq_n_u8(lo, hi, 4));  // element j low nibble, element j+16 high nibble
  return true;
}

inline bool ln_q5_0(const float* x, block_q5_0* y) {
  uint16_t dh;
  uint8x16_t lo, hi;
  if (!ln_q_0<16>(x, &dh, &lo, &hi)) return false;
  y->d = dh;
  const uint32_t qh = ln_bit4(lo, hi);
  std::memcpy(y->qh, &qh, sizeof qh);
  vst1q_u8(y->qs, vsliq_n_u8(lo, hi, 4));  // SLI keeps lo's low nibble and drops hi's bit 4
  return true;
}

// Q4_1 (NMAX = 15, clamp 15) and Q5_1 (NMAX = 31, no clamp in the reference: values stay <= 31,
// and only their low 5 bits are stored either way).
template <int NMAX>
inline bool ln_q_1(const float* x, uint16_t* d_out, uint16_t* m_out, uint8x16_t* lo, uint8x16_t* hi) {
  LnBlock b;
  const uint32_t amax_bits = ln_load(x, b);
  if (amax_bits >= 0x7F800000u) return false;
  float32x4_t mn = vminq_f32(vminq_f32(b.v[0], b.v[1]), vminq_f32(b.v[2], b.v[3]));
  float32x4_t mx = vmaxq_f32(vmaxq_f32(b.v[0], b.v[1]), vmaxq_f32(b.v[2], b.v[3]));
  mn = vminq_f32(mn, vminq_f32(vminq_f32(b.v[4], b.v[5]), vminq_f32(b.v[6], b.v[7])));
  mx = vmaxq_f32(mx, vmaxq_f32(vmaxq_f32(b.v[4], b.v[5]), vmaxq_f32(b.v[6], b.v[7])));
  const float min = vminvq_f32(mn);
  const float max = vmaxvq_f32(mx);
  if (min == 0.0f || max == 0.0f) return false;  // sign of a zero min/max: first one wins
  const float d = (max - min) / NMAX;
  if (ln_subnormal_scale(d) || std::isinf(d)) return false;
  const float id = d ? 1.0f / d : 0.0f;
  ln_f2h2(d, min, d_out, m_out);
  const float32x4_t vmin = vdupq_n_f32(min);
  const float32x4_t vid = vdupq_n_f32(id);
  const float32x4_t half = vdupq_n_f32(0.5f);
  int32x4_t q[8];
  for (int k = 0; k < 8; ++k) q[k] = vcvtq_s32_f32(vaddq_f32(vmulq_f32(vsubq_f32(b.v[k], vmin), vid), half));
  *lo = ln_narrow16(q);
  *hi = ln_narrow16(q + 4);
  if (NMAX == 15) {
    *lo = vminq_u8(*lo, vdupq_n_u8(15));
    *hi = vminq_u8(*hi, vdupq_n_u8(15));
  }
  return true;
}

inline bool ln_q4_1(const float* x, block_q4_1* y) {
  uint16_t dh, mh;
  uint8x16_t lo, hi;
  if (!ln_q_1<15>(x, &dh, &mh, &lo, &hi)) return false;
  y->d = dh;
  y->m = mh;
  vst1q_u8(y->qs, vsliq_n_u8(lo, hi, 4));
  return true;
}

inline bool ln_q5_1(const float* x, block_q5_1* y) {
  uint16_t dh, mh;
  uint8x16_t lo, hi;
  if (!ln_q_1<31>(x, &dh, &mh, &lo, &hi)) return false;
  y->d = dh;
  y->m = mh;
  const uint32_t qh = ln_bit4(lo, hi);
  std::memcpy(y->qh, &qh, sizeof qh);
  vst1q_u8(y->qs, vsliq_n_u8(lo, hi, 4));
  return true;
}

// ---- row driver --------------------------------------------------------------------------------

typedef size_t (*LnRefFn)(const float*, void*, int64_t, int64_t, const float*);

template <typename Block, bool (*Kernel)(const float*, Block*), LnRefFn Ref>
size_t ln_rows(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (imatrix != nullptr || n_per_row % 32 != 0 || nrows <= 0) return Ref(src, dst, nrows, n_per_row, imatrix);
  const int64_t nb = nrows * (n_per_row / 32);
  Block* y = static_cast<Block*>(dst);
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + 32 * i;
    if (!Kernel(x, y + i)) Ref(x, y + i, 1, 32, nullptr);
  }
  return static_cast<size_t>(nb) * sizeof(Block);
}

}  // namespace

void register_legacy_neon(KernelTable& table) {
  table.quantize_rows[8] = &ln_rows<block_q8_0, ln_q8_0, quant::quantize_q8_0_ref>;
  table.quantize_rows[2] = &ln_rows<block_q4_0, ln_q4_0, quant::quantize_q4_0_ref>;
  table.quantize_rows[3] = &ln_rows<block_q4_1, ln_q4_1, quant::quantize_q4_1_ref>;
  table.quantize_rows[6] = &ln_rows<block_q5_0, ln_q5_0, quant::quantize_q5_0_ref>;
  table.quantize_rows[7] = &ln_rows<block_q5_1, ln_q5_1, quant::quantize_q5_1_ref>;
}

}  // namespace gguf_forge
