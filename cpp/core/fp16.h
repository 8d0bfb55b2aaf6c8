// fp16 / bf16 scalar conversions: the reference every SIMD variant must equal bit for bit.
// They follow ggml exactly (src/ggml-impl.h ggml_compute_fp32_to_fp16 / _fp16_to_fp32 /
// ggml_compute_fp32_to_bf16; see research/llamacpp.md §2.2):
//   fp32 -> fp16: round to nearest even, subnormals kept, overflow to ±inf, NaN -> sign|0x7E00
//                 (the payload is dropped, unlike F16C's vcvtps2ph which keeps it).
//   fp16 -> fp32: exact; a signalling NaN comes back quiet with its payload (so does vcvtph2ps).
//   fp32 -> bf16: NaN -> (bits>>16)|0x40, else (bits + 0x7FFF + ((bits>>16)&1)) >> 16 (RNE,
//                 subnormals kept; AVX512-BF16's vcvtneps2bf16 flushes them, so it is not used).
//   bf16 -> fp32: bits << 16.
//
// Everything here has internal linkage (static inline) because this header is included by
// translation units compiled with different -m flags: an inline function with external linkage
// could be emitted by the AVX-512 unit and picked by the linker for the baseline path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstring>

namespace gguf_forge {

typedef uint16_t ggml_half;  // IEEE binary16 bits, as stored in GGUF tensors and block structs
typedef uint16_t ggml_bf16;  // bfloat16 bits

static inline uint32_t fp32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

static inline float fp32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

static inline float fp16_to_fp32(ggml_half h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & UINT32_C(0x80000000);
  const uint32_t two_w = w + w;

  const uint32_t exp_offset = UINT32_C(0xE0) << 23;
  const float exp_scale = fp32_from_bits(UINT32_C(0x7800000));  // 0x1.0p-112f
  const float normalized_value = fp32_from_bits((two_w >> 4) + exp_offset) * exp_scale;

  const uint32_t magic_mask = UINT32_C(126) << 23;
  const float magic_bias = 0.5f;
  const float denormalized_value = fp32_from_bits((two_w >> 17) | magic_mask) - magic_bias;

  const uint32_t denormalized_cutoff = UINT32_C(1) << 27;
  const uint32_t result =
      sign | (two_w < denormalized_cutoff ? fp32_to_bits(denormalized_value) : fp32_to_bits(normalized_value));
  return fp32_from_bits(result);
}

static inline ggml_half fp32_to_fp16(float f) {
  const float scale_to_inf = fp32_from_bits(UINT32_C(0x77800000));   // 0x1.0p+112f
  const float scale_to_zero = fp32_from_bits(UINT32_C(0x08800000));  // 0x1.0p-110f
  // Two separate roundings, in this order; -ffp-contract=off keeps the compiler from fusing them
  // with the add below.
  float base = (std::fabs(f) * scale_to_inf) * scale_to_zero;

  const uint32_t w = fp32_to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & UINT32_C(0x80000000);
  uint32_t bias = shl1_w & UINT32_C(0xFF000000);
  if (bias < UINT32_C(0x71000000)) bias = UINT32_C(0x71000000);

  base = fp32_from_bits((bias >> 1) + UINT32_C(0x07800000)) + base;
  const uint32_t bits = fp32_to_bits(base);
  const uint32_t exp_bits = (bits >> 13) & UINT32_C(0x00007C00);
  const uint32_t mantissa_bits = bits & UINT32_C(0x00000FFF);
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<ggml_half>((sign >> 16) | (shl1_w > UINT32_C(0xFF000000) ? UINT16_C(0x7E00) : nonsign));
}

static inline ggml_bf16 fp32_to_bf16(float f) {
  const uint32_t u = fp32_to_bits(f);
  if ((u & UINT32_C(0x7FFFFFFF)) > UINT32_C(0x7F800000)) return static_cast<ggml_bf16>((u >> 16) | 0x40);
  return static_cast<ggml_bf16>((u + (UINT32_C(0x7FFF) + ((u >> 16) & 1))) >> 16);
}

static inline float bf16_to_fp32(ggml_bf16 h) { return fp32_from_bits(static_cast<uint32_t>(h) << 16); }

}  // namespace gguf_forge
