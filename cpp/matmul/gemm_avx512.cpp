// Blocked GEMM for avx512 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// AVX-512F: 14 x 32 register tiles; the body is gemm_simd.inc.
#include "core/isa.h"
#include "matmul/gemm_simd.inc"

namespace gguf_forge {

void register_gemm_avx512(KernelTable& table) { table.gemm = gemm_blocked; }

}  // namespace gguf_forge
