// File writes on libuv pool threads, for outputs written in long sequential runs:
//   startWriteback(fd, offset, length) -> Promise<number>  (io/writeback.h)
//   writeAt(fd, bytes, position) -> Promise<number>         (io/piecewise_write.h)
// Both resolve with 0 or an errno value and never reject for a system error: the caller knows the
// file's path and builds the error users see (writeAt), or ignores it (writeback is only a hint).
#include <napi.h>

#include <cstdint>

#include "io/piecewise_write.h"
#include "io/writeback.h"
#include "napi/args.h"

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

Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto fd = static_cast<int>(integer_arg(info, 0, "startWriteback", "fd", 0, kMaxFd));
  const auto offset = static_cast<uint64_t>(integer_arg(info, 1, "startWriteback", "offset"));
  const auto length = static_cast<uint64_t>(integer_arg(info, 2, "startWriteback", "length"));
  auto* job = new WritebackJob(env, fd, offset, length);
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

Napi::Value WriteAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto fd = static_cast<int>(integer_arg(info, 0, "writeAt", "fd", 0, kMaxFd));
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "writeAt: expected a Uint8Array for bytes");
  }
  const auto position = static_cast<uint64_t>(integer_arg(info, 2, "writeAt", "position"));
  auto* job = new WriteAtJob(env, fd, info[1].As<Napi::Uint8Array>(), position);
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
