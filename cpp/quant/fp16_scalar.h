// Scalar fp32 <-> fp16/bf16 for the reference quantizers, private to cpp/quant (cpp/core/fp16.h
// has the dispatched row converters; these two are meant to merge). They follow ggml exactly
// (src/ggml-impl.h, research/llamacpp.md §2.2): fp32 -> fp16 is Maratyszcza's bit trick, i.e.
// round-to-nearest-even with subnormals kept, overflow to ±inf and NaN -> sign|0x7E00.
// static inline: this header may be included by units built with different -m flags.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gguf_forge {
namespace quant {

static inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

static inline float half_to_float(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & UINT32_C(0x80000000);
  const uint32_t two_w = w + w;
  // Normal: shift the exponent/mantissa into place and rebias by multiplying with 2^-112.
  const float normalized = f32_from_bits((two_w >> 4) + (UINT32_C(0xE0) << 23)) * f32_from_bits(UINT32_C(0x07800000));
  // Subnormal: the mantissa placed under 0.5's exponent, minus 0.5, is exact.
  const float denormalized = f32_from_bits((two_w >> 17) | (UINT32_C(126) << 23)) - 0.5f;
  const uint32_t result = sign | (two_w < (UINT32_C(1) << 27) ? f32_bits(denormalized) : f32_bits(normalized));
  return f32_from_bits(result);
}

static inline uint16_t float_to_half(float f) {
  // Two separately rounded multiplies (2^112 then 2^-110): overflow becomes inf here, and the add
  // below rounds the mantissa to 10 bits with the FPU's round-to-nearest-even.
  float base = (std::fabs(f) * f32_from_bits(UINT32_C(0x77800000))) * f32_from_bits(UINT32_C(0x08800000));
  const uint32_t w = f32_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & UINT32_C(0x80000000);
  uint32_t bias = shl1_w & UINT32_C(0xFF000000);
  if (bias < UINT32_C(0x71000000)) bias = UINT32_C(0x71000000);
  base = f32_from_bits((bias >> 1) + UINT32_C(0x07800000)) + base;
  const uint32_t bits = f32_bits(base);
  const uint32_t nonsign = ((bits >> 13) & UINT32_C(0x00007C00)) + (bits & UINT32_C(0x00000FFF));
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > UINT32_C(0xFF000000) ? UINT32_C(0x7E00) : nonsign));
}

static inline uint16_t float_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & UINT32_C(0x7FFFFFFF)) > UINT32_C(0x7F800000)) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  return static_cast<uint16_t>((u + (UINT32_C(0x7FFF) + ((u >> 16) & 1))) >> 16);
}

static inline float bf16_to_float(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

}  // namespace quant
}  // namespace gguf_forge
