// iq4 quantizers for avx512 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
// IQ4_NL and IQ4_XS without imatrix; kernels live in iq4_simd.inc, 16 lanes per vector.
#include "quant/fp_strict.h"  // first: no FMA contraction below

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/isa.h"

#define IQ4_LANES 16
#include "quant/iq4_simd.inc"
#undef IQ4_LANES

namespace gguf_forge {

void register_iq4_avx512(KernelTable& table) { register_iq4_simd(table); }

}  // namespace gguf_forge
