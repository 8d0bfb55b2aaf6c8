// Standalone check of one ISA's GEMM kernel against a float64 product, for builds the test
// machine cannot load as an addon: test/matmul/neon.test.ts cross-compiles it with the NEON kernel
// and runs it under qemu-aarch64. Same shapes, layouts and scalings as gemm.test.ts, scaled to the
// NEON tile (8 x 12); also checks that 1 and 2 threads give the same bits and that beta 0 leaves
// no NaN of C. Prints one summary line; exits 1 on any failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/isa.h"
#include "matmul/gemm.h"

using namespace gguf_forge;

namespace {

uint32_t state = 12345;
float uniform() {  // xorshift32 in [-1, 1)
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return static_cast<float>(state / 4294967296.0 * 2 - 1);
}

}  // namespace

int main() {
  KernelTable simd{};
  register_gemm_neon(simd);
  const int64_t shapes[][3] = {{1, 1, 1},    {7, 13, 5},    {65, 33, 17}, {129, 257, 64}, {7, 11, 8},
                               {8, 12, 8},   {9, 13, 8},    {29, 47, 257}, {33, 65, 600}, {65, 40, 9},
                               {20, 517, 4}, {2, 4099, 3},  {1000, 3, 7}, {3, 1000, 7},   {50, 70, 1}};
  const float scalings[][2] = {{1.0f, 0.0f}, {0.37f, 1.0f}, {-2.0f, 0.5f}};
  double worst_all = 0;
  int failures = 0;
  for (const auto& s : shapes) {
    for (int layout = 0; layout < 4; ++layout) {
      for (const auto& sc : scalings) {
        const int64_t m = s[0], n = s[1], k = s[2];
        const bool ta = layout & 1, tb = layout & 2;
        std::vector<float> a(m * k), b(k * n), c0(m * n);
        for (float& x : a) x = uniform();
        for (float& x : b) x = uniform();
        for (float& x : c0) x = 4 * uniform();
        GemmProblem p;
        p.m = m, p.n = n, p.k = k;
        p.a = a.data(), p.lda = ta ? m : k, p.trans_a = ta;
        p.b = b.data(), p.ldb = tb ? k : n, p.trans_b = tb;
        p.ldc = n, p.alpha = sc[0], p.beta = sc[1];
        std::vector<float> one(m * n, NAN), two(m * n, NAN);
        if (p.beta != 0) one = two = c0;
        p.c = one.data();
        gemm(p, 1, simd, nullptr);
        p.c = two.data();
        gemm(p, 2, simd, nullptr);
        if (std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) != 0) {
          std::printf("%ldx%ldx%ld layout %d: 1 and 2 threads differ\n", long(m), long(n), long(k), layout);
          ++failures;
        }
        double worst = 0;
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0, magnitude = 0;
            for (int64_t q = 0; q < k; ++q) {
              const double t = double(ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
              sum += t;
              magnitude += std::fabs(t);
            }
            const double old = p.beta == 0 ? 0 : double(p.beta) * c0[i * n + j];
            const double e = std::fabs(one[i * n + j] - (p.alpha * sum + old)) / (std::fabs(p.alpha) * magnitude + std::fabs(old));
            if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
          }
        }
        if (worst > 1e-5) {
          std::printf("%ldx%ldx%ld layout %d alpha %g beta %g: error %g of the scale\n", long(m), long(n), long(k), layout,
                      p.alpha, p.beta, worst);
          ++failures;
        }
        if (worst > worst_all) worst_all = worst;
      }
    }
  }
  std::printf("gemm check: worst error %.3g of the scale, %d failures\n", worst_all, failures);
  return failures == 0 ? 0 : 1;
}
