// Argument checks shared by the N-API entry points. lib/ validates every call first, but the addon is
// a memory-safety boundary, so each entry point checks again: a TypeError for the wrong kind of
// value, a RangeError for a number outside what the call accepts.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace gguf_forge {

/** 2^53 - 1: the largest integer a JS number holds exactly (and past any typed array's length). */
inline constexpr double kMaxSafeInteger = 9007199254740991.0;
/** Largest file descriptor number. */
inline constexpr double kMaxFd = 2147483647.0;

/** Argument `index`, an integer in [min, max]. */
inline int64_t integer_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what, double min = 0,
                           double max = kMaxSafeInteger) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected a number for " + what);
  }
  const double v = info[index].As<Napi::Number>().DoubleValue();
  if (!(v >= min && v <= max) || std::floor(v) != v) {
    const std::string upper = max == kMaxSafeInteger ? "2^53)" : std::to_string(static_cast<int64_t>(max)) + "]";
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + what + " must be an integer in [" +
                                                std::to_string(static_cast<int64_t>(min)) + ", " + upper);
  }
  return static_cast<int64_t>(v);
}

/** A thread count: `fallback` when absent, not a number or below 1 (NaN included), at most 1024. */
inline size_t threads_arg(const Napi::CallbackInfo& info, size_t index, size_t fallback) {
  if (info.Length() <= index || !info[index].IsNumber()) return fallback;
  const double v = info[index].As<Napi::Number>().DoubleValue();
  if (!(v >= 1)) return fallback;
  return static_cast<size_t>(std::min(v, 1024.0));
}

/** a * b, or a RangeError when it passes 2^53 (every length a typed array can have). */
inline int64_t checked_mul(Napi::Env env, int64_t a, int64_t b, const char* fn, const char* what) {
  if (a != 0 && b > static_cast<int64_t>(kMaxSafeInteger) / a) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + what + " exceeds 2^53");
  }
  return a * b;
}

}  // namespace gguf_forge
