// Quantization kernels shared by the portable, AVX2 and AVX-512 builds. Every kernel reproduces the TypeScript encoder of
// the same type in engine/gguf/quant/ operation for operation (same IEEE operations, same order, no fused
// multiply-adds: the whole addon is compiled with -ffp-contract=off), so both give the same bytes.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace quant {

// ---- JavaScript number semantics the TypeScript encoders rely on ----

// ToInt32 (what `x | 0` does): truncate toward zero, then wrap modulo 2^32; NaN and infinities give 0.
// Index of the first non-finite value of x[0..n).
inline int first_non_finite(const float* x, int n) {
  for (int i = 0; i < n; i++) {
    if (!std::isfinite(x[i])) return i;
  }
  return 0;
}

inline int32_t js_int32(double x) {
  if (x > -2147483649.0 && x < 2147483648.0) return static_cast<int32_t>(x);
  if (!std::isfinite(x)) return 0;
  double m = std::fmod(std::trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// Math.round: nearest, halves toward +infinity (x - floor(x) is exact for every double).
inline double js_round(double x) {
  double f = std::floor(x);
  return x - f >= 0.5 ? f + 1 : f;
}

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// f32 bit pattern -> f16 bit pattern, round to nearest even; NaNs keep their sign and top payload bits (f16.ts).
inline uint16_t f32_bits_to_f16(uint32_t bits) {
  uint32_t sign = (bits >> 16) & 0x8000;
  uint32_t exp = (bits >> 23) & 0xff;
  uint32_t mant = bits & 0x7fffff;
  if (exp == 0xff) return sign | 0x7c00 | (mant == 0 ? 0 : ((mant >> 13) ? (mant >> 13) : 0x200));
  int32_t e = static_cast<int32_t>(exp) - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    uint32_t m = mant | 0x800000;
    uint32_t shift = 14 - e;
    uint32_t h = m >> shift;
    uint32_t halfway = 1u << (shift - 1);
    return sign | (h + (((m & ((1u << shift) - 1)) + (h & 1) + halfway - 1) >> shift));
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  return sign | (h + (((mant & 0x1fff) + (h & 1) + 0xfff) >> 13));
}

// f16 bit pattern -> f32 bit pattern (exact, NaN payloads kept).
inline uint32_t f16_to_f32_bits(uint32_t h) {
  uint32_t sign = (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return sign | 0x7f800000 | (mant << 13);
  if (exp != 0) return sign | ((exp + 112) << 23) | (mant << 13);
  if (mant == 0) return sign;
  uint32_t m = mant;
  uint32_t e = 113;
  while ((m & 0x400) == 0) {
    m <<= 1;
    e--;
  }
  return sign | (e << 23) | ((m & 0x3ff) << 13);
}

// writeF16 in f16.ts: the number is rounded to f32, then to f16; stores it little-endian and returns the value kept.
inline double write_f16(uint8_t* dst, double x) {
  uint16_t h = f32_bits_to_f16(f32_bits(static_cast<float>(x)));
  dst[0] = h & 0xff;
  dst[1] = h >> 8;
  return static_cast<double>(bits_f32(f16_to_f32_bits(h)));
}

// ---- kernels ----

// The K-quants' per-super-block search of eight 32-value sub-blocks (kquant.ts fitScaleMin, preceded by the first
// pass q4_k.ts makes over each sub-block: sum of squares, extremes, finiteness); writes each sub-block's (scale, min).
// Returns -1, or the index in x of the first value that is NaN or infinite (then nothing is written).
struct ScaleMinGrid {
  int nmax;
  double rmin;
  double rdelta;
  int nstep;
};
using FitScaleMin8 = int (*)(const float* x, const ScaleMinGrid& grid, double* scales, double* mins);

int fit_scale_min8_scalar(const float* x, const ScaleMinGrid& grid, double* scales, double* mins);

// Q4_K/Q5_K's shared first half of a super-block: the fits (with `fit`), the 6-bit scales and mins into ls/lm and
// packed at o[4..16), d and dmin at o[0..4) (and as stored, in d_out/dmin_out). Returns false (and the index of the
// first non-finite value in bad_at) when the super-block holds one.
bool fit_super_block(const float* x, uint8_t* o, const ScaleMinGrid& grid, FitScaleMin8 fit, uint8_t* ls,
                     uint8_t* lm, double* d_out, double* dmin_out, int64_t* bad_at);
// Its second part, from the fitted (scale, min) pairs of the eight sub-blocks.
void write_scale_min_head(uint8_t* o, const double* scales, const double* mins, uint8_t* ls, uint8_t* lm,
                          double* d_out, double* dmin_out);

// A value's level: clamp(ToInt32(t), 0, top), as the TypeScript requantisation computes it.
inline int32_t clamp_level(double t, int32_t top) {
  int32_t q = js_int32(t);
  return q < 0 ? 0 : q > top ? top : q;
}

// Encoders: `n_blocks` blocks from `src` into `dst`. They return -1, or the index (from `src`) of the first value that
// is NaN or infinite, in which case the blocks before it are written and the rest are not.
int64_t encode_q8_0(const float* src, uint8_t* dst, int64_t n_blocks);
int64_t encode_q4_0(const float* src, uint8_t* dst, int64_t n_blocks);
int64_t encode_q4_k(const float* src, uint8_t* dst, int64_t n_blocks, FitScaleMin8 fit);
int64_t encode_q5_k(const float* src, uint8_t* dst, int64_t n_blocks, FitScaleMin8 fit);
// Q6_K's search (kquant.ts fitSymmetricScale) of the sixteen 16-value sub-blocks of a super-block, after q6_k.ts's
// first pass over each (extremes, finiteness): writes the sixteen signed scales, or returns the index in x of the
// first value that is NaN or infinite.
using FitSymmetric16 = int (*)(const float* x, double* scales);
int fit_symmetric16_scalar(const float* x, double* scales);
// Q6_K's levels of one 16-value sub-block with inverse scale id: L[i] = clamp(floor(x id + 0.5), -32, 31) + 32.
using Levels16 = void (*)(const float* x, double id, uint8_t* L);
void levels16_q6_k_scalar(const float* x, double id, uint8_t* L);
int64_t encode_q6_k(const float* src, uint8_t* dst, int64_t n_blocks, FitSymmetric16 fit, Levels16 levels);

void narrow_f16_scalar(const uint32_t* src, uint16_t* dst, int64_t n);
void widen_f16_scalar(const uint16_t* src, uint32_t* dst, int64_t n);

#if defined(__x86_64__) || defined(_M_X64)
// Built with AVX2, FMA and F16C enabled (avx2.cc); called only when CPUID says the processor has them.
void narrow_f16_avx2(const uint32_t* src, uint16_t* dst, int64_t n);
void widen_f16_avx2(const uint16_t* src, uint32_t* dst, int64_t n);
int64_t encode_q4_k_avx2(const float* src, uint8_t* dst, int64_t n_blocks);
int64_t encode_q5_k_avx2(const float* src, uint8_t* dst, int64_t n_blocks);
// Built with AVX-512 F/BW/VL/DQ enabled (avx512.cc); called only when CPUID says the processor has them.
int64_t encode_q4_k_avx512(const float* src, uint8_t* dst, int64_t n_blocks);
int64_t encode_q5_k_avx512(const float* src, uint8_t* dst, int64_t n_blocks);
int fit_symmetric16_avx512(const float* x, double* scales);
void levels16_q6_k_avx512(const float* x, double id, uint8_t* L);
#endif

}  // namespace quant
