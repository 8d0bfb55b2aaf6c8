// kquants_low quantizers for avx512 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
#include "core/isa.h"

namespace gguf_forge {

// Until the SIMD kernels land this ISA keeps the scalar references for these types.
void register_kquants_low_avx512(KernelTable&) {}

}  // namespace gguf_forge
