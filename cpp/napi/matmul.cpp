// gemmSync / gemmAsync over Float32Arrays. lib/matmul/ checks every argument first, but this is a
// memory-safety boundary: types, shapes, lengths, overflow and overlap are checked again here and
// reported as TypeError / RangeError.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "core/isa.h"
#include "matmul/gemm.h"
#include "napi/addon_data.h"
#include "napi/args.h"
#include "napi/cancellable_job.h"

namespace gguf_forge {
namespace {

Napi::Float32Array float32_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected a Float32Array " + name);
  }
  return info[index].As<Napi::Float32Array>();
}

bool bool_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected a boolean for " + name);
  }
  return info[index].As<Napi::Boolean>().Value();
}

float scalar_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected a number for " + name);
  }
  return static_cast<float>(info[index].As<Napi::Number>().DoubleValue());
}

void check_length(Napi::Env env, const Napi::Float32Array& array, int64_t needed, const char* fn, const char* name) {
  if (array.ElementLength() < static_cast<size_t>(needed)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + name + " holds " + std::to_string(array.ElementLength()) +
                                         " floats, " + std::to_string(needed) + " needed");
  }
}

// Data() comes from napi_get_typedarray_info, which also serves SharedArrayBuffer views.
bool overlap(const Napi::Float32Array& x, int64_t x_count, const Napi::Float32Array& y, int64_t y_count) {
  if (x_count == 0 || y_count == 0) return false;
  const float* xs = x.Data();
  const float* ys = y.Data();
  return xs < ys + y_count && ys < xs + x_count;
}

struct CheckedGemm {
  GemmProblem problem;
  size_t threads = 0;
  Napi::Float32Array a, b, c;
};

// Arguments: (a, b, c, m, n, k, transA, transB, alpha, beta, threads); A, B and C dense row-major.
CheckedGemm check_gemm_args(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  CheckedGemm g;
  g.a = float32_arg(info, 0, fn, "a");
  g.b = float32_arg(info, 1, fn, "b");
  g.c = float32_arg(info, 2, fn, "c");
  GemmProblem& p = g.problem;
  p.m = integer_arg(info, 3, fn, "m");
  p.n = integer_arg(info, 4, fn, "n");
  p.k = integer_arg(info, 5, fn, "k");
  p.trans_a = bool_arg(info, 6, fn, "transA");
  p.trans_b = bool_arg(info, 7, fn, "transB");
  p.alpha = scalar_arg(info, 8, fn, "alpha");
  p.beta = scalar_arg(info, 9, fn, "beta");
  g.threads = threads_arg(info, 10, 0);
  const int64_t a_count = checked_mul(env, p.m, p.k, fn, "m * k");
  const int64_t b_count = checked_mul(env, p.k, p.n, fn, "k * n");
  const int64_t c_count = checked_mul(env, p.m, p.n, fn, "m * n");
  check_length(env, g.a, a_count, fn, "a");
  check_length(env, g.b, b_count, fn, "b");
  check_length(env, g.c, c_count, fn, "c");
  if (overlap(g.c, c_count, g.a, a_count) || overlap(g.c, c_count, g.b, b_count)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": c must not overlap a or b");
  }
  // Empty arrays may have no backing store; the kernels never touch A or B when k or C is empty.
  p.a = a_count ? g.a.Data() : nullptr;
  p.b = b_count ? g.b.Data() : nullptr;
  p.c = c_count ? g.c.Data() : nullptr;
  p.lda = p.trans_a ? p.m : p.k;
  p.ldb = p.trans_b ? p.k : p.n;
  p.ldc = p.n;
  return g;
}

Napi::Value GemmSync(const Napi::CallbackInfo& info) {
  const CheckedGemm g = check_gemm_args(info, "gemmSync");
  try {
    gemm(g.problem, g.threads, kernels(), nullptr);
  } catch (const std::exception& e) {  // std::bad_alloc for the packing buffers
    throw Napi::Error::New(info.Env(), std::string("gemmSync: ") + e.what());
  }
  return info.Env().Undefined();
}

// Runs on a libuv worker thread; the arrays stay referenced (so not collected) until the callback
// ran. cancel() sets a flag the kernels read between blocks of C.
class GemmWorker : public CancellableJob {
 public:
  GemmWorker(Napi::Function callback, const CheckedGemm& g)
      : CancellableJob(callback, "gguf-forge:gemm"),
        problem_(g.problem),
        threads_(g.threads),
        table_(&kernels()),  // one table for the whole job, even if setIsa() runs meanwhile
        a_(Napi::Persistent(static_cast<Napi::Object>(g.a))),
        b_(Napi::Persistent(static_cast<Napi::Object>(g.b))),
        c_(Napi::Persistent(static_cast<Napi::Object>(g.c))) {}

  void Execute() override {
    try {
      set_completed(gemm(problem_, threads_, *table_, cancel_flag()));
    } catch (const std::exception& e) {
      SetError(std::string("gemm: ") + e.what());
    }
  }

 private:
  GemmProblem problem_;
  size_t threads_;
  const KernelTable* table_;
  Napi::ObjectReference a_, b_, c_;
};

// gemmAsync(a, b, c, m, n, k, transA, transB, alpha, beta, threads, callback(err, cancelled))
//   -> { cancel(): void }
Napi::Value GemmAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CheckedGemm g = check_gemm_args(info, "gemmAsync");
  if (info.Length() <= 11 || !info[11].IsFunction()) {
    throw Napi::TypeError::New(env, "gemmAsync: expected a callback function");
  }
  return (new GemmWorker(info[11].As<Napi::Function>(), g))->Start(env);
}

}  // namespace

void init_matmul(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmSync", Napi::Function::New(env, GemmSync, "gemmSync"));
  exports.Set("gemmAsync", Napi::Function::New(env, GemmAsync, "gemmAsync"));
}

}  // namespace gguf_forge
