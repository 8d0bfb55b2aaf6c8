// File writes on libuv pool threads, for outputs written in long sequential runs:
//   startWriteback(fd, offset, length) -> Promise<number>  (io/writeback.h)
//   writeAt(fd, bytes, position) -> Promise<number>         (io/piecewise_write.h)
// Both resolve with 0 or an errno value and never reject for a system error: the caller knows the
// file's path and builds the error users see (writeAt), or ignores it (writeback is only a hint).
#include <napi.h>

#include <cstdint>

#include "io/piecewise_write.h"
#include "io/writeback.h"

namespace gguf_forge {

namespace {

/** Runs `work` (returning an errno value) on a pool thread; the promise resolves with its result. */
class ErrnoJob : public Napi::AsyncWorker {
 public:
  explicit ErrnoJob(Napi::Env env, const char* name) : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 protected:
  int result_ = 0;

 private:
  Napi::Promise::Deferred deferred_;
};

class WritebackJob : public ErrnoJob {
 public:
  WritebackJob(Napi::Env env, int fd, uint64_t offset, uint64_t length)
      : ErrnoJob(env, "gguf_forge.startWriteback"), fd_(fd), offset_(offset), length_(length) {}
  void Execute() override { result_ = start_writeback(fd_, offset_, length_); }

 private:
  int fd_;
  uint64_t offset_;
  uint64_t length_;
};

class WriteAtJob : public ErrnoJob {
 public:
  WriteAtJob(Napi::Env env, int fd, Napi::Uint8Array bytes, uint64_t position)
      : ErrnoJob(env, "gguf_forge.writeAt"),
        fd_(fd),
        data_(bytes.Data()),
        length_(bytes.ByteLength()),
        position_(position),
        keep_(Napi::Persistent(bytes.As<Napi::Object>())) {}
  void Execute() override { result_ = write_all_at(fd_, data_, length_, position_, kWritePieceBytes); }

 private:
  int fd_;
  const uint8_t* data_;
  size_t length_;
  uint64_t position_;
  Napi::ObjectReference keep_;  // the bytes stay alive (and unmoved: array buffers never move) until done
};

constexpr double kMaxFd = 2147483647.0;
constexpr double kMaxSafe = 9007199254740991.0;

bool non_negative_integer(const Napi::Value& v, double max) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= max && d == static_cast<double>(static_cast<uint64_t>(d));
}

uint64_t integer(const Napi::Value& v) { return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue()); }

Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !non_negative_integer(info[0], kMaxFd) || !non_negative_integer(info[1], kMaxSafe) || !non_negative_integer(info[2], kMaxSafe)) {
    throw Napi::TypeError::New(env, "startWriteback: expected (fd, offset, length) as non-negative integers");
  }
  auto* job = new WritebackJob(env, static_cast<int>(integer(info[0])), integer(info[1]), integer(info[2]));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

Napi::Value WriteAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !non_negative_integer(info[0], kMaxFd) || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !non_negative_integer(info[2], kMaxSafe)) {
    throw Napi::TypeError::New(env, "writeAt: expected (fd, Uint8Array, position) with a non-negative integer fd and position");
  }
  auto* job = new WriteAtJob(env, static_cast<int>(integer(info[0])), info[1].As<Napi::Uint8Array>(), integer(info[2]));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

}  // namespace

void init_file_writes(Napi::Env env, Napi::Object exports) {
  exports.Set("startWriteback", Napi::Function::New(env, StartWriteback, "startWriteback"));
  exports.Set("writeAt", Napi::Function::New(env, WriteAt, "writeAt"));
}

}  // namespace gguf_forge
