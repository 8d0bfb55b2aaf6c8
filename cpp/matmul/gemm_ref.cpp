// Reference GEMM: each row of C accumulated in f32 over p = 0 .. k-1 in order (a[i][p] * b[p][j]
// then the sum, never fused: the build forbids contraction), then C = alpha * acc + beta * C.
// The i-p-j order keeps the inner loop on a row of B, so the compiler's baseline vectorisation
// makes it a reasonable (not a strawman) baseline for the blocked kernels in benchmarks.
#include <algorithm>
#include <vector>

#include "core/isa.h"
#include "core/thread_pool.h"
#include "matmul/gemm.h"

namespace gguf_forge {

bool gemm_ref(const GemmProblem& p, size_t nth, const std::atomic<bool>* cancel) {
  std::atomic<bool> stopped{false};
  parallel_for(nth, [&](size_t ith, size_t n_tasks) {
    // Contiguous row ranges from (ith, nth): every row's arithmetic is the same whoever runs it.
    const int64_t first = p.m * static_cast<int64_t>(ith) / static_cast<int64_t>(n_tasks);
    const int64_t last = p.m * static_cast<int64_t>(ith + 1) / static_cast<int64_t>(n_tasks);
    std::vector<float> acc(static_cast<size_t>(p.n));
    // Steps between consecutive op(B)[p][j] along j and along p.
    const int64_t b_col_step = p.trans_b ? p.ldb : 1;
    const int64_t b_row_step = p.trans_b ? 1 : p.ldb;
    for (int64_t i = first; i < last; ++i) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        stopped.store(true, std::memory_order_relaxed);
        return;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t q = 0; q < p.k; ++q) {
        const float a = p.trans_a ? p.a[q * p.lda + i] : p.a[i * p.lda + q];
        const float* b = p.b + q * b_row_step;
        if (b_col_step == 1) {
          for (int64_t j = 0; j < p.n; ++j) acc[j] += a * b[j];
        } else {
          for (int64_t j = 0; j < p.n; ++j) acc[j] += a * b[j * b_col_step];
        }
      }
      float* c = p.c + i * p.ldc;
      if (p.beta == 0.0f) {
        for (int64_t j = 0; j < p.n; ++j) c[j] = p.alpha * acc[j];
      } else {
        for (int64_t j = 0; j < p.n; ++j) c[j] = p.alpha * acc[j] + p.beta * c[j];
      }
    }
  });
  return !stopped.load();
}

void register_gemm_ref(KernelTable& table) { table.gemm = gemm_ref; }

}  // namespace gguf_forge
