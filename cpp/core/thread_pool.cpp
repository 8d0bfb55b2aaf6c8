#include "core/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gguf_forge {
namespace {

thread_local bool t_inside_task = false;

size_t configured_size() {
  size_t n = std::thread::hardware_concurrency();
  if (const char* env = std::getenv("GGUF_FORGE_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1) n = static_cast<size_t>(v);
  }
  if (n < 1) n = 1;
  if (n > 1024) n = 1024;
  return n;
}

class ThreadPool {
 public:
  explicit ThreadPool(size_t size) : size_(size) {
    workers_.reserve(size - 1);
    for (size_t i = 0; i + 1 < size; ++i) workers_.emplace_back([this] { worker_loop(); });
    // Intentionally never joined or destroyed: the pool lives until the process ends. Joining in
    // a static destructor could wait on a job a libuv thread is still submitting at exit; idle
    // workers blocked on the condition variable simply vanish with the process.
    for (auto& w : workers_) w.detach();
  }

  size_t size() const { return size_; }

  void run(size_t nth, const std::function<void(size_t, size_t)>& fn) {
    if (nth == 0) return;
    if (nth == 1 || size_ == 1 || t_inside_task) {
      run_inline(nth, fn);
      return;
    }
    std::lock_guard<std::mutex> submit(submit_mutex_);  // one job at a time, in arrival order
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_nth_ = nth;
      next_.store(0, std::memory_order_relaxed);
      pending_ = nth;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work_on_job(fn, nth);
    std::unique_lock<std::mutex> lock(mutex_);
    // Also wait for workers that woke for this job but claimed nothing: they must be out of
    // work_on_job before the next job resets next_, or they would claim its indices for this fn.
    done_.wait(lock, [this] { return pending_ == 0 && active_ == 0; });
    job_ = nullptr;
    std::exception_ptr error = error_;
    error_ = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

 private:
  static void run_inline(size_t nth, const std::function<void(size_t, size_t)>& fn) {
    const bool was_inside = t_inside_task;
    t_inside_task = true;
    try {
      for (size_t ith = 0; ith < nth; ++ith) fn(ith, nth);
    } catch (...) {
      t_inside_task = was_inside;
      throw;
    }
    t_inside_task = was_inside;
  }

  // Claims task indices until none are left; each finished task counts down pending_.
  void work_on_job(const std::function<void(size_t, size_t)>& fn, size_t nth) {
    t_inside_task = true;
    for (;;) {
      const size_t ith = next_.fetch_add(1, std::memory_order_relaxed);
      if (ith >= nth) break;
      std::exception_ptr error;
      try {
        fn(ith, nth);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_all();
    }
    t_inside_task = false;
  }

  void worker_loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(size_t, size_t)>* job;
      size_t nth;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen && job_ != nullptr; });
        seen = generation_;
        job = job_;
        nth = job_nth_;
        ++active_;
      }
      // job_ stays valid while active_ > 0: the submitter waits for it.
      work_on_job(*job, nth);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0 && pending_ == 0) done_.notify_all();
    }
  }

  const size_t size_;
  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_nth_ = 0;
  std::atomic<size_t> next_{0};
  size_t pending_ = 0;
  size_t active_ = 0;  // workers inside work_on_job for the current job
  uint64_t generation_ = 0;
  std::exception_ptr error_;
};

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool(configured_size());  // leaked on purpose, see above
  return *p;
}

}  // namespace

size_t pool_size() { return pool().size(); }

void parallel_for(size_t nth, const std::function<void(size_t, size_t)>& fn) { pool().run(nth, fn); }

}  // namespace gguf_forge
