# The optional native quantization kernels (engine/gguf/quant/native.ts loads them; the TypeScript kernels are the
# fallback). Built by scripts/build-native.mjs into dist/native/quant.node. -ffp-contract=off everywhere: the kernels
# must round exactly as the TypeScript ones do, so no multiply-add may be fused behind our back.
{
  "target_defaults": {
    "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-fast-math", "-fvisibility=hidden"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
    "defines": ["NAPI_VERSION=8"],
  },
  "targets": [
    {
      "target_name": "quant",
      "sources": ["src/binding.cc", "src/scalar.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["quant_avx2", "quant_avx512"],
          "defines": ["QUANT_HAVE_AVX2=1", "QUANT_HAVE_AVX512=1"],
        }],
      ],
    },
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          # Only these sources may use AVX2/FMA/F16C instructions; binding.cc calls them after a CPUID check.
          "target_name": "quant_avx2",
          "type": "static_library",
          "sources": ["src/avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-fPIC"],
        },
        {
          # Only these sources may use AVX-512 instructions; binding.cc calls them after a CPUID check.
          "target_name": "quant_avx512",
          "type": "static_library",
          "sources": ["src/avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-fPIC"],
        },
      ],
    }],
  ],
}
