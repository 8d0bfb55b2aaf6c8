// iq4 quantizers for avx2 (compiled with that ISA's flags; see binding.gyp / CMakeLists.txt).
#include "core/isa.h"

namespace gguf_forge {

// Until the SIMD kernels land this ISA keeps the scalar references for these types.
void register_iq4_avx2(KernelTable&) {}

}  // namespace gguf_forge
