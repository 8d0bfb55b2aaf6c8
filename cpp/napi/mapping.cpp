// mapFile(path) -> NativeMapping { size, closed, view(offset, length), close() }.
// Views are external ArrayBuffers over the mapping. Each holds a reference to the MappedFile, so
// the memory stays mapped while any view is reachable; close() detaches every view still alive
// (tracked through weak references) before unmapping, so no JS code can touch unmapped memory.
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "napi/addon_data.h"
#include "napi/args.h"

namespace gguf_forge {
namespace {

// Largest integer a JS number holds exactly.

// Node's fs errors carry the errno name as `code`; libuv's uv_err_name is not reachable from a
// cmake-js build (node-api-headers ship no uv.h), so the names that open/fstat/mmap give are here.
std::string errno_name(int err) {
  switch (err) {
#define GGUF_FORGE_ERRNO(name) \
  case name:                   \
    return #name;
    GGUF_FORGE_ERRNO(ENOENT)
    GGUF_FORGE_ERRNO(EACCES)
    GGUF_FORGE_ERRNO(EPERM)
    GGUF_FORGE_ERRNO(EISDIR)
    GGUF_FORGE_ERRNO(ENOTDIR)
    GGUF_FORGE_ERRNO(ELOOP)
    GGUF_FORGE_ERRNO(ENAMETOOLONG)
    GGUF_FORGE_ERRNO(EMFILE)
    GGUF_FORGE_ERRNO(ENFILE)
    GGUF_FORGE_ERRNO(ENOMEM)
    GGUF_FORGE_ERRNO(EFBIG)
    GGUF_FORGE_ERRNO(EOVERFLOW)
    GGUF_FORGE_ERRNO(ENODEV)
    GGUF_FORGE_ERRNO(ENXIO)
    GGUF_FORGE_ERRNO(EINVAL)
    GGUF_FORGE_ERRNO(EIO)
    GGUF_FORGE_ERRNO(EAGAIN)
    GGUF_FORGE_ERRNO(EBUSY)
    GGUF_FORGE_ERRNO(ETXTBSY)
    GGUF_FORGE_ERRNO(EINTR)
#undef GGUF_FORGE_ERRNO
    default:
      return "E" + std::to_string(err);
  }
}

Napi::Error system_error(Napi::Env env, const SystemError& e) {
  const std::string code = errno_name(e.err());
  Napi::Error error = Napi::Error::New(env, code + ": " + e.what());
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -e.err()));  // negative, like Node's fs errors
  error.Set("syscall", Napi::String::New(env, e.syscall()));
  error.Set("path", Napi::String::New(env, e.path()));
  return error;
}

class Mapping : public Napi::ObjectWrap<Mapping> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<Mapping>::DefineClass(env, "NativeMapping",
                                            {
                                                InstanceAccessor<&Mapping::Size>("size"),
                                                InstanceAccessor<&Mapping::Closed>("closed"),
                                                InstanceMethod<&Mapping::View>("view"),
                                                InstanceMethod<&Mapping::Close>("close"),
                                            });
  }

  explicit Mapping(const Napi::CallbackInfo& info) : ObjectWrap<Mapping>(info) {
    // Only mapFile() constructs these, passing the opened file as an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "NativeMapping cannot be constructed directly; use mapFile(path)");
    }
    auto* file = info[0].As<Napi::External<std::shared_ptr<MappedFile>>>().Data();
    file_ = *file;
    size_ = file_->size();
  }

 private:
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(size_)); }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), file_ == nullptr); }

  Napi::Value View(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!file_) throw Napi::Error::New(env, "view: the mapping was closed");
    const uint64_t offset = static_cast<uint64_t>(integer_arg(info, 0, "view", "offset"));
    const uint64_t length = static_cast<uint64_t>(integer_arg(info, 1, "view", "length"));
    if (offset > size_ || length > size_ - offset) {
      throw Napi::RangeError::New(env, "view: range [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                                           ") is outside " + file_->path() + " (" + std::to_string(size_) + " bytes)");
    }
    if (length == 0) return Napi::ArrayBuffer::New(env, 0);  // touches no mapped memory

    auto* hint = new std::shared_ptr<MappedFile>(file_);
    Napi::ArrayBuffer view;
    try {
      view = Napi::ArrayBuffer::New(
          env, file_->data() + offset, static_cast<size_t>(length),
          [](Napi::Env, void*, std::shared_ptr<MappedFile>* ref) { delete ref; }, hint);
    } catch (...) {
      delete hint;
      throw;
    }
    if (views_.size() >= prune_at_) prune();
    views_.push_back(Napi::Weak(view));
    return view;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!file_) return info.Env().Undefined();
    for (auto& ref : views_) {
      Napi::ArrayBuffer view = ref.Value();
      if (!view.IsEmpty() && !view.IsDetached()) view.Detach();
    }
    views_.clear();
    file_->unmap();
    file_.reset();
    return info.Env().Undefined();
  }

  // Drops the weak references whose views were already collected.
  void prune() {
    views_.erase(std::remove_if(views_.begin(), views_.end(), [](Napi::Reference<Napi::ArrayBuffer>& ref) {
                   return ref.Value().IsEmpty();
                 }),
                 views_.end());
    prune_at_ = std::max<size_t>(64, views_.size() * 2);
  }

  std::shared_ptr<MappedFile> file_;
  uint64_t size_ = 0;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> views_;
  size_t prune_at_ = 64;
};

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "mapFile: expected a path string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<MappedFile> file;
  try {
    file = MappedFile::open(path);
  } catch (const SystemError& e) {
    throw system_error(env, e);
  }
  return addon_data(env).mapping_constructor.New({Napi::External<std::shared_ptr<MappedFile>>::New(env, &file)});
}

}  // namespace

void init_mapping(Napi::Env env, Napi::Object exports) {
  addon_data(env).mapping_constructor = Napi::Persistent(Mapping::DefineClass(env));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
}

}  // namespace gguf_forge
