// Blocked GEMM for avx2 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// AVX2 + FMA: 6 x 16 register tiles; the body is gemm_simd.inc.
#include "core/isa.h"
#include "matmul/gemm_simd.inc"

namespace gguf_forge {

void register_gemm_avx2(KernelTable& table) { table.gemm = gemm_blocked; }

}  // namespace gguf_forge
