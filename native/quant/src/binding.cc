// Node-API surface of the quantization kernels (plain Node-API, so one binary serves Node and Electron). Everything
// works in place on the caller's typed arrays; offsets are checked against their lengths before any kernel runs.
//
//   encode(type, src: Float32Array, srcOff, dst: Uint8Array, dstOff, nBlocks) -> -1 | index in src of a non-finite value
//   narrowF16(src: Float32Array, srcOff, dst: Uint8Array, dstOff, n)   f32 -> f16 (round to nearest even), dst in bytes
//   widenF16(src: Uint8Array, srcOff, dst: Float32Array, dstOff, n)    f16 -> f32 (exact), src in bytes
//   isa: 'avx512' | 'avx2' | 'scalar' (the kernels in use, the best the CPU has unless set);
//   setIsa(name) -> whether that set is available (and now in use)
#include <node_api.h>

#include <cstdio>
#include <string>

#include "kernels.h"

namespace {

using namespace quant;

using EncodeK = int64_t (*)(const float*, uint8_t*, int64_t);

struct Isa {
  const char* name;
  void (*narrow)(const uint32_t*, uint16_t*, int64_t);
  void (*widen)(const uint16_t*, uint32_t*, int64_t);
  EncodeK q4_k;
  EncodeK q5_k;
  FitSymmetric16 q6_k_fit;
  Levels16 q6_k_levels;
};

int64_t q4_k_scalar(const float* src, uint8_t* dst, int64_t n) { return encode_q4_k(src, dst, n, fit_scale_min8_scalar); }
int64_t q5_k_scalar(const float* src, uint8_t* dst, int64_t n) { return encode_q5_k(src, dst, n, fit_scale_min8_scalar); }

const Isa kScalar{"scalar", narrow_f16_scalar, widen_f16_scalar, q4_k_scalar, q5_k_scalar, fit_symmetric16_scalar,
                  levels16_q6_k_scalar};
#ifdef QUANT_HAVE_AVX2
const Isa kAvx2{"avx2", narrow_f16_avx2, widen_f16_avx2, encode_q4_k_avx2, encode_q5_k_avx2, fit_symmetric16_scalar,
                levels16_q6_k_scalar};
#endif
#ifdef QUANT_HAVE_AVX512
// F16 conversions stay the F16C ones: they already run at memory speed.
const Isa kAvx512{"avx512", narrow_f16_avx2, widen_f16_avx2, encode_q4_k_avx512, encode_q5_k_avx512,
                  fit_symmetric16_avx512, levels16_q6_k_avx512};
#endif

bool cpu_has_avx2() {
#ifdef QUANT_HAVE_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

// CPUID bits (libgcc also checks that the OS saves the zmm state).
bool cpu_has_avx512() {
#ifdef QUANT_HAVE_AVX512
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

const Isa* g_isa = &kScalar;

// GGUF/ggml type numbers (engine/gguf/ggmlTypes.ts).
enum : int32_t { F16 = 1, Q4_0 = 2, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14 };

struct TypeInfo {
  int32_t block;
  int32_t size;
};

bool type_info(int32_t type, TypeInfo* out) {
  switch (type) {
    case Q8_0: *out = {32, 34}; return true;
    case Q4_0: *out = {32, 18}; return true;
    case Q4_K: *out = {256, 144}; return true;
    case Q5_K: *out = {256, 176}; return true;
    case Q6_K: *out = {256, 210}; return true;
    default: return false;
  }
}

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, nullptr, "quant addon: Node-API call failed: " #call); \
      return nullptr;                                                   \
    }                                                                   \
  } while (0)

napi_value throw_range(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, nullptr, ("quant addon: " + msg).c_str());
  return nullptr;
}

napi_value throw_type(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, nullptr, ("quant addon: " + msg).c_str());
  return nullptr;
}

// A typed array argument of the expected element type: its data and element count.
bool typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) return false;
  return type == want;
}

bool int_arg(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

napi_value Encode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 6) return throw_type(env, "encode(type, src, srcOff, dst, dstOff, nBlocks) takes 6 arguments");
  int32_t type;
  TypeInfo ti;
  if (napi_get_value_int32(env, argv[0], &type) != napi_ok || !type_info(type, &ti)) {
    return throw_type(env, "encode: type must be Q8_0, Q4_0, Q4_K, Q5_K or Q6_K");
  }
  void *src, *dst;
  size_t src_len, dst_len;
  int64_t src_off, dst_off, n_blocks;
  if (!typed_arg(env, argv[1], napi_float32_array, &src, &src_len)) return throw_type(env, "encode: src must be a Float32Array");
  if (!typed_arg(env, argv[3], napi_uint8_array, &dst, &dst_len)) return throw_type(env, "encode: dst must be a Uint8Array");
  if (!int_arg(env, argv[2], &src_off) || !int_arg(env, argv[4], &dst_off) || !int_arg(env, argv[5], &n_blocks)) {
    return throw_type(env, "encode: offsets and block count must be non-negative integers");
  }
  if (src_off + n_blocks * ti.block > static_cast<int64_t>(src_len)) return throw_range(env, "encode: src is too short");
  if (dst_off + n_blocks * ti.size > static_cast<int64_t>(dst_len)) return throw_range(env, "encode: dst is too short");
  const float* s = static_cast<const float*>(src) + src_off;
  uint8_t* d = static_cast<uint8_t*>(dst) + dst_off;
  int64_t bad = -1;
  switch (type) {
    case Q8_0: bad = encode_q8_0(s, d, n_blocks); break;
    case Q4_0: bad = encode_q4_0(s, d, n_blocks); break;
    case Q4_K: bad = g_isa->q4_k(s, d, n_blocks); break;
    case Q5_K: bad = g_isa->q5_k(s, d, n_blocks); break;
    case Q6_K: bad = encode_q6_k(s, d, n_blocks, g_isa->q6_k_fit, g_isa->q6_k_levels); break;
  }
  return number(env, bad < 0 ? -1.0 : static_cast<double>(bad + src_off));
}

napi_value NarrowF16(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void *src, *dst;
  size_t src_len, dst_len;
  int64_t src_off, dst_off, n;
  if (argc != 5 || !typed_arg(env, argv[0], napi_float32_array, &src, &src_len) ||
      !typed_arg(env, argv[2], napi_uint8_array, &dst, &dst_len) || !int_arg(env, argv[1], &src_off) ||
      !int_arg(env, argv[3], &dst_off) || !int_arg(env, argv[4], &n)) {
    return throw_type(env, "narrowF16(src: Float32Array, srcOff, dst: Uint8Array, dstOff, n)");
  }
  if (src_off + n > static_cast<int64_t>(src_len) || dst_off + 2 * n > static_cast<int64_t>(dst_len)) {
    return throw_range(env, "narrowF16: range past the end of an array");
  }
  uint8_t* d = static_cast<uint8_t*>(dst) + dst_off;
  const uint32_t* s = static_cast<const uint32_t*>(src) + src_off;
  if ((reinterpret_cast<uintptr_t>(d) & 1) == 0) {
    g_isa->narrow(s, reinterpret_cast<uint16_t*>(d), n);
  } else {
    // An odd destination: convert through a small aligned buffer.
    uint16_t tmp[1024];
    for (int64_t done = 0; done < n; done += 1024) {
      const int64_t k = n - done < 1024 ? n - done : 1024;
      g_isa->narrow(s + done, tmp, k);
      std::memcpy(d + 2 * done, tmp, 2 * k);
    }
  }
  return nullptr;
}

napi_value WidenF16(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void *src, *dst;
  size_t src_len, dst_len;
  int64_t src_off, dst_off, n;
  if (argc != 5 || !typed_arg(env, argv[0], napi_uint8_array, &src, &src_len) ||
      !typed_arg(env, argv[2], napi_float32_array, &dst, &dst_len) || !int_arg(env, argv[1], &src_off) ||
      !int_arg(env, argv[3], &dst_off) || !int_arg(env, argv[4], &n)) {
    return throw_type(env, "widenF16(src: Uint8Array, srcOff, dst: Float32Array, dstOff, n)");
  }
  if (src_off + 2 * n > static_cast<int64_t>(src_len) || dst_off + n > static_cast<int64_t>(dst_len)) {
    return throw_range(env, "widenF16: range past the end of an array");
  }
  const uint8_t* s = static_cast<const uint8_t*>(src) + src_off;
  uint32_t* d = static_cast<uint32_t*>(dst) + dst_off;
  if ((reinterpret_cast<uintptr_t>(s) & 1) == 0) {
    g_isa->widen(reinterpret_cast<const uint16_t*>(s), d, n);
  } else {
    uint16_t tmp[1024];
    for (int64_t done = 0; done < n; done += 1024) {
      const int64_t k = n - done < 1024 ? n - done : 1024;
      std::memcpy(tmp, s + 2 * done, 2 * k);
      g_isa->widen(tmp, d + done, k);
    }
  }
  return nullptr;
}

napi_value SetIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  char buf[16] = {0};
  size_t len = 0;
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) != napi_ok) {
    return throw_type(env, "setIsa(name: 'avx512' | 'avx2' | 'scalar')");
  }
  const std::string want(buf, len);
  bool ok = false;
  if (want == "scalar") {
    g_isa = &kScalar;
    ok = true;
  }
#ifdef QUANT_HAVE_AVX2
  if (want == "avx2" && cpu_has_avx2()) {
    g_isa = &kAvx2;
    ok = true;
  }
#endif
#ifdef QUANT_HAVE_AVX512
  if (want == "avx512" && cpu_has_avx512()) {
    g_isa = &kAvx512;
    ok = true;
  }
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value IsaGetter(napi_env env, napi_callback_info) {
  napi_value name;
  napi_create_string_utf8(env, g_isa->name, NAPI_AUTO_LENGTH, &name);
  return name;
}

napi_value Init(napi_env env, napi_value exports) {
#ifdef QUANT_HAVE_AVX2
  if (cpu_has_avx2()) g_isa = &kAvx2;
#endif
#ifdef QUANT_HAVE_AVX512
  if (cpu_has_avx512()) g_isa = &kAvx512;
#endif
  napi_property_descriptor props[] = {
      {"encode", nullptr, Encode, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"narrowF16", nullptr, NarrowF16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"widenF16", nullptr, WidenF16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"isa", nullptr, nullptr, IsaGetter, nullptr, nullptr, napi_enumerable, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
