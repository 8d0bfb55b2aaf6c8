{
  # Portable CPU build (npm install fallback, prebuildify). CMakeLists.txt builds the same sources
  # plus the optional GPU parts. gyp cannot set flags per file, so each ISA lives in its own static
  # library with its own -m flags; the baseline and all shared headers get none. Never -march=native.
  "variables": {
    "gf_common_cflags": ["-O3", "-ffp-contract=off", "-fvisibility=hidden"],
    "gf_defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"]
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags": ["<@(gf_common_cflags)"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "<@(gf_common_cflags)"],
    "defines": ["<@(gf_defines)"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "cpp"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_OPTIMIZATION_LEVEL": "3",
      "OTHER_CFLAGS": ["-ffp-contract=off", "-fvisibility=hidden"],
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "msvs_settings": {
      "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
    }
  },
  "targets": [
    {
      "target_name": "gguf_forge",
      "sources": [
        "cpp/core/cpu_features.cpp",
        "cpp/core/isa.cpp",
        "cpp/core/fp16.cpp",
        "cpp/core/thread_pool.cpp",
        "cpp/io/mapped_file.cpp",
        "cpp/io/writeback.cpp",
        "cpp/io/piecewise_write.cpp",
        "cpp/napi/addon.cpp",
        "cpp/napi/conversions.cpp",
        "cpp/napi/mapping.cpp",
        "cpp/napi/quantize.cpp",
        "cpp/napi/matmul.cpp",
        "cpp/napi/file_writes.cpp",
        "cpp/matmul/gemm.cpp",
        "cpp/matmul/gemm_ref.cpp",
        "cpp/quant/legacy_ref.cpp",
        "cpp/quant/kquants_ref.cpp",
        "cpp/quant/iq4_ref.cpp",
        "cpp/quant/scale_search.cpp",
        "cpp/quant/quant_ref.cpp",
        "cpp/quant/quantize_rows.cpp"
      ],
      "conditions": [
        # Resolve every symbol at load: a missing one fails dlopen with a message the loader
        # reports, instead of killing the process at the first call.
        ["OS=='linux'", { "ldflags": ["-Wl,-z,now"] }],
        ["target_arch=='x64' and OS!='win'", {
          "defines": ["GGUF_FORGE_HAVE_AVX2=1", "GGUF_FORGE_HAVE_AVX512=1"],
          "dependencies": ["gguf_forge_avx2", "gguf_forge_avx512"]
        }],
        ["target_arch=='arm64'", {
          "defines": ["GGUF_FORGE_HAVE_NEON=1"],
          "sources": ["cpp/core/fp16_neon.cpp", "cpp/matmul/gemm_neon.cpp", "cpp/quant/legacy_neon.cpp", "cpp/quant/iq4_neon.cpp", "cpp/quant/kquants_neon.cpp"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64' and OS!='win'", {
      "targets": [
        {
          "target_name": "gguf_forge_avx2",
          "type": "static_library",
          "sources": ["cpp/core/fp16_avx2.cpp", "cpp/quant/legacy_avx2.cpp", "cpp/quant/kquants_avx2.cpp", "cpp/quant/kquants_low_avx2.cpp", "cpp/quant/iq4_avx2.cpp", "cpp/matmul/gemm_avx2.cpp"],
          "cflags_cc": ["-fPIC", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c", "-ffp-contract=off"] }
        },
        {
          "target_name": "gguf_forge_avx512",
          "type": "static_library",
          "sources": ["cpp/core/fp16_avx512.cpp", "cpp/quant/legacy_avx512.cpp", "cpp/quant/kquants_avx512.cpp", "cpp/quant/kquants_low_avx512.cpp", "cpp/quant/iq4_avx512.cpp", "cpp/matmul/gemm_avx512.cpp"],
          "cflags_cc": ["-fPIC", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2", "-mfma", "-mf16c", "-ffp-contract=off"] }
        }
      ]
    }]
  ]
}
