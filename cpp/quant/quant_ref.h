// Scalar reference quantizers: the specification every faster kernel must equal bit for bit.
//
// quantize_<type>_ref(src, dst, nrows, n_per_row, imatrix) writes exactly the bytes that ggml's
// ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix) writes on x86-64 (ggml-base
// is built without -m flags, so with no FMA contraction; research/llamacpp.md §2) and returns the
// byte count. imatrix is null or holds n_per_row weights, the same for every row:
//   - without it: quantize_row_<type>_ref over the rows (for IQ4_NL/IQ4_XS, the ntry=7 scale
//     search that the chunk path uses, not ggml's cheaper quantize_row_iq4_nl_ref);
//   - with it: ggml's quantize_row_<type>_impl paths; Q8_0 ignores it.
// n_per_row must be a multiple of the type's block size (32, or 256 for k-quants and IQ4_XS);
// callers check that (row_size() returns 0 otherwise). src and dst must not overlap.
//
// dequantize_row_<type>_ref(src, dst, k) equals ggml's dequantize_row_<type> for k weights.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/blocks.h"

namespace gguf_forge {
namespace quant {

size_t quantize_q4_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q4_1_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_1_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q8_0_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q2_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q3_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q4_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q6_K_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_iq4_nl_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_iq4_xs_ref(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);

void dequantize_row_q4_0_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q4_1_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q5_0_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q5_1_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q8_0_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q2_K_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q3_K_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q4_K_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q5_K_ref(const void* src, float* dst, int64_t k);
void dequantize_row_q6_K_ref(const void* src, float* dst, int64_t k);
void dequantize_row_iq4_nl_ref(const void* src, float* dst, int64_t k);
void dequantize_row_iq4_xs_ref(const void* src, float* dst, int64_t k);

// ggml_quantize_chunk for any type in GgmlType (F32 copies, F16 and BF16 round to nearest even).
// Returns the bytes written, or 0 for an unknown type or a row length that is not a whole number
// of blocks (nothing is written then).
size_t quantize_chunk_ref(int type, const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                          const float* imatrix);

// ggml's to_float for any type in GgmlType. Returns false (writing nothing) for an unknown type or
// a k that is not a whole number of blocks.
bool dequantize_row_ref(int type, const void* src, float* dst, int64_t k);

}  // namespace quant
}  // namespace gguf_forge
