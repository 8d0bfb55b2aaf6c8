// NEON row converters (baseline on AArch64). FCVTN/FCVTL round to nearest even under the default
// FPCR (Linux and macOS leave FZ/DN off), keep subnormals, and like F16C keep NaN payloads, so NaN
// lanes are replaced by the payload-free quiet NaN first (ggml writes sign|0x7E00).
#include <arm_neon.h>

#include "core/fp16.h"
#include "core/isa.h"

namespace gguf_forge {
namespace {

inline float32x4_t canonicalize_nan(float32x4_t x) {
  const uint32x4_t u = vreinterpretq_u32_f32(x);
  const uint32x4_t is_nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
  const uint32x4_t quiet = vorrq_u32(vandq_u32(u, vdupq_n_u32(0x80000000)), vdupq_n_u32(0x7FC00000));
  return vreinterpretq_f32_u32(vbslq_u32(is_nan, quiet, u));
}

void fp32_to_fp16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float16x4_t h = vcvt_f16_f32(canonicalize_nan(vld1q_f32(src + i)));
    vst1_u16(dst + i, vreinterpret_u16_f16(h));
  }
  for (; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

void fp16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  for (; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void fp32_to_bf16_row(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32x4_t u = vld1q_u32(reinterpret_cast<const uint32_t*>(src + i));
    const uint32x4_t hi = vshrq_n_u32(u, 16);
    const uint32x4_t is_nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    const uint32x4_t bias = vaddq_u32(vdupq_n_u32(0x7FFF), vandq_u32(hi, vdupq_n_u32(1)));
    const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, bias), 16);
    const uint32x4_t r = vbslq_u32(is_nan, vorrq_u32(hi, vdupq_n_u32(0x40)), rounded);
    vst1_u16(dst + i, vmovn_u32(r));
  }
  for (; i < n; ++i) dst[i] = fp32_to_bf16(src[i]);
}

void bf16_to_fp32_row(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    vst1q_u32(reinterpret_cast<uint32_t*>(dst + i), vshll_n_u16(vld1_u16(src + i), 16));
  }
  for (; i < n; ++i) dst[i] = bf16_to_fp32(src[i]);
}

}  // namespace

void register_fp16_neon(KernelTable& table) {
  table.fp32_to_fp16_row = fp32_to_fp16_row;
  table.fp16_to_fp32_row = fp16_to_fp32_row;
  table.fp32_to_bf16_row = fp32_to_bf16_row;
  table.bf16_to_fp32_row = bf16_to_fp32_row;
}

}  // namespace gguf_forge
