// The row loop shared by the reference quantizers, as ggml_quantize_chunk runs it: without an
// importance matrix the whole range goes through the block quantizer in one call (rows do not
// interact); with one, each row goes through the weighted path with the same per-column weights.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gguf_forge {
namespace quant {
namespace {

template <typename Block, int64_t BlockValues>
size_t quantize_ref_rows(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix,
                         void (*plain)(const float*, Block*, int64_t),
                         void (*weighted)(const float*, Block*, int64_t, const float*)) {
  Block* y = static_cast<Block*>(dst);
  const int64_t blocks_per_row = n_per_row / BlockValues;
  if (imatrix == nullptr || weighted == nullptr) {
    plain(src, y, nrows * n_per_row);
  } else {
    for (int64_t row = 0; row < nrows; ++row) {
      weighted(src + row * n_per_row, y + row * blocks_per_row, n_per_row, imatrix);
    }
  }
  return static_cast<size_t>(nrows * blocks_per_row) * sizeof(Block);
}

}  // namespace
}  // namespace quant
}  // namespace gguf_forge
