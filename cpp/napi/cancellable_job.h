// A kernel job on a libuv worker thread that JS can cancel: the callback gets (err, cancelled),
// and Start() queues the job and returns the { cancel() } handle lib/ uses for AbortSignal.
// Subclasses run the kernel in Execute(), passing cancel_flag() down, and report whether it ran
// to the end with set_completed().
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

namespace gguf_forge {

class CancellableJob : public Napi::AsyncWorker {
 public:
  CancellableJob(Napi::Function callback, const char* resource_name)
      : Napi::AsyncWorker(callback, resource_name), cancel_(std::make_shared<std::atomic<bool>>(false)) {}

  /** Queues the job (the worker deletes itself when done) and returns { cancel(): void }. */
  Napi::Object Start(Napi::Env env) {
    std::shared_ptr<std::atomic<bool>> cancel = cancel_;
    Napi::Object task = Napi::Object::New(env);
    task.Set("cancel", Napi::Function::New(
                           env, [cancel](const Napi::CallbackInfo& i) -> Napi::Value {
                             cancel->store(true);
                             return i.Env().Undefined();
                           },
                           "cancel"));
    Queue();
    return task;
  }

 protected:
  const std::atomic<bool>* cancel_flag() const { return cancel_.get(); }
  void set_completed(bool completed) { completed_ = completed; }

  void OnOK() override {
    Napi::Env env = Env();
    Callback().Call({env.Null(), Napi::Boolean::New(env, !completed_)});
  }

 private:
  // Shared with the JS cancel() closure, which may outlive the worker.
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool completed_ = false;
};

}  // namespace gguf_forge
