// legacy quantizers for avx512 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 without imatrix; the imatrix path stays on the scalar reference.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include "core/isa.h"
#include "quant/legacy_simd.inc"

namespace gguf_forge {

void register_legacy_avx512(KernelTable& table) { ls_register(table); }

}  // namespace gguf_forge
