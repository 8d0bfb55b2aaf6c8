// Single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, where op(A) is m x k and
// op(B) is k x n (each stored transposed when its flag is set). The first matmul kernel of the
// addon; LoRA merging (W += s * B * A) is its first user.
//
// Three tiers, as for the quantizers: gemm_ref.cpp is the spec (a plain row loop, the scalar
// table's entry), gemm_simd.inc the blocked, packed, register-tiled kernel compiled once per ISA,
// and gemm() below the front door that handles the degenerate cases the same way for every ISA.
//
// Determinism: every element of C is reduced over k in a fixed order, in blocks of a fixed size
// (256 in the SIMD kernels), whichever thread computes it, so results never depend on the thread
// count. The SIMD ISAs agree bit for bit (one FMA chain per element); the reference, which
// rounds every product, differs in low bits: the check is 1e-5 relative to a float64 product.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gguf_forge {

struct KernelTable;

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  // op(A)[i][p] = trans_a ? a[p * lda + i] : a[i * lda + p]
  const float* a = nullptr;
  int64_t lda = 0;
  bool trans_a = false;
  // op(B)[p][j] = trans_b ? b[j * ldb + p] : b[p * ldb + j]
  const float* b = nullptr;
  int64_t ldb = 0;
  bool trans_b = false;
  // C[i][j] = c[i * ldc + j]; must not overlap a or b.
  float* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.0f;
  // As in BLAS, beta == 0 means C is written without being read (NaNs in it do not survive).
  float beta = 0.0f;
};

/**
 * A kernel of the dispatch table. Called only with m, n, k >= 1 and alpha != 0 (gemm() handles
 * the rest); runs on `nth` >= 1 tasks of the pool (core/thread_pool.h). `cancel` (may be null)
 * is read between blocks; returns false when it stopped because of it, C then partly updated.
 */
typedef bool (*GemmFn)(const GemmProblem& p, size_t nth, const std::atomic<bool>* cancel);

/**
 * C = alpha * op(A) * op(B) + beta * C with the kernel of `table`, on up to `threads` tasks
 * (0: the pool size; small products run on the calling thread). With k == 0 or alpha == 0,
 * C = beta * C without reading A or B, as BLAS does. The caller has checked sizes and overlap.
 */
bool gemm(const GemmProblem& p, size_t threads, const KernelTable& table, const std::atomic<bool>* cancel);

/** The reference kernel (gemm_ref.cpp): the scalar table's entry and the spec the others match. */
bool gemm_ref(const GemmProblem& p, size_t nth, const std::atomic<bool>* cancel);

}  // namespace gguf_forge
