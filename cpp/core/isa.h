// Kernel dispatch: one table of function pointers per ISA, chosen once at load (best supported,
// or GGUF_FORGE_ISA) and switchable at runtime so tests can run every variant on one machine.
//
// Adding a kernel: add a pointer to KernelTable, set it in scalar_table() (isa.cpp) and in the
// register_*_<isa>() function of each ISA translation unit that has a faster version. An ISA that
// leaves an entry alone inherits the scalar reference.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gguf_forge {

struct GemmProblem;  // matmul/gemm.h

enum class Isa { scalar, avx2, avx512, neon };

// Quantization kernels are indexed by ggml type id (F32 = 0 .. BF16 = 30); null where a type has none.
constexpr int kQuantTypeSlots = 31;
/** ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix) for one type; returns bytes written. */
typedef size_t (*QuantizeRowsFn)(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
/** ggml's to_float for one type: k weights (whole blocks) from src to dst. */
typedef void (*DequantizeRowFn)(const void* src, float* dst, int64_t k);

struct KernelTable {
  Isa isa;
  // Row converters; n elements, no alignment requirement, src and dst must not overlap.
  void (*fp32_to_fp16_row)(const float* src, uint16_t* dst, size_t n);
  void (*fp16_to_fp32_row)(const uint16_t* src, float* dst, size_t n);
  void (*fp32_to_bf16_row)(const float* src, uint16_t* dst, size_t n);
  void (*bf16_to_fp32_row)(const uint16_t* src, float* dst, size_t n);
  // Quantizers and dequantizers (cpp/quant). Rows are independent: a kernel may be handed any
  // subset of a tensor's rows and must write exactly the bytes of those rows.
  QuantizeRowsFn quantize_rows[kQuantTypeSlots];
  DequantizeRowFn dequantize_row[kQuantTypeSlots];
  // f32 GEMM (cpp/matmul/gemm.h; call it through gemm(), which handles the degenerate shapes).
  bool (*gemm)(const GemmProblem& p, size_t nth, const std::atomic<bool>* cancel);
};

const char* isa_name(Isa isa);
/** False when the name is not an ISA name at all. */
bool isa_from_name(const std::string& name, Isa* out);

/** ISAs compiled into this binary that this CPU and OS can run, baseline first. */
const std::vector<Isa>& supported_isas();
bool isa_supported(Isa isa);

/** The table kernels dispatch to now. Never null. */
const KernelTable& kernels();
Isa current_isa();
/** Switches the process-wide dispatch table; throws std::invalid_argument if unknown or unsupported. */
void set_isa(const std::string& name);
/** Non-empty when GGUF_FORGE_ISA named something unusable at load (and the best ISA was used). */
const std::string& isa_warning();

// Registration hooks of the per-ISA translation units (each compiled with its own flags).
void register_fp16_avx2(KernelTable& table);
void register_fp16_avx512(KernelTable& table);
void register_fp16_neon(KernelTable& table);
// SIMD quantizers (cpp/quant/<family>_<isa>.cpp): each overwrites the entries it speeds up.
void register_legacy_avx2(KernelTable& table);
void register_legacy_avx512(KernelTable& table);
void register_kquants_avx2(KernelTable& table);
void register_kquants_avx512(KernelTable& table);
void register_kquants_low_avx2(KernelTable& table);  // Q3_K
void register_kquants_low_avx512(KernelTable& table);
void register_iq4_avx2(KernelTable& table);  // IQ4_NL, IQ4_XS
void register_iq4_avx512(KernelTable& table);
void register_legacy_neon(KernelTable& table);  // NEON (AArch64 only)
void register_iq4_neon(KernelTable& table);
void register_kquants_neon(KernelTable& table);  // Q4_K, Q5_K, Q6_K
// The scalar reference quantizers (cpp/quant/quant_ref.cpp): every ISA starts from these.
void register_quant_ref(KernelTable& table);
// GEMM (cpp/matmul/gemm_<isa>.cpp): the reference, then a blocked SIMD kernel per ISA.
void register_gemm_ref(KernelTable& table);
void register_gemm_avx2(KernelTable& table);
void register_gemm_avx512(KernelTable& table);
void register_gemm_neon(KernelTable& table);

// Scalar references (fp16.cpp), also used by the SIMD variants for tails.
void fp32_to_fp16_row_ref(const float* src, uint16_t* dst, size_t n);
void fp16_to_fp32_row_ref(const uint16_t* src, float* dst, size_t n);
void fp32_to_bf16_row_ref(const float* src, uint16_t* dst, size_t n);
void bf16_to_fp32_row_ref(const uint16_t* src, float* dst, size_t n);

}  // namespace gguf_forge
