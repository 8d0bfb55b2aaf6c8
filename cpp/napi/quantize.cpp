// quantizeSync / quantizeAsync / dequantize over typed arrays. lib/quantize/ checks every argument
// first, but this is a memory-safety boundary: types, shapes, lengths, overflow and overlap are
// checked again here and reported as TypeError / RangeError.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "core/isa.h"
#include "napi/addon_data.h"
#include "napi/args.h"
#include "napi/cancellable_job.h"
#include "quant/blocks.h"
#include "quant/quantize_rows.h"

namespace gguf_forge {
namespace {

struct Bytes {
  uint8_t* data = nullptr;
  size_t length = 0;  // bytes
  bool overlaps(const Bytes& o) const {
    return length != 0 && o.length != 0 && data < o.data + o.length && o.data < data + length;
  }
};

Bytes view_bytes(const Napi::TypedArray& array) {
  if (array.ByteLength() == 0) return {};
  return {static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset(), array.ByteLength()};
}

Napi::TypedArray typed_array_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what,
                                 bool (*accept)(napi_typedarray_type)) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      !accept(info[index].As<Napi::TypedArray>().TypedArrayType())) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected " + what);
  }
  return info[index].As<Napi::TypedArray>();
}

bool is_source_array(napi_typedarray_type t) {
  return t == napi_float32_array || t == napi_uint16_array || t == napi_uint8_array;
}
bool is_uint8_array(napi_typedarray_type t) { return t == napi_uint8_array; }
bool is_float32_array(napi_typedarray_type t) { return t == napi_float32_array; }

struct CheckedQuantize {
  quant::QuantizeRowsJob job;
  Napi::TypedArray src, dst;
  Napi::Value imatrix;
};

// Arguments: (type, src, sourceType, dst, rows, cols, imatrix | null, threads)
CheckedQuantize check_quantize_args(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  CheckedQuantize c{};
  const int64_t type = integer_arg(info, 0, fn, "type", 0);
  if (!quant::quant_target_supported(static_cast<int>(type))) {
    throw Napi::RangeError::New(env, std::string(fn) + ": type " + std::to_string(type) + " cannot be quantized to");
  }
  c.src = typed_array_arg(info, 1, fn, "a Float32Array, Uint16Array or Uint8Array src", is_source_array);
  const int64_t source_type = integer_arg(info, 2, fn, "sourceType", 0);
  if (!quant::quant_source_supported(static_cast<int>(source_type))) {
    throw Napi::RangeError::New(env, std::string(fn) + ": sourceType must be 0 (F32), 1 (F16) or 30 (BF16)");
  }
  c.dst = typed_array_arg(info, 3, fn, "a Uint8Array dst", is_uint8_array);
  const int64_t rows = integer_arg(info, 4, fn, "rows", 0);
  const int64_t cols = integer_arg(info, 5, fn, "cols", 1);
  const size_t row_bytes = quant::row_size(static_cast<int>(type), cols);
  if (row_bytes == 0) {
    throw Napi::RangeError::New(env, std::string(fn) + ": cols (" + std::to_string(cols) +
                                         ") is not a multiple of the block size of type " + std::to_string(type));
  }
  const int64_t elements = checked_mul(env, rows, cols, fn, "rows * cols");
  const int64_t src_bytes =
      checked_mul(env, elements, static_cast<int64_t>(quant::source_element_size(static_cast<int>(source_type))), fn,
                  "source byte length");
  const int64_t dst_bytes = checked_mul(env, rows, static_cast<int64_t>(row_bytes), fn, "output byte length");
  const Bytes src = view_bytes(c.src);
  const Bytes dst = view_bytes(c.dst);
  if (c.src.TypedArrayType() == napi_float32_array && source_type != 0) {
    throw Napi::TypeError::New(env, std::string(fn) + ": a Float32Array src needs sourceType 0 (F32)");
  }
  if (c.src.TypedArrayType() == napi_uint16_array && source_type == 0) {
    throw Napi::TypeError::New(env, std::string(fn) + ": a Uint16Array src needs sourceType 1 (F16) or 30 (BF16)");
  }
  if (src.length < static_cast<size_t>(src_bytes)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": src holds " + std::to_string(src.length) + " bytes, " +
                                         std::to_string(src_bytes) + " needed");
  }
  if (dst.length < static_cast<size_t>(dst_bytes)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": dst holds " + std::to_string(dst.length) + " bytes, " +
                                         std::to_string(dst_bytes) + " needed");
  }
  Bytes im{};
  c.imatrix = info.Length() > 6 ? info[6] : env.Null();
  if (!c.imatrix.IsNull() && !c.imatrix.IsUndefined()) {
    if (!c.imatrix.IsTypedArray() || c.imatrix.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, std::string(fn) + ": expected a Float32Array or null imatrix");
    }
    const Napi::Float32Array weights = c.imatrix.As<Napi::Float32Array>();
    if (weights.ElementLength() != static_cast<size_t>(cols)) {
      throw Napi::RangeError::New(env, std::string(fn) + ": imatrix holds " + std::to_string(weights.ElementLength()) +
                                           " weights but rows have " + std::to_string(cols) + " columns");
    }
    im = view_bytes(weights);
  }
  const Bytes src_used{src.data, static_cast<size_t>(src_bytes)};
  const Bytes dst_used{dst.data, static_cast<size_t>(dst_bytes)};
  if (dst_used.overlaps(src_used) || dst_used.overlaps(im)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": dst must not overlap src or imatrix");
  }
  c.job.type = static_cast<int>(type);
  c.job.source_type = static_cast<int>(source_type);
  c.job.src = src.data;
  c.job.dst = dst.data;
  c.job.rows = rows;
  c.job.cols = cols;
  c.job.imatrix = reinterpret_cast<const float*>(im.data);
  c.job.threads = threads_arg(info, 7, 0);
  if (elements == 0) c.job.rows = 0;
  return c;
}

Napi::Value QuantizeSync(const Napi::CallbackInfo& info) {
  const CheckedQuantize c = check_quantize_args(info, "quantizeSync");
  if (c.job.rows > 0) quant::quantize_rows(c.job, kernels(), nullptr);
  return info.Env().Undefined();
}

// Runs on a libuv worker thread; the typed arrays stay referenced (so not collected) until the
// callback ran. cancel() sets a flag the kernels read before each row chunk.
class QuantizeWorker : public CancellableJob {
 public:
  QuantizeWorker(Napi::Function callback, const CheckedQuantize& c)
      : CancellableJob(callback, "gguf-forge:quantize"),
        job_(c.job),
        table_(&kernels()),  // one table for the whole job, even if setIsa() runs meanwhile
        src_(Napi::Persistent(static_cast<Napi::Object>(c.src))),
        dst_(Napi::Persistent(static_cast<Napi::Object>(c.dst))) {
    if (c.imatrix.IsObject()) imatrix_ = Napi::Persistent(c.imatrix.As<Napi::Object>());
  }

  void Execute() override {
    if (job_.rows > 0) set_completed(quant::quantize_rows(job_, *table_, cancel_flag()));
    else set_completed(!cancel_flag()->load());
  }

 private:
  quant::QuantizeRowsJob job_;
  const KernelTable* table_;
  Napi::ObjectReference src_, dst_, imatrix_;
};

// quantizeAsync(type, src, sourceType, dst, rows, cols, imatrix, threads, callback(err, cancelled))
//   -> { cancel(): void }
Napi::Value QuantizeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CheckedQuantize c = check_quantize_args(info, "quantizeAsync");
  if (info.Length() <= 8 || !info[8].IsFunction()) {
    throw Napi::TypeError::New(env, "quantizeAsync: expected a callback function");
  }
  return (new QuantizeWorker(info[8].As<Napi::Function>(), c))->Start(env);
}

// dequantize(type, src: Uint8Array, dst: Float32Array, count, threads)
Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dequantize";
  const int64_t type = integer_arg(info, 0, fn, "type", 0);
  if (!quant::quant_target_supported(static_cast<int>(type))) {
    throw Napi::RangeError::New(env, std::string(fn) + ": type " + std::to_string(type) + " cannot be dequantized");
  }
  const Napi::TypedArray src_array = typed_array_arg(info, 1, fn, "a Uint8Array src", is_uint8_array);
  const Napi::TypedArray dst_array = typed_array_arg(info, 2, fn, "a Float32Array dst", is_float32_array);
  const int64_t count = integer_arg(info, 3, fn, "count", 0);
  const quant::TypeTraits* traits = quant::type_traits(static_cast<int>(type));
  if (count % traits->block_size != 0) {
    throw Napi::RangeError::New(env, std::string(fn) + ": count (" + std::to_string(count) +
                                         ") is not a multiple of the block size " +
                                         std::to_string(traits->block_size));
  }
  const int64_t src_bytes = checked_mul(env, count / traits->block_size, traits->type_size, fn, "source byte length");
  const Bytes src = view_bytes(src_array);
  const Bytes dst = view_bytes(dst_array);
  if (src.length < static_cast<size_t>(src_bytes)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": src holds " + std::to_string(src.length) + " bytes, " +
                                         std::to_string(src_bytes) + " needed");
  }
  if (dst_array.ElementLength() < static_cast<size_t>(count)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": dst holds " + std::to_string(dst_array.ElementLength()) +
                                         " floats, " + std::to_string(count) + " needed");
  }
  const Bytes dst_used{dst.data, static_cast<size_t>(count) * sizeof(float)};
  if (dst_used.overlaps(Bytes{src.data, static_cast<size_t>(src_bytes)})) {
    throw Napi::RangeError::New(env, std::string(fn) + ": src and dst must not overlap");
  }
  if (count == 0) return env.Undefined();
  quant::dequantize_blocks(static_cast<int>(type), src.data, reinterpret_cast<float*>(dst.data), count,
                           threads_arg(info, 4, 0), kernels());
  return env.Undefined();
}

}  // namespace

void init_quantize(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeSync", Napi::Function::New(env, QuantizeSync, "quantizeSync"));
  exports.Set("quantizeAsync", Napi::Function::New(env, QuantizeAsync, "quantizeAsync"));
  exports.Set("dequantize", Napi::Function::New(env, Dequantize, "dequantize"));
}

}  // namespace gguf_forge
