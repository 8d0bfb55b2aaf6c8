// The one thread pool of the addon. Kernels never spawn threads: they are called as
// fn(ith, nth) for ith in [0, nth) and split their rows deterministically from (ith, nth), so a
// result never depends on how many threads actually ran or which one ran which part.
#pragma once

#include <cstddef>
#include <functional>

namespace gguf_forge {

/**
 * Threads the pool runs tasks on, the calling thread included: hardware_concurrency, or
 * GGUF_FORGE_THREADS (1..1024) when set. Starts the pool on first use.
 */
size_t pool_size();

/**
 * Runs fn(ith, nth) for every ith in [0, nth) and returns when all have finished; the caller
 * takes part. Safe to call from any thread, concurrently (callers are served one at a time); a
 * call from inside a task runs inline on that thread. The first exception thrown by a task is
 * rethrown here after all tasks finished.
 */
void parallel_for(size_t nth, const std::function<void(size_t ith, size_t nth)>& fn);

}  // namespace gguf_forge
