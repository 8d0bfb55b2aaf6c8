// The quantizers' names for the scalar fp16/bf16 conversions of cpp/core/fp16.h (one
// implementation, ggml's exact rounding: see that header and research/llamacpp.md §2.2).
// static inline: this header is included by units built with different -m flags.
#pragma once

#include <cstdint>

#include "core/fp16.h"

namespace gguf_forge {
namespace quant {

static inline uint32_t f32_bits(float f) { return fp32_to_bits(f); }
static inline float f32_from_bits(uint32_t u) { return fp32_from_bits(u); }
static inline float half_to_float(uint16_t h) { return fp16_to_fp32(h); }
static inline uint16_t float_to_half(float f) { return fp32_to_fp16(f); }
static inline uint16_t float_to_bf16(float f) { return fp32_to_bf16(f); }
static inline float bf16_to_float(uint16_t h) { return bf16_to_fp32(h); }

}  // namespace quant
}  // namespace gguf_forge
