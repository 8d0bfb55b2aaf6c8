// kquants quantizers for avx2 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// Kernels live in kquants_simd.inc (shared with the other x86 variant), 8 lanes per vector.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"

#define KQ_LANES 8
// Independent vector groups per call (more hide latency, too many spill): measured on a
// Sapphire Rapids core; Q2_K/Q6_K need G*8 to cover whole super-blocks of 16 sub-blocks.
#define KQ_GROUPS 2
#define KQ_Q6_GROUPS 2
#define KQ_Q2_GROUPS 2
#include "quant/kquants_simd.inc"
#undef KQ_LANES
#undef KQ_GROUPS
#undef KQ_Q6_GROUPS
#undef KQ_Q2_GROUPS

namespace gguf_forge {

void register_kquants_avx2(KernelTable& table) { register_kquants_simd(table); }

}  // namespace gguf_forge
