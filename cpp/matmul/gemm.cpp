// Front door of the GEMM kernels: thread count and the cases no kernel sees (empty C, k == 0,
// alpha == 0), handled once so every ISA gives the same answer for them.
#include "matmul/gemm.h"

#include <algorithm>

#include "core/isa.h"
#include "core/thread_pool.h"

namespace gguf_forge {
namespace {

// Below about this many multiply-adds, waking the pool costs more than it saves.
constexpr int64_t kParallelMinMacs = int64_t(1) << 18;

// C = beta * C, C not read when beta == 0 (BLAS: an uninitialised C is allowed then).
void scale_c(const GemmProblem& p) {
  for (int64_t i = 0; i < p.m; ++i) {
    float* c = p.c + i * p.ldc;
    if (p.beta == 0.0f) {
      std::fill(c, c + p.n, 0.0f);
    } else if (p.beta != 1.0f) {
      for (int64_t j = 0; j < p.n; ++j) c[j] = p.beta * c[j];
    }
  }
}

}  // namespace

bool gemm(const GemmProblem& p, size_t threads, const KernelTable& table, const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load()) return false;
  if (p.m == 0 || p.n == 0) return true;
  if (p.k == 0 || p.alpha == 0.0f) {
    scale_c(p);
    return true;
  }
  size_t nth = threads == 0 ? pool_size() : std::min(threads, pool_size());
  // m*n*k can overflow for valid shapes (k huge, C tiny), so compare k with a quotient.
  if (p.k < kParallelMinMacs / (p.m * p.n)) nth = 1;
  return table.gemm(p, std::max<size_t>(nth, 1), cancel);
}

}  // namespace gguf_forge
