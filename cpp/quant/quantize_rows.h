// Whole-tensor quantization and dequantization over the thread pool: the layer between the
// per-type kernels of the dispatch table (core/isa.h) and the Node-API surface.
//
// Rows are split into contiguous ranges by (ith, nth) only, and every row's bytes depend on that
// row alone (research/llamacpp.md §2.1), so the output never depends on the thread count.
// F16/BF16 sources are widened to f32 one row chunk at a time inside each task: the tensor is
// never copied to f32 as a whole.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/isa.h"

namespace gguf_forge {
namespace quant {

struct QuantizeRowsJob {
  int type;                  // target ggml type id (quant_target_supported)
  int source_type;           // 0 F32, 1 F16, 30 BF16: little-endian elements at src
  const uint8_t* src;        // rows * cols source elements, any alignment
  uint8_t* dst;              // rows * row_size(type, cols) bytes, any alignment
  int64_t rows;
  int64_t cols;              // a whole number of the type's blocks, > 0
  const float* imatrix;      // null or cols weights, 4-byte aligned
  size_t threads;            // 0: the pool size
};

/** True for the target types quantize_rows handles (F32, F16, BF16, Q4_0 .. IQ4_XS). */
bool quant_target_supported(int type);
/** True for F32, F16 and BF16. */
bool quant_source_supported(int source_type);
/** Bytes per element of a source type (4 or 2). */
size_t source_element_size(int source_type);

/**
 * Quantizes job.rows rows with the kernels of `table`. `cancel` (may be null) is read before each
 * row chunk; returns false when it stopped because of it (dst is then partly written). The
 * caller has checked shapes, lengths and overlap.
 */
bool quantize_rows(const QuantizeRowsJob& job, const KernelTable& table, const std::atomic<bool>* cancel);

/** Dequantizes `count` weights (whole blocks) of `type` from src (any alignment) into dst. */
void dequantize_blocks(int type, const uint8_t* src, float* dst, int64_t count, size_t threads,
                       const KernelTable& table);

}  // namespace quant
}  // namespace gguf_forge
