// startWriteback(fd, offset, length) -> Promise<number>: io/writeback.h on a libuv pool thread
// (the call can wait for the disk's request queue, which must not stall the event loop). The promise
// resolves with 0 or the errno value; it never rejects for a system error, since early writeback
// is only a hint and the caller's fsync reports real failures.
#include <napi.h>

#include <cstdint>

#include "io/writeback.h"

namespace gguf_forge {

namespace {

class WritebackJob : public Napi::AsyncWorker {
 public:
  WritebackJob(Napi::Env env, int fd, uint64_t offset, uint64_t length)
      : Napi::AsyncWorker(env, "gguf_forge.startWriteback"), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), offset_(offset), length_(length) {}

  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override { result_ = start_writeback(fd_, offset_, length_); }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  uint64_t offset_;
  uint64_t length_;
  int result_ = 0;
};

bool non_negative_integer(const Napi::Value& v, double max) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= max && d == static_cast<double>(static_cast<uint64_t>(d));
}

Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !non_negative_integer(info[0], 2147483647.0) || !non_negative_integer(info[1], 9007199254740991.0) ||
      !non_negative_integer(info[2], 9007199254740991.0)) {
    throw Napi::TypeError::New(env, "startWriteback: expected (fd, offset, length) as non-negative integers");
  }
  auto* job = new WritebackJob(env, static_cast<int>(info[0].As<Napi::Number>().Int64Value()),
                               static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()),
                               static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

}  // namespace

void init_writeback(Napi::Env env, Napi::Object exports) {
  exports.Set("startWriteback", Napi::Function::New(env, StartWriteback, "startWriteback"));
}

}  // namespace gguf_forge
