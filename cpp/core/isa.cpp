#include "core/isa.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "core/cpu_features.h"

namespace gguf_forge {
namespace {

KernelTable scalar_table() {
  KernelTable t{};
  t.isa = Isa::scalar;
  t.fp32_to_fp16_row = fp32_to_fp16_row_ref;
  t.fp16_to_fp32_row = fp16_to_fp32_row_ref;
  t.fp32_to_bf16_row = fp32_to_bf16_row_ref;
  t.bf16_to_fp32_row = bf16_to_fp32_row_ref;
  register_quant_ref(t);
  register_gemm_ref(t);
  return t;
}

bool compiled_in(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(GGUF_FORGE_HAVE_AVX2)
    case Isa::avx2:
      return true;
#endif
#if defined(GGUF_FORGE_HAVE_AVX512)
    case Isa::avx512:
      return true;
#endif
#if defined(GGUF_FORGE_HAVE_NEON)
    case Isa::neon:
      return true;
#endif
    default:
      return false;
  }
}

bool runnable(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return f.avx2 && f.fma && f.f16c;
    case Isa::avx512:
      return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl;
    case Isa::neon:
      return f.neon;
  }
  return false;
}

KernelTable build_table(Isa isa) {
  KernelTable t = scalar_table();
  t.isa = isa;
  switch (isa) {
    case Isa::scalar:
      break;
#if defined(GGUF_FORGE_HAVE_AVX2)
    case Isa::avx2:
      register_fp16_avx2(t);
      register_legacy_avx2(t);
      register_kquants_avx2(t);
      register_kquants_low_avx2(t);
      register_iq4_avx2(t);
      register_gemm_avx2(t);
      break;
#endif
#if defined(GGUF_FORGE_HAVE_AVX512)
    case Isa::avx512:
      register_fp16_avx512(t);
      register_legacy_avx512(t);
      register_kquants_avx512(t);
      register_kquants_low_avx512(t);
      register_iq4_avx512(t);
      register_gemm_avx512(t);
      break;
#endif
#if defined(GGUF_FORGE_HAVE_NEON)
    case Isa::neon:
      register_fp16_neon(t);
      register_legacy_neon(t);
      register_iq4_neon(t);
      register_kquants_neon(t);
      register_gemm_neon(t);
      break;
#endif
    default:
      break;
  }
  return t;
}

struct Dispatch {
  KernelTable tables[4];
  std::vector<Isa> supported;
  std::atomic<const KernelTable*> active{nullptr};
  std::string warning;

  Dispatch() {
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
      tables[static_cast<int>(isa)] = build_table(isa);
      if (compiled_in(isa) && runnable(isa)) supported.push_back(isa);
    }
    Isa chosen = supported.back();  // best: the list is ordered baseline first
    const char* env = std::getenv("GGUF_FORGE_ISA");
    if (env != nullptr && *env != '\0') {
      Isa requested;
      if (!isa_from_name(env, &requested)) {
        warning = std::string("GGUF_FORGE_ISA=") + env + " is not an ISA name (scalar, avx2, avx512, neon); using " +
                  isa_name(chosen);
      } else if (!is_supported(requested)) {
        warning = std::string("GGUF_FORGE_ISA=") + env + " is not supported by this binary on this CPU; using " +
                  isa_name(chosen);
      } else {
        chosen = requested;
      }
    }
    active.store(&tables[static_cast<int>(chosen)]);
  }

  bool is_supported(Isa isa) const {
    for (Isa s : supported)
      if (s == isa) return true;
    return false;
  }
};

Dispatch& dispatch() {
  static Dispatch d;  // thread-safe initialisation; never destroyed before the tables' last use
  return d;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
  }
  return "scalar";
}

bool isa_from_name(const std::string& name, Isa* out) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const std::vector<Isa>& supported_isas() { return dispatch().supported; }

bool isa_supported(Isa isa) { return dispatch().is_supported(isa); }

const KernelTable& kernels() { return *dispatch().active.load(std::memory_order_acquire); }

Isa current_isa() { return kernels().isa; }

void set_isa(const std::string& name) {
  Isa isa;
  if (!isa_from_name(name, &isa)) {
    throw std::invalid_argument("unknown ISA '" + name + "' (expected scalar, avx2, avx512 or neon)");
  }
  Dispatch& d = dispatch();
  if (!d.is_supported(isa)) {
    throw std::invalid_argument("ISA '" + name + "' is not supported by this binary on this CPU");
  }
  d.active.store(&d.tables[static_cast<int>(isa)], std::memory_order_release);
}

const std::string& isa_warning() { return dispatch().warning; }

}  // namespace gguf_forge
