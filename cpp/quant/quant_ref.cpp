// The one dispatch point of the reference quantizers: ggml_quantize_chunk and to_float by type id.
#include "quant/fp_strict.h"  // first: float_to_half must not fuse its multiply and add

#include "quant/quant_ref.h"

#include <cstring>

#include "core/isa.h"

#include "quant/fp16_scalar.h"

namespace gguf_forge {
namespace quant {

namespace {

typedef size_t (*QuantizeFn)(const float*, void*, int64_t, int64_t, const float*);
typedef void (*DequantizeFn)(const void*, float*, int64_t);

size_t quantize_f32(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  const size_t bytes = static_cast<size_t>(nrows * n_per_row) * sizeof(float);
  std::memcpy(dst, src, bytes);
  return bytes;
}

size_t quantize_f16(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  const int64_t n = nrows * n_per_row;
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = float_to_half(src[i]);
  return static_cast<size_t>(n) * sizeof(uint16_t);
}

size_t quantize_bf16(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  const int64_t n = nrows * n_per_row;
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = float_to_bf16(src[i]);
  return static_cast<size_t>(n) * sizeof(uint16_t);
}

void dequantize_f32(const void* src, float* dst, int64_t k) {
  std::memcpy(dst, src, static_cast<size_t>(k) * sizeof(float));
}

void dequantize_f16(const void* src, float* dst, int64_t k) {
  const uint16_t* x = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < k; ++i) dst[i] = half_to_float(x[i]);
}

void dequantize_bf16(const void* src, float* dst, int64_t k) {
  const uint16_t* x = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < k; ++i) dst[i] = bf16_to_float(x[i]);
}

struct Kernels {
  QuantizeFn quantize;
  DequantizeFn dequantize;
};

Kernels kernels_for(int type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: return {quantize_f32, dequantize_f32};
    case GgmlType::F16: return {quantize_f16, dequantize_f16};
    case GgmlType::BF16: return {quantize_bf16, dequantize_bf16};
    case GgmlType::Q4_0: return {quantize_q4_0_ref, dequantize_row_q4_0_ref};
    case GgmlType::Q4_1: return {quantize_q4_1_ref, dequantize_row_q4_1_ref};
    case GgmlType::Q5_0: return {quantize_q5_0_ref, dequantize_row_q5_0_ref};
    case GgmlType::Q5_1: return {quantize_q5_1_ref, dequantize_row_q5_1_ref};
    case GgmlType::Q8_0: return {quantize_q8_0_ref, dequantize_row_q8_0_ref};
    case GgmlType::Q2_K: return {quantize_q2_K_ref, dequantize_row_q2_K_ref};
    case GgmlType::Q3_K: return {quantize_q3_K_ref, dequantize_row_q3_K_ref};
    case GgmlType::Q4_K: return {quantize_q4_K_ref, dequantize_row_q4_K_ref};
    case GgmlType::Q5_K: return {quantize_q5_K_ref, dequantize_row_q5_K_ref};
    case GgmlType::Q6_K: return {quantize_q6_K_ref, dequantize_row_q6_K_ref};
    case GgmlType::IQ4_NL: return {quantize_iq4_nl_ref, dequantize_row_iq4_nl_ref};
    case GgmlType::IQ4_XS: return {quantize_iq4_xs_ref, dequantize_row_iq4_xs_ref};
  }
  return {nullptr, nullptr};
}

}  // namespace

size_t quantize_chunk_ref(int type, const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                          const float* imatrix) {
  const Kernels k = kernels_for(type);
  if (k.quantize == nullptr || nrows < 0 || row_size(type, n_per_row) == 0) return 0;
  return k.quantize(src, dst, nrows, n_per_row, imatrix);
}

bool dequantize_row_ref(int type, const void* src, float* dst, int64_t k) {
  const Kernels kern = kernels_for(type);
  if (kern.dequantize == nullptr || (k != 0 && row_size(type, k) == 0)) return false;
  kern.dequantize(src, dst, k);
  return true;
}

}  // namespace quant

void register_quant_ref(KernelTable& table) {
  for (int type = 0; type < kQuantTypeSlots; ++type) {
    const quant::Kernels k = quant::kernels_for(type);
    table.quantize_rows[type] = k.quantize;
    table.dequantize_row[type] = k.dequantize;
  }
}

}  // namespace gguf_forge
