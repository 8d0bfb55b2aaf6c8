// Blocked GEMM for neon (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// AArch64 NEON: 8 x 12 register tiles (built only on arm64, where NEON is baseline); the body is gemm_simd.inc.
#include "core/isa.h"
#include "matmul/gemm_simd.inc"

namespace gguf_forge {

void register_gemm_neon(KernelTable& table) { table.gemm = gemm_blocked; }

}  // namespace gguf_forge
