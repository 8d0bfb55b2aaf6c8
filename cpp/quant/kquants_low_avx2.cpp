// kquants_low quantizers for avx2 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// Kernels live in kquants_low_simd.inc (shared with the other x86 variant), 8 lanes per vector.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"

#define Q3_LANES 8
#define Q3_GROUPS 4
#include "quant/kquants_low_simd.inc"
#undef Q3_LANES
#undef Q3_GROUPS

namespace gguf_forge {

void register_kquants_low_avx2(KernelTable& table) { register_kquants_low_simd(table); }

}  // namespace gguf_forge
