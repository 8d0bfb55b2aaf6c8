// CPU features as usable by this process: a feature counts only when the CPU has it AND the OS
// saves the register state it needs (x86: OSXSAVE + XCR0 via XGETBV; aarch64: HWCAP).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gguf_forge {

struct CpuFeatures {
  // x86-64
  bool sse2 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  // aarch64
  bool neon = false;
  bool dotprod = false;

  /** (name, value) pairs for every feature of this architecture, in a stable order. */
  std::vector<std::pair<std::string, bool>> list() const;
};

/** Detected once (thread-safe) and cached. */
const CpuFeatures& cpu_features();

}  // namespace gguf_forge
