#include "core/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define GGUF_FORGE_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include <cstdint>

namespace gguf_forge {
namespace {

#ifdef GGUF_FORGE_X86
void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
#if defined(_MSC_VER)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<uint32_t>(r[i]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

uint64_t xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  // Encoded as bytes so the baseline TU needs no -mxsave.
  uint32_t eax = 0, edx = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  uint32_t r[4] = {0, 0, 0, 0};
  cpuid(0, 0, r);
  const uint32_t max_leaf = r[0];
  if (max_leaf < 1) return f;

  cpuid(1, 0, r);
  const uint32_t ecx1 = r[2], edx1 = r[3];
  f.sse2 = (edx1 >> 26) & 1;
  const bool osxsave = (ecx1 >> 27) & 1;
  const bool cpu_avx = (ecx1 >> 28) & 1;
  const bool cpu_fma = (ecx1 >> 12) & 1;
  const bool cpu_f16c = (ecx1 >> 29) & 1;

  // XCR0: bit 1 SSE (xmm), bit 2 AVX (ymm upper halves), bits 5-7 opmask, zmm0-15 upper, zmm16-31.
  bool os_ymm = false, os_zmm = false;
  if (osxsave) {
    const uint64_t xcr0 = xgetbv0();
    os_ymm = (xcr0 & 0x6) == 0x6;
    os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;
  }

  f.avx = cpu_avx && os_ymm;
  f.fma = cpu_fma && os_ymm;
  f.f16c = cpu_f16c && os_ymm;

  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    const uint32_t ebx7 = r[1], ecx7 = r[2];
    const uint32_t max_sub7 = r[0];
    f.avx2 = ((ebx7 >> 5) & 1) && os_ymm;
    f.avx512f = ((ebx7 >> 16) & 1) && os_zmm;
    f.avx512bw = ((ebx7 >> 30) & 1) && os_zmm;
    f.avx512vl = ((ebx7 >> 31) & 1) && os_zmm;
    f.avx512vnni = ((ecx7 >> 11) & 1) && os_zmm;
    if (max_sub7 >= 1) {
      cpuid(7, 1, r);
      f.avx512bf16 = ((r[0] >> 5) & 1) && os_zmm;
    }
  }
  return f;
}
#elif defined(__aarch64__)
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  f.neon = (hwcap & HWCAP_ASIMD) != 0;
  f.dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
  int value = 0;
  size_t size = sizeof(value);
  if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, nullptr, 0) == 0) f.dotprod = value != 0;
#endif
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

}  // namespace

std::vector<std::pair<std::string, bool>> CpuFeatures::list() const {
#if defined(GGUF_FORGE_X86)
  return {{"sse2", sse2},         {"avx", avx},           {"avx2", avx2},         {"fma", fma},
          {"f16c", f16c},         {"avx512f", avx512f},   {"avx512bw", avx512bw}, {"avx512vl", avx512vl},
          {"avx512vnni", avx512vnni}, {"avx512bf16", avx512bf16}};
#elif defined(__aarch64__)
  return {{"neon", neon}, {"dotprod", dotprod}};
#else
  return {};
#endif
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace gguf_forge
