#include "quant/quantize_rows.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "quant/blocks.h"

namespace gguf_forge {
namespace quant {
namespace {

// Rows are handed to a kernel (and the cancel flag read) in chunks of about this many weights:
// 256 KiB of f32, small enough to stay in L2 when an F16/BF16 source is widened first.
constexpr int64_t kChunkElements = int64_t(1) << 16;
// Below this many weights one thread is faster than waking the pool.
constexpr int64_t kParallelMinElements = int64_t(1) << 14;

bool aligned(const void* p, size_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

size_t thread_count(size_t requested, int64_t units, int64_t elements) {
  size_t nth = requested == 0 ? pool_size() : std::min(requested, pool_size());
  if (elements < kParallelMinElements) nth = 1;
  return std::max<size_t>(1, std::min<size_t>(nth, static_cast<size_t>(std::max<int64_t>(units, 1))));
}

// Widens n source elements to f32 into out, or returns src itself when it already is aligned f32.
const float* source_as_f32(const QuantizeRowsJob& job, const KernelTable& table, const uint8_t* src, size_t n,
                           std::vector<float>& out, std::vector<uint16_t>& halves) {
  if (job.source_type == static_cast<int>(GgmlType::F32)) {
    if (aligned(src, alignof(float))) return reinterpret_cast<const float*>(src);
    out.resize(n);
    std::memcpy(out.data(), src, n * sizeof(float));
    return out.data();
  }
  const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
  if (!aligned(src, alignof(uint16_t))) {
    halves.resize(n);
    std::memcpy(halves.data(), src, n * sizeof(uint16_t));
    h = halves.data();
  }
  out.resize(n);
  if (job.source_type == static_cast<int>(GgmlType::F16)) {
    table.fp16_to_fp32_row(h, out.data(), n);
  } else {
    table.bf16_to_fp32_row(h, out.data(), n);
  }
  return out.data();
}

}  // namespace

bool quant_target_supported(int type) {
  return type >= 0 && type < kQuantTypeSlots && type_traits(type) != nullptr;
}

bool quant_source_supported(int source_type) {
  return source_type == static_cast<int>(GgmlType::F32) || source_type == static_cast<int>(GgmlType::F16) ||
         source_type == static_cast<int>(GgmlType::BF16);
}

size_t source_element_size(int source_type) {
  return source_type == static_cast<int>(GgmlType::F32) ? sizeof(float) : sizeof(uint16_t);
}

bool quantize_rows(const QuantizeRowsJob& job, const KernelTable& table, const std::atomic<bool>* cancel) {
  const QuantizeRowsFn kernel = table.quantize_rows[job.type];
  const size_t row_bytes = row_size(job.type, job.cols);
  const size_t src_row_bytes = static_cast<size_t>(job.cols) * source_element_size(job.source_type);
  const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / job.cols);
  const size_t nth = thread_count(job.threads, job.rows, job.rows * job.cols);
  std::atomic<bool> stopped{false};

  parallel_for(nth, [&](size_t ith, size_t n) {
    const int64_t first = job.rows * static_cast<int64_t>(ith) / static_cast<int64_t>(n);
    const int64_t last = job.rows * static_cast<int64_t>(ith + 1) / static_cast<int64_t>(n);
    std::vector<float> widened;
    std::vector<uint16_t> halves;
    std::vector<uint8_t> out;
    for (int64_t r = first; r < last; r += chunk_rows) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        stopped.store(true, std::memory_order_relaxed);
        return;
      }
      const int64_t nr = std::min(chunk_rows, last - r);
      const float* x = source_as_f32(job, table, job.src + static_cast<size_t>(r) * src_row_bytes,
                                     static_cast<size_t>(nr * job.cols), widened, halves);
      uint8_t* y = job.dst + static_cast<size_t>(r) * row_bytes;
      // F16 targets take the dispatch table's SIMD row converter (bit-exact with ggml's
      // ggml_fp32_to_fp16_row, as the reference kernel is): a conversion should run at memory speed.
      if (job.type == static_cast<int>(GgmlType::F16) && aligned(y, alignof(uint16_t))) {
        table.fp32_to_fp16_row(x, reinterpret_cast<uint16_t*>(y), static_cast<size_t>(nr * job.cols));
        continue;
      }
      // Block structs hold uint16 fields and F32 rows floats: write through an aligned buffer
      // when the caller's view is not aligned.
      if (aligned(y, alignof(float))) {
        kernel(x, y, nr, job.cols, job.imatrix);
      } else {
        out.resize(static_cast<size_t>(nr) * row_bytes);
        kernel(x, out.data(), nr, job.cols, job.imatrix);
        std::memcpy(y, out.data(), out.size());
      }
    }
  });
  return !stopped.load();
}

void dequantize_blocks(int type, const uint8_t* src, float* dst, int64_t count, size_t threads,
                       const KernelTable& table) {
  const TypeTraits* traits = type_traits(type);
  const DequantizeRowFn kernel = table.dequantize_row[type];
  const int64_t block = traits->block_size;
  const int64_t blocks = count / block;
  const int64_t chunk_blocks = std::max<int64_t>(1, kChunkElements / block);
  const size_t nth = thread_count(threads, blocks, count);

  parallel_for(nth, [&](size_t ith, size_t n) {
    const int64_t first = blocks * static_cast<int64_t>(ith) / static_cast<int64_t>(n);
    const int64_t last = blocks * static_cast<int64_t>(ith + 1) / static_cast<int64_t>(n);
    std::vector<uint8_t> in;
    for (int64_t b = first; b < last; b += chunk_blocks) {
      const int64_t nb = std::min(chunk_blocks, last - b);
      const uint8_t* x = src + static_cast<size_t>(b) * static_cast<size_t>(traits->type_size);
      if (!aligned(x, alignof(float))) {
        in.resize(static_cast<size_t>(nb) * static_cast<size_t>(traits->type_size));
        std::memcpy(in.data(), x, in.size());
        x = in.data();
      }
      kernel(x, dst + b * block, nb * block);
    }
  });
}

}  // namespace quant
}  // namespace gguf_forge
