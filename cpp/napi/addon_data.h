// Per-environment state of the addon (the addon can be loaded by several worker_threads, each
// with its own napi_env); process-wide state (dispatch table, thread pool) lives in cpp/core.
#pragma once

#include <napi.h>

namespace gguf_forge {

struct AddonData {
  Napi::FunctionReference mapping_constructor;
};

AddonData& addon_data(Napi::Env env);

// Registration of the exported functions, one file per area.
void init_conversions(Napi::Env env, Napi::Object exports);
void init_mapping(Napi::Env env, Napi::Object exports);
void init_quantize(Napi::Env env, Napi::Object exports);
void init_matmul(Napi::Env env, Napi::Object exports);
void init_file_writes(Napi::Env env, Napi::Object exports);

}  // namespace gguf_forge
