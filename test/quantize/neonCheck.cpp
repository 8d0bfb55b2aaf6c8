// Standalone check of the NEON quantizers against the scalar references (cpp/quant/*_ref.cpp, the
// oracle that matchesGgml.test.ts holds equal to ggml), for builds the test machine cannot load as
// an addon: test/quantize/neon.test.ts cross-compiles it with the NEON units and runs it under
// qemu-aarch64. Data: the kinds of quantData.ts (normal, uniform, heavy tails, outliers, zero and
// constant blocks, 1e-30 / 1e30, subnormals, ties, mixed families per block and per element) plus
// blocks holding NaN or ±inf, scales that come out subnormal, ranges that overflow, and rounding
// ties (Q8_0 half-integers, IQ4 level midpoints); rows of odd block counts; every block count
// around the vector widths. For each type and case: byte equality with the reference, nothing
// written past the end, rows quantized in two calls equal one call, and the imatrix path still
// equals the reference. The NEON kernels are taken from the addon's dispatch table (isa.cpp), so
// their registration is checked too. Prints one summary line; exits 1 on any difference.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "core/isa.h"
#include "quant/blocks.h"
#include "quant/quant_ref.h"

using namespace gguf_forge;

namespace {

// ---- deterministic data ------------------------------------------------------------------------

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uni() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }  // [0, 1)
  double normal() {
    const double u1 = uni() > 1e-300 ? uni() : 1e-300;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * uni());
  }
  double student_t(int nu) {
    const double z = normal();
    double c = 0;
    for (int i = 0; i < nu; ++i) {
      const double g = normal();
      c += g * g;
    }
    return z / std::sqrt(c / nu);
  }
};

// One value of a small family (quantData.ts familyValue), for rows mixing families.
double family_value(Rng& r, int kind) {
  switch (kind) {
    case 0: return r.normal();
    case 1: return r.uni() * 2 - 1;
    case 2: return r.student_t(2);
    case 3: return 0.0;
    case 4: return -0.0;
    case 5: return r.normal() * 1e-30;
    case 6: return r.normal() * 1e30;
    case 7: return r.normal() * 1e-40;  // subnormal
    case 8: return std::fabs(r.normal());
    case 9: return -std::fabs(r.normal());
    case 10: return r.normal() * 1e-5;
    case 11: return r.normal() * 1e4;
    case 12: return std::floor(r.uni() * 17) - 8;  // integers: rounding ties
    default: return std::floor(r.uni() * 9) * 0.25 - 1;  // quarter steps: ties
  }
}

typedef void (*FillFn)(Rng& r, float* x, size_t n, size_t block);

struct DataKind {
  const char* name;
  FillFn fill;
};

#define EACH(expr) [](Rng& r, float* x, size_t n, size_t) { (void)r; for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(expr); }

void mixed_blocks(Rng& r, float* x, size_t n, size_t size) {
  for (size_t i = 0; i < n; i += size) {
    const int kind = static_cast<int>(r.uni() * 14);
    for (size_t j = i; j < i + size && j < n; ++j) x[j] = static_cast<float>(family_value(r, kind));
  }
}

// Normal blocks with a per-block magnitude; some blocks get a NaN (quiet, or with a payload, or
// signalling), an inf, both infinities, or are all zero / below GROUP_MAX_EPS (as iq4Simd.test.ts
// fillBlock).
void special_blocks(Rng& r, float* x, size_t n, size_t size) {
  for (size_t i = 0; i < n; i += size) {
    const double scale = std::exp((r.uni() - 0.5) * 20);
    for (size_t j = i; j < i + size; ++j) x[j] = static_cast<float>(r.normal() * scale);
    const auto at = [&] { return i + static_cast<size_t>(r.uni() * size); };
    switch (static_cast<int>(r.uni() * 10)) {
      case 0: x[at()] = NAN; break;
      case 1: x[at()] = INFINITY; break;
      case 2: x[at()] = -INFINITY; break;
      case 3: x[at()] = INFINITY; x[at()] = -INFINITY; break;
      case 4: std::memset(x + i, 0, size * sizeof(float)); break;
      case 5: for (size_t j = i; j < i + size; ++j) x[j] = static_cast<float>(r.normal() * 1e-16); break;
      case 6: x[at()] = -NAN; x[at()] = NAN; break;
      case 7: {  // NaNs with payloads, one signalling: the rounding bit trick reads NaN bits
        const uint32_t bits[2] = {0x7FC12345u + static_cast<uint32_t>(r.uni() * 1000), 0xFFA00001u};
        for (uint32_t b : bits) std::memcpy(&x[at()], &b, sizeof b);
        break;
      }
      default: break;
    }
  }
}

// Half-integers with one ±127 per block of 32: Q8_0's scale is then exactly 1, so every x*id is a
// rounding tie (roundf goes away from zero, not to even).
void q8_ties(Rng& r, float* x, size_t n, size_t) {
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::floor(r.uni() * 253) - 126 + 0.5);
  for (size_t i = 0; i < n; i += 32) x[i + static_cast<size_t>(r.uni() * 32)] = r.uni() < 0.5 ? -127.f : 127.f;
}

// IQ4's level midpoints, exactly and one ulp either side, with ±127 leading each block of 32: the
// first candidate scale then maps x to -x and the itry = 0 one maps x to x, so these land on the
// midpoints themselves (ties go to the upper level). Half the blocks repeat one such value, so
// that the tie decides which candidate scale wins.
void iq4_midpoints(Rng& r, float* x, size_t n, size_t) {
  static const float levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  const auto value = [&] {
    const int k = static_cast<int>(r.uni() * 15);
    float v = (levels[k] + levels[k + 1]) / 2;
    if (r.uni() < 0.5) v = -v;
    const int step = static_cast<int>(r.uni() * 3) - 1;
    return step == 0 ? v : std::nextafter(v, step > 0 ? INFINITY : -INFINITY);
  };
  for (size_t b = 0; b < n; b += 32) {
    x[b] = (b / 32) % 2 == 0 ? -127.f : 127.f;
    const bool repeat = r.uni() < 0.5;
    const float v = value();
    for (size_t i = b + 1; i < b + 32; ++i) x[i] = repeat ? v : value();
  }
}

const DataKind kKinds[] = {
    {"normal", EACH(r.normal())},
    {"uniform", EACH(r.uni() * 2 - 1)},
    {"student-t(2)", EACH(r.student_t(2))},
    {"student-t(1)", EACH(r.student_t(1))},
    {"sparse outliers", EACH(r.uni() < 0.01 ? r.normal() * 5 : r.normal() * 0.02)},
    {"sparse zeros", EACH(r.uni() < 0.9 ? 0.0 : r.normal())},
    {"all zero", EACH(0.0)},
    {"all -0", EACH(-0.0)},
    {"constant", [](Rng& r, float* x, size_t n, size_t) { const float c = static_cast<float>(r.normal()); for (size_t i = 0; i < n; ++i) x[i] = c; }},
    {"constant 0.75", EACH(0.75)},
    {"constant -1.5", EACH(-1.5)},
    {"tiny 1e-30", EACH(r.normal() * 1e-30)},
    {"small 1e-14", EACH(r.normal() * 1e-14)},
    {"huge 1e30", EACH(r.normal() * 1e30)},
    {"big 1e5", EACH(r.normal() * 1e5)},
    {"subnormal", EACH(r.normal() * 1e-40)},
    {"near FLT_MIN", EACH(r.normal() * 2e-37)},      // scales below FLT_MIN: the reference fallback
    {"near FLT_MAX", EACH(r.normal() * 1.5e38)},     // max - min overflows to inf
    {"positive", EACH(std::fabs(r.normal()) + 0.1)},
    {"negative", EACH(-std::fabs(r.normal()) - 0.1)},
    {"integers", EACH(std::floor(r.uni() * 17) - 8)},
    {"quarter steps", EACH(std::floor(r.uni() * 9) * 0.25 - 1)},
    {"half-integer ties", q8_ties},
    {"IQ4 midpoints", iq4_midpoints},
    {"mixed per 16", [](Rng& r, float* x, size_t n, size_t) { mixed_blocks(r, x, n, 16); }},
    {"mixed per 32", [](Rng& r, float* x, size_t n, size_t) { mixed_blocks(r, x, n, 32); }},
    {"mixed per element", EACH(family_value(r, static_cast<int>(r.uni() * 14)))},
    {"llm-like", [](Rng& r, float* x, size_t n, size_t) {
       const double s = 0.01 + r.uni() * 0.05;
       for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(r.normal() * s * (i % 97 == 13 ? 40 : 1));
     }},
    {"NaN/inf/zero blocks", [](Rng& r, float* x, size_t n, size_t block) { special_blocks(r, x, n, block); }},
    {"NaN/inf per 32", [](Rng& r, float* x, size_t n, size_t) { special_blocks(r, x, n, 32); }},
};

#undef EACH

// ---- the types under test ----------------------------------------------------------------------

struct TypeCase {
  const char* name;
  int type;
  QuantizeRowsFn reference;
};

const TypeCase kTypes[] = {
    {"Q4_0", 2, quant::quantize_q4_0_ref},
    {"Q4_1", 3, quant::quantize_q4_1_ref},
    {"Q5_0", 6, quant::quantize_q5_0_ref},
    {"Q5_1", 7, quant::quantize_q5_1_ref},
    {"Q8_0", 8, quant::quantize_q8_0_ref},
    {"Q4_K", 12, quant::quantize_q4_K_ref},
    {"Q5_K", 13, quant::quantize_q5_K_ref},
    {"Q6_K", 14, quant::quantize_q6_K_ref},
    {"IQ4_NL", 20, quant::quantize_iq4_nl_ref},
    {"IQ4_XS", 23, quant::quantize_iq4_xs_ref},
};

constexpr uint8_t kPoisonNeon = 0xA5, kPoisonRef = 0x5A;
constexpr size_t kGuard = 64;

struct Totals {
  long cases = 0, blocks = 0, failures = 0;
};

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x ", p[i]);
    s += buf;
  }
  return s;
}

// One case: NEON vs reference over rows x cols of x; reports the first differing block.
void check(const TypeCase& t, QuantizeRowsFn neon, const char* what, const float* x, int64_t rows, int64_t cols,
           const float* imatrix, Totals& tot) {
  const quant::TypeTraits* tr = quant::type_traits(t.type);
  const size_t bytes = quant::row_size(t.type, cols) * static_cast<size_t>(rows);
  std::vector<uint8_t> want(bytes, kPoisonRef), got(bytes + kGuard, kPoisonNeon);
  const size_t n_ref = t.reference(x, want.data(), rows, cols, imatrix);
  const size_t n_neon = neon(x, got.data(), rows, cols, imatrix);
  ++tot.cases;
  tot.blocks += static_cast<long>(bytes / tr->type_size);
  const auto fail = [&](const std::string& msg) {
    ++tot.failures;
    if (tot.failures <= 20) std::printf("%s %s %ldx%ld%s: %s\n", t.name, what, long(rows), long(cols), imatrix ? " imatrix" : "", msg.c_str());
  };
  if (n_ref != bytes || n_neon != bytes) {
    fail("returned " + std::to_string(n_neon) + " bytes, reference " + std::to_string(n_ref) + ", expected " + std::to_string(bytes));
    return;
  }
  for (size_t i = bytes; i < got.size(); ++i) {
    if (got[i] != kPoisonNeon) {
      fail("wrote past the end (byte " + std::to_string(i) + ")");
      return;
    }
  }
  if (std::memcmp(got.data(), want.data(), bytes) != 0) {
    size_t i = 0;
    while (got[i] == want[i]) ++i;
    const size_t block = i / tr->type_size;
    const size_t start = block * tr->type_size;
    fail("block " + std::to_string(block) + " byte " + std::to_string(i - start) + " differs\n  neon: " +
         hex(&got[start], tr->type_size) + "\n  ref:  " + hex(&want[start], tr->type_size));
    return;
  }
  // Rows are independent: the same rows in two calls give the same bytes.
  if (rows > 1 && imatrix == nullptr) {
    const int64_t split = rows / 2;
    std::vector<uint8_t> two(bytes, kPoisonNeon);
    const size_t first = neon(x, two.data(), split, cols, nullptr);
    neon(x + split * cols, two.data() + first, rows - split, cols, nullptr);
    if (std::memcmp(two.data(), want.data(), bytes) != 0) fail("rows split over two calls differ from one call");
  }
}

}  // namespace

int main() {
  // The addon's own dispatch table for NEON, so the registration in isa.cpp is under test too.
  try {
    set_isa("neon");
  } catch (const std::exception& e) {
    std::printf("neon quantize check: %s\n", e.what());
    return 1;
  }
  const KernelTable& neon = kernels();
  KernelTable ref{};
  register_quant_ref(ref);

  Totals tot;
  int types = 0;
  for (const TypeCase& t : kTypes) {
    const QuantizeRowsFn fn = neon.quantize_rows[t.type];
    if (fn == nullptr || fn == ref.quantize_rows[t.type]) {
      std::printf("%s: no NEON kernel registered\n", t.name);
      ++tot.failures;
      continue;
    }
    ++types;
    const int64_t bs = quant::type_traits(t.type)->block_size;
    // Odd block counts per row, and one long row.
    const int64_t shapes[][2] = {{1, bs}, {3, 3 * bs}, {4, 5 * bs}, {2, (bs == 32 ? 33 : 9) * bs}, {1, (bs == 32 ? 129 : 17) * bs}};
    uint64_t seed = 1;
    for (const DataKind& k : kKinds) {
      for (const auto& s : shapes) {
        std::vector<float> x(static_cast<size_t>(s[0] * s[1]));
        Rng r(seed++ * 1000 + static_cast<uint64_t>(t.type));
        k.fill(r, x.data(), x.size(), static_cast<size_t>(bs));
        check(t, fn, k.name, x.data(), s[0], s[1], nullptr, tot);
      }
    }
    // Every block count up to past two full steps of the widest vector code (partial last steps).
    const int max_blocks = bs == 32 ? 35 : 5;
    for (int nb = 1; nb <= max_blocks; ++nb) {
      std::vector<float> x(static_cast<size_t>(nb * bs));
      Rng r(seed++ * 1000 + static_cast<uint64_t>(t.type));
      special_blocks(r, x.data(), x.size(), static_cast<size_t>(bs));
      check(t, fn, "block count", x.data(), 1, nb * bs, nullptr, tot);
    }
    // The imatrix path (the reference's weighted search) passes through unchanged.
    {
      const int64_t rows = 2, cols = 3 * (bs == 32 ? 32 : 256);
      std::vector<float> x(rows * cols), w(cols);
      Rng r(seed++);
      for (float& v : x) v = static_cast<float>(r.normal());
      for (float& v : w) v = static_cast<float>(r.uni() < 0.3 ? 0.0 : r.uni() * 5);
      check(t, fn, "normal", x.data(), rows, cols, w.data(), tot);
    }
  }
  std::printf("neon quantize check: %d types, %ld cases, %ld blocks, %ld failures\n", types, tot.cases, tot.blocks,
              tot.failures);
  return tot.failures == 0 ? 0 : 1;
}
