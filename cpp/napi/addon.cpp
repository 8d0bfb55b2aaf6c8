// Entry point of gguf_forge.node: the typed surface is lib/native.ts (NativeAddon).
#include <napi.h>

#include <exception>
#include <stdexcept>

#include "core/cpu_features.h"
#include "core/isa.h"
#include "core/thread_pool.h"
#include "napi/addon_data.h"

namespace gguf_forge {

AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

namespace {

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [name, value] : cpu_features().list()) out.Set(name, Napi::Boolean::New(env, value));
  return out;
}

Napi::Value IsaJs(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isa_name(current_isa())); }

Napi::Value SupportedIsasJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& isas = supported_isas();
  Napi::Array out = Napi::Array::New(env, isas.size());
  for (uint32_t i = 0; i < isas.size(); ++i) out.Set(i, Napi::String::New(env, isa_name(isas[i])));
  return out;
}

Napi::Value SetIsaJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "setIsa: expected an ISA name string");
  try {
    set_isa(info[0].As<Napi::String>().Utf8Value());
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  }
  return env.Undefined();
}

Napi::Value IsaWarningJs(const Napi::CallbackInfo& info) {
  const std::string& warning = isa_warning();
  if (warning.empty()) return info.Env().Undefined();
  return Napi::String::New(info.Env(), warning);
}

Napi::Value ThreadCountJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pool_size()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
  exports.Set("isa", Napi::Function::New(env, IsaJs, "isa"));
  exports.Set("supportedIsas", Napi::Function::New(env, SupportedIsasJs, "supportedIsas"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsaJs, "setIsa"));
  exports.Set("isaWarning", Napi::Function::New(env, IsaWarningJs, "isaWarning"));
  exports.Set("threadCount", Napi::Function::New(env, ThreadCountJs, "threadCount"));
  init_conversions(env, exports);
  init_mapping(env, exports);
  init_quantize(env, exports);
  init_matmul(env, exports);
  init_file_writes(env, exports);
  return exports;
}

}  // namespace
}  // namespace gguf_forge

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return gguf_forge::Init(env, exports); }

NODE_API_MODULE(gguf_forge, InitAddon)
