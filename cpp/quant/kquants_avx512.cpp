// kquants quantizers for avx512 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// Kernels live in kquants_simd.inc (shared with the other x86 variant), 16 lanes per vector.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"

#define KQ_LANES 16
// Independent vector groups per call (more hide latency, too many spill): measured on a
// Sapphire Rapids core; G = 1 is one Q2_K/Q6_K super-block (16 sub-blocks) per vector.
#define KQ_GROUPS 2
#define KQ_Q6_GROUPS 1
#define KQ_Q2_GROUPS 3
#include "quant/kquants_simd.inc"
#undef KQ_LANES
#undef KQ_GROUPS
#undef KQ_Q6_GROUPS
#undef KQ_Q2_GROUPS

namespace gguf_forge {

void register_kquants_avx512(KernelTable& table) { register_kquants_simd(table); }

}  // namespace gguf_forge
