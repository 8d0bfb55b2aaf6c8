// Quantized block layouts. GGUF tensor data *is* an array of these structs, so each one mirrors
// ggml's src/ggml-common.h byte for byte (field order, sizes, no padding) and says so with a
// static_assert. Every d/m/dmin field holds IEEE binary16 bits, little-endian as stored.
// Layout table: research/llamacpp.md §1.4.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gguf_forge {
namespace quant {

typedef uint16_t ggml_half;  // binary16 bits

constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK8_0 = 32;
constexpr int QK4_NL = 32;
constexpr int QK_K = 256;          // super-block of the k-quants and IQ4_XS
constexpr int K_SCALE_SIZE = 12;   // packed 6-bit scales and mins of Q4_K/Q5_K

// ggml's type ids (include/ggml.h enum ggml_type); they are the tensor type field of GGUF.
enum class GgmlType : int32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  IQ4_NL = 20,
  IQ4_XS = 23,
  BF16 = 30,
};

// ---- legacy, 32 weights per block ------------------------------------------------------------

struct block_q4_0 {
  ggml_half d;             // scale (negative when the largest-magnitude weight is positive)
  uint8_t qs[QK4_0 / 2];   // element j in the low nibble of qs[j], element j+16 in the high one
};
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");

struct block_q4_1 {
  ggml_half d;             // scale
  ggml_half m;             // min (added)
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 must be 20 bytes");

struct block_q5_0 {
  ggml_half d;
  uint8_t qh[4];           // 5th bit of element j = bit j of this little-endian u32
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22, "block_q5_0 must be 22 bytes");

struct block_q5_1 {
  ggml_half d;
  ggml_half m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24, "block_q5_1 must be 24 bytes");

struct block_q8_0 {
  ggml_half d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");

// ---- k-quants, 256 weights per super-block --------------------------------------------------

struct block_q2_K {
  uint8_t scales[QK_K / 16];  // per 16: scale in the low nibble, min in the high nibble
  uint8_t qs[QK_K / 4];       // 2-bit quants
  ggml_half d;                // super-scale of the scales
  ggml_half dmin;             // super-scale of the mins
};
static_assert(sizeof(block_q2_K) == 84, "block_q2_K must be 84 bytes");

struct block_q3_K {
  uint8_t hmask[QK_K / 8];  // high bit of each 3-bit quant
  uint8_t qs[QK_K / 4];     // low 2 bits
  uint8_t scales[12];       // 16 signed 6-bit scales (biased by 32)
  ggml_half d;
};
static_assert(sizeof(block_q3_K) == 110, "block_q3_K must be 110 bytes");

struct block_q4_K {
  ggml_half d;
  ggml_half dmin;
  uint8_t scales[K_SCALE_SIZE];  // 8 6-bit scales + 8 6-bit mins (get_scale_min_k4 packing)
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144, "block_q4_K must be 144 bytes");

struct block_q5_K {
  ggml_half d;
  ggml_half dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];  // 5th bits
  uint8_t qs[QK_K / 2];  // low nibbles
};
static_assert(sizeof(block_q5_K) == 176, "block_q5_K must be 176 bytes");

struct block_q6_K {
  uint8_t ql[QK_K / 2];     // low 4 bits
  uint8_t qh[QK_K / 4];     // high 2 bits
  int8_t scales[QK_K / 16];
  ggml_half d;
};
static_assert(sizeof(block_q6_K) == 210, "block_q6_K must be 210 bytes");

// ---- non-linear 4-bit -------------------------------------------------------------------------

struct block_iq4_nl {
  ggml_half d;
  uint8_t qs[QK4_NL / 2];  // indices into kvalues_iq4nl
};
static_assert(sizeof(block_iq4_nl) == 18, "block_iq4_nl must be 18 bytes");

struct block_iq4_xs {
  ggml_half d;
  uint16_t scales_h;        // high 2 bits of the 8 6-bit sub-block scales
  uint8_t scales_l[QK_K / 64];  // low 4 bits, two per byte
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_iq4_xs) == 136, "block_iq4_xs must be 136 bytes");

static_assert(offsetof(block_q2_K, d) == 80 && offsetof(block_q3_K, d) == 108 &&
                  offsetof(block_q5_K, qs) == 48 && offsetof(block_q6_K, d) == 208 &&
                  offsetof(block_iq4_xs, qs) == 8,
              "field offsets must match ggml-common.h");

// ---- traits -----------------------------------------------------------------------------------

struct TypeTraits {
  const char* name;      // ggml's type name (ggml_type_name)
  int32_t block_size;    // weights per block
  int32_t type_size;     // bytes per block
  bool is_quantized;
};

// Traits of a type this module knows, or nullptr for any other id.
inline const TypeTraits* type_traits(int type) {
  static constexpr TypeTraits kF32{"f32", 1, 4, false}, kF16{"f16", 1, 2, false},
      kQ4_0{"q4_0", QK4_0, sizeof(block_q4_0), true}, kQ4_1{"q4_1", QK4_1, sizeof(block_q4_1), true},
      kQ5_0{"q5_0", QK5_0, sizeof(block_q5_0), true}, kQ5_1{"q5_1", QK5_1, sizeof(block_q5_1), true},
      kQ8_0{"q8_0", QK8_0, sizeof(block_q8_0), true}, kQ2_K{"q2_K", QK_K, sizeof(block_q2_K), true},
      kQ3_K{"q3_K", QK_K, sizeof(block_q3_K), true}, kQ4_K{"q4_K", QK_K, sizeof(block_q4_K), true},
      kQ5_K{"q5_K", QK_K, sizeof(block_q5_K), true}, kQ6_K{"q6_K", QK_K, sizeof(block_q6_K), true},
      kIQ4_NL{"iq4_nl", QK4_NL, sizeof(block_iq4_nl), true},
      kIQ4_XS{"iq4_xs", QK_K, sizeof(block_iq4_xs), true}, kBF16{"bf16", 1, 2, false};
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: return &kF32;
    case GgmlType::F16: return &kF16;
    case GgmlType::Q4_0: return &kQ4_0;
    case GgmlType::Q4_1: return &kQ4_1;
    case GgmlType::Q5_0: return &kQ5_0;
    case GgmlType::Q5_1: return &kQ5_1;
    case GgmlType::Q8_0: return &kQ8_0;
    case GgmlType::Q2_K: return &kQ2_K;
    case GgmlType::Q3_K: return &kQ3_K;
    case GgmlType::Q4_K: return &kQ4_K;
    case GgmlType::Q5_K: return &kQ5_K;
    case GgmlType::Q6_K: return &kQ6_K;
    case GgmlType::IQ4_NL: return &kIQ4_NL;
    case GgmlType::IQ4_XS: return &kIQ4_XS;
    case GgmlType::BF16: return &kBF16;
  }
  return nullptr;
}

// Bytes of one row of n weights (ggml_row_size); 0 for an unknown type or a partial block.
inline size_t row_size(int type, int64_t n) {
  const TypeTraits* t = type_traits(type);
  if (t == nullptr || n < 0 || n % t->block_size != 0) return 0;
  return static_cast<size_t>(n / t->block_size) * static_cast<size_t>(t->type_size);
}

}  // namespace quant
}  // namespace gguf_forge
