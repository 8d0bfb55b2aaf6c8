// fp32 <-> fp16 / bf16 over typed arrays. JS checks argument types first, but this is a memory
// safety boundary, so element types, lengths and overlap are checked again here.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/isa.h"
#include "core/thread_pool.h"
#include "napi/addon_data.h"
#include "napi/args.h"

namespace gguf_forge {
namespace {

// Below this many elements one thread is faster than waking the pool.
constexpr size_t kParallelMinElements = size_t(1) << 20;
// Chunk boundaries are multiples of this, so every chunk starts on a full SIMD vector.
constexpr size_t kChunkAlign = 64;

template <typename T>
struct ArrayArg {
  T* data;
  size_t length;
  const uint8_t* begin() const { return reinterpret_cast<const uint8_t*>(data); }
  const uint8_t* end() const { return reinterpret_cast<const uint8_t*>(data + length); }
};

template <typename T>
ArrayArg<T> typed_array_arg(const Napi::CallbackInfo& info, size_t index, napi_typedarray_type type,
                            const char* fn, const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, std::string(fn) + ": expected " + what);
  }
  Napi::TypedArrayOf<T> array = info[index].As<Napi::TypedArrayOf<T>>();
  return {array.Data(), array.ElementLength()};
}

template <typename S, typename D>
void convert(const Napi::CallbackInfo& info, napi_typedarray_type src_type, const char* src_what,
             napi_typedarray_type dst_type, const char* dst_what, const char* fn,
             void (*KernelTable::*kernel)(const S*, D*, size_t)) {
  Napi::Env env = info.Env();
  const ArrayArg<S> src = typed_array_arg<S>(info, 0, src_type, fn, src_what);
  const ArrayArg<D> dst = typed_array_arg<D>(info, 1, dst_type, fn, dst_what);
  const size_t threads = threads_arg(info, 2, 1);
  if (dst.length < src.length) {
    throw Napi::RangeError::New(env, std::string(fn) + ": dst holds " + std::to_string(dst.length) +
                                         " elements but src has " + std::to_string(src.length));
  }
  const size_t n = src.length;
  if (n == 0) return;
  if (src.begin() < dst.end() && dst.begin() < src.end()) {
    throw Napi::RangeError::New(env, std::string(fn) + ": src and dst must not overlap");
  }
  // One table for the whole call, even if setIsa() runs concurrently on another thread.
  const auto row = kernels().*kernel;
  const size_t nth = std::min(threads, pool_size());
  if (nth <= 1 || n < kParallelMinElements) {
    row(src.data, dst.data, n);
    return;
  }
  const size_t chunk = ((n + nth - 1) / nth + kChunkAlign - 1) / kChunkAlign * kChunkAlign;
  const S* s = src.data;
  D* d = dst.data;
  parallel_for(nth, [=](size_t ith, size_t) {
    const size_t begin = std::min(n, ith * chunk);
    const size_t end = std::min(n, begin + chunk);
    if (begin < end) row(s + begin, d + begin, end - begin);
  });
}

Napi::Value Fp32ToFp16(const Napi::CallbackInfo& info) {
  convert<float, uint16_t>(info, napi_float32_array, "a Float32Array src", napi_uint16_array, "a Uint16Array dst",
                           "fp32ToFp16", &KernelTable::fp32_to_fp16_row);
  return info.Env().Undefined();
}

Napi::Value Fp16ToFp32(const Napi::CallbackInfo& info) {
  convert<uint16_t, float>(info, napi_uint16_array, "a Uint16Array src", napi_float32_array, "a Float32Array dst",
                           "fp16ToFp32", &KernelTable::fp16_to_fp32_row);
  return info.Env().Undefined();
}

Napi::Value Fp32ToBf16(const Napi::CallbackInfo& info) {
  convert<float, uint16_t>(info, napi_float32_array, "a Float32Array src", napi_uint16_array, "a Uint16Array dst",
                           "fp32ToBf16", &KernelTable::fp32_to_bf16_row);
  return info.Env().Undefined();
}

Napi::Value Bf16ToFp32(const Napi::CallbackInfo& info) {
  convert<uint16_t, float>(info, napi_uint16_array, "a Uint16Array src", napi_float32_array, "a Float32Array dst",
                           "bf16ToFp32", &KernelTable::bf16_to_fp32_row);
  return info.Env().Undefined();
}

}  // namespace

void init_conversions(Napi::Env env, Napi::Object exports) {
  exports.Set("fp32ToFp16", Napi::Function::New(env, Fp32ToFp16, "fp32ToFp16"));
  exports.Set("fp16ToFp32", Napi::Function::New(env, Fp16ToFp32, "fp16ToFp32"));
  exports.Set("fp32ToBf16", Napi::Function::New(env, Fp32ToBf16, "fp32ToBf16"));
  exports.Set("bf16ToFp32", Napi::Function::New(env, Bf16ToFp32, "bf16ToFp32"));
}

}  // namespace gguf_forge
