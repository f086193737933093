// Portable kernels: transcriptions of f16.ts, q8_0.ts, q4_0.ts, q4_k.ts, q5_k.ts, q6_k.ts and kquant.ts, in the same
// double (or, where the TypeScript uses Math.fround, float) arithmetic, so the bytes match the TypeScript encoders.
#include "kernels.h"

namespace quant {

void narrow_f16_scalar(const uint32_t* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = f32_bits_to_f16(src[i]);
}

void widen_f16_scalar(const uint16_t* src, uint32_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = f16_to_f32_bits(src[i]);
}

namespace {

void store_f16(uint8_t* dst, float v) {
  uint16_t h = f32_bits_to_f16(f32_bits(v));
  dst[0] = h & 0xff;
  dst[1] = h >> 8;
}

}  // namespace

int64_t encode_q8_0(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 32;
    uint8_t* o = dst + b * 34;
    float amax = 0;
    bool bad = false;
    for (int j = 0; j < 32; j++) {
      bad |= !std::isfinite(x[j]);
      float a = std::fabs(x[j]);
      if (a > amax) amax = a;
    }
    if (bad) return b * 32 + first_non_finite(x, 32);
    float d = amax / 127.0f;  // float division is what Math.fround(amax / 127) gives (double rounding is harmless here)
    float id = d != 0 ? 1.0f / d : 0.0f;
    store_f16(o, d);
    for (int j = 0; j < 32; j++) {
      double v = static_cast<double>(x[j] * id);
      int32_t q = js_int32(v + 128.5) - 128;
      if (q - v == 0.5 && v < 0) q--;
      o[2 + j] = static_cast<uint8_t>(q);
    }
  }
  return -1;
}

int64_t encode_q4_0(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 32;
    uint8_t* o = dst + b * 18;
    float amax = 0;
    float max = 0;
    bool bad = false;
    for (int j = 0; j < 32; j++) {
      bad |= !std::isfinite(x[j]);
      float a = std::fabs(x[j]);
      if (a > amax) {
        amax = a;
        max = x[j];
      }
    }
    if (bad) return b * 32 + first_non_finite(x, 32);
    float d = max / -8.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    store_f16(o, d);
    for (int j = 0; j < 16; j++) {
      int32_t q0 = js_int32(static_cast<double>(x[j] * id + 8.5f));
      int32_t q1 = js_int32(static_cast<double>(x[16 + j] * id + 8.5f));
      uint32_t v = static_cast<uint32_t>(q0 > 15 ? 15 : q0) | (static_cast<uint32_t>(q1 > 15 ? 15 : q1) << 4);
      o[2 + j] = static_cast<uint8_t>(v);
    }
  }
  return -1;
}

// ---- K-quant scale searches (kquant.ts) ----

namespace {

constexpr int GRID_SLOTS = 24;
constexpr int SPARE = GRID_SLOTS;
constexpr int EV_SLOTS = GRID_SLOTS + 32;

struct FitState {
  double ev[EV_SLOTS * 4];
  double fitted[2];
  double best_gain;
};

// A typed-array store out of bounds does nothing in JavaScript; the same here (never happens for finite data).
inline void ev_add(double* ev, int32_t slot, double a, double b, double c) {
  if (static_cast<uint32_t>(slot) >= static_cast<uint32_t>(EV_SLOTS)) return;
  double* e = ev + 4 * slot;
  e[0] += a;
  e[1] += b;
  e[2] += c;
}

void sweep(FitState& st, const float* x, double av, double base, double hi, int nmax, double rmin, double rdelta,
           int nstep) {
  double* ev = st.ev;
  const double range = hi - base;
  const double c0 = nmax + rmin;
  const double cN = c0 + rdelta * nstep;
  const double a0 = c0 / range;
  const double aN = cN / range;
  const double q_scale = range / rdelta;
  const double k_base = c0 / rdelta;
  for (int i = 0; i < (nstep + 2) * 4; i++) ev[i] = 0;
  double sw = 0, swx = 0, sl = 0, sl2 = 0, sxl = 0;
  for (int i = 0; i < 32; i++) {
    const double v = x[i];
    const double w = av + std::fabs(v);
    const double wv = w * v;
    sw += w;
    swx += wv;
    const double dv = v - base;
    int32_t l0 = js_int32(dv * a0 + 0.5);
    l0 = l0 < 0 ? 0 : l0;
    int32_t l1 = js_int32(dv * aN + 0.5);
    l1 = l1 > nmax ? nmax : l1 < 0 ? 0 : l1;
    const double wl0 = w * l0;
    sl += wl0;
    sl2 += wl0 * l0;
    sxl += wv * l0;
    const double q = q_scale / dv;
    const double t1 = (l0 + 0.5) * q - k_base;
    const int32_t k1 = js_int32(std::ceil(t1));
    const int32_t k2 = js_int32(std::ceil(t1 + q));
    const int32_t spare = SPARE + (i & 15);
    const int32_t s1 = l1 > l0 ? k1 : spare;
    const int32_t s2 = l1 > l0 + 1 ? k2 : spare + 16;
    ev_add(ev, s1, w, 2 * wl0 + w, wv);
    ev_add(ev, s2, w, 2 * wl0 + 3 * w, wv);
  }
  for (int k = 0; k <= nstep; k++) {
    sl += ev[4 * k];
    sl2 += ev[4 * k + 1];
    sxl += ev[4 * k + 2];
    const double D = sw * sl2 - sl * sl;
    if (D > 0) {
      if (sl2 * swx - sl * sxl > 0) {
        const double num = sxl * sxl;
        if (num > st.best_gain * sl2) {
          st.best_gain = num / sl2;
          st.fitted[0] = sxl / sl2;
          st.fitted[1] = 0;
        }
      } else {
        const double num = sw * sxl * sxl - 2 * sl * sxl * swx + sl2 * swx * swx;
        if (num > st.best_gain * D) {
          st.best_gain = num / D;
          st.fitted[0] = (sw * sxl - swx * sl) / D;
          st.fitted[1] = (sl * sxl - sl2 * swx) / D;
        }
      }
    }
  }
}

void fit_scale_min(FitState& st, const float* x, double sum_x2, double lo, double hi, const ScaleMinGrid& g) {
  const double mn = lo > 0 ? 0 : lo;
  if (hi == mn) {
    st.fitted[0] = 0;
    st.fitted[1] = -mn;
    return;
  }
  const double av = std::sqrt(sum_x2 / 32);
  st.best_gain = -1;
  sweep(st, x, av, mn, hi, g.nmax, g.rmin, g.rdelta, g.nstep);
  if (st.best_gain < 0) {
    st.fitted[0] = (hi - mn) / g.nmax;
    st.fitted[1] = -mn;
    return;
  }
  const double refined = -st.fitted[1];
  if (refined != mn && refined < hi) sweep(st, x, av, refined, hi, g.nmax, g.rmin, g.rdelta, g.nstep);
}

}  // namespace

int fit_scale_min8_scalar(const float* x, const ScaleMinGrid& grid, double* scales, double* mins) {
  double sum_x2[8], lo[8], hi[8];
  for (int j = 0; j < 8; j++) {
    const float* s = x + 32 * j;
    double sum = 0;
    double l = s[0];
    double h = l;
    bool bad = false;
    for (int i = 0; i < 32; i++) {
      const double v = s[i];
      bad |= !std::isfinite(s[i]);
      sum += v * v;
      l = v < l ? v : l;
      h = v > h ? v : h;
    }
    if (bad) return 32 * j + first_non_finite(s, 32);
    sum_x2[j] = sum;
    lo[j] = l;
    hi[j] = h;
  }
  FitState st;
  for (int j = 0; j < 8; j++) {
    fit_scale_min(st, x + 32 * j, sum_x2[j], lo[j], hi[j], grid);
    scales[j] = st.fitted[0];
    mins[j] = st.fitted[1];
  }
  return -1;
}

bool fit_super_block(const float* x, uint8_t* o, const ScaleMinGrid& grid, FitScaleMin8 fit, uint8_t* ls,
                     uint8_t* lm, double* d_out, double* dmin_out, int64_t* bad_at) {
  double scales[8], mins[8];
  const int bad = fit(x, grid, scales, mins);
  if (bad >= 0) {
    *bad_at = bad;
    return false;
  }
  write_scale_min_head(o, scales, mins, ls, lm, d_out, dmin_out);
  return true;
}

void write_scale_min_head(uint8_t* o, const double* scales, const double* mins, uint8_t* ls, uint8_t* lm,
                          double* d_out, double* dmin_out) {
  double max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; j++) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const double inv_scale = max_scale > 0 ? 63 / max_scale : 0;
  const double inv_min = max_min > 0 ? 63 / max_min : 0;
  for (int j = 0; j < 8; j++) {
    const double a = js_round(inv_scale * scales[j]);
    const double m = js_round(inv_min * mins[j]);
    ls[j] = static_cast<uint8_t>(a < 0 ? 0 : a > 63 ? 63 : a);
    lm[j] = static_cast<uint8_t>(m < 0 ? 0 : m > 63 ? 63 : m);
  }
  *d_out = write_f16(o, max_scale / 63);
  *dmin_out = write_f16(o + 2, max_min / 63);
  for (int j = 0; j < 4; j++) {
    o[4 + j] = ls[j] | ((ls[j + 4] >> 4) << 6);
    o[4 + j + 4] = lm[j] | ((lm[j + 4] >> 4) << 6);
    o[4 + j + 8] = (ls[j + 4] & 15) | ((lm[j + 4] & 15) << 4);
  }
}

int64_t encode_q4_k(const float* src, uint8_t* dst, int64_t n_blocks, FitScaleMin8 fit) {
  const ScaleMinGrid grid{15, -1, 0.1, 20};
  uint8_t ls[8], lm[8];
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 144;
    double d, dmin;
    int64_t bad_at;
    if (!fit_super_block(x, o, grid, fit, ls, lm, &d, &dmin, &bad_at)) return b * 256 + bad_at;
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 16 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      if (d0 == 0 && d1 == 0) {
        std::memset(q, 0, 32);
        continue;
      }
      const double id0 = d0 == 0 ? 0 : 1 / d0;
      const double id1 = d1 == 0 ? 0 : 1 / d1;
      const double m0 = dmin * lm[2 * g];
      const double m1 = dmin * lm[2 * g + 1];
      for (int i = 0; i < 32; i++) {
        const int32_t q0 = clamp_level((s0[i] + m0) * id0 + 0.5, 15);
        const int32_t q1 = clamp_level((s0[32 + i] + m1) * id1 + 0.5, 15);
        q[i] = static_cast<uint8_t>(q0 | (q1 << 4));
      }
    }
  }
  return -1;
}

int64_t encode_q5_k(const float* src, uint8_t* dst, int64_t n_blocks, FitScaleMin8 fit) {
  const ScaleMinGrid grid{31, -0.5, 0.1, 15};
  uint8_t ls[8], lm[8];
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 176;
    double d, dmin;
    int64_t bad_at;
    if (!fit_super_block(x, o, grid, fit, ls, lm, &d, &dmin, &bad_at)) return b * 256 + bad_at;
    uint8_t* qh = o + 16;
    std::memset(qh, 0, 32);
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 48 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      const double id0 = d0 == 0 ? 0 : 1 / d0;
      const double id1 = d1 == 0 ? 0 : 1 / d1;
      const double m0 = dmin * lm[2 * g];
      const double m1 = dmin * lm[2 * g + 1];
      const uint8_t bit0 = 1 << (2 * g);
      const uint8_t bit1 = 2 << (2 * g);
      for (int i = 0; i < 32; i++) {
        const int32_t q0 = clamp_level((s0[i] + m0) * id0 + 0.5, 31);
        const int32_t q1 = clamp_level((s0[32 + i] + m1) * id1 + 0.5, 31);
        q[i] = static_cast<uint8_t>((q0 & 15) | ((q1 & 15) << 4));
        qh[i] |= (q0 > 15 ? bit0 : 0) | (q1 > 15 ? bit1 : 0);
      }
    }
  }
  return -1;
}

namespace {

constexpr int SYM_STEPS = 19;

// kquant.ts fitSymmetricScale with n = 16, nmax = 32.
double fit_symmetric_scale(const float* x, double lo, double hi) {
  constexpr int n = 16;
  constexpr int nmax = 32;
  const double max = -lo > hi ? lo : hi;
  const double amax = std::fabs(max);
  if (amax < 1e-15) return 0;
  const double c0 = nmax - 0.9;
  const double cN = nmax + 0.9;
  const double inv = 1 / amax;
  constexpr int none1 = SYM_STEPS;
  constexpr int none2 = SYM_STEPS + 1;
  constexpr int len = SYM_STEPS + 3;
  double dP[len], dQ[len];
  for (int k = 0; k < len; k++) dP[k] = dQ[k] = 0;
  double P = 0, Q = 0;
  for (int i = 0; i < n; i++) {
    const double v = x[i];
    const double av = std::fabs(v);
    const double a = av * inv;
    const double w = v * v;
    const double wa = w * av;
    const int32_t m0 = js_int32(c0 * a + 0.5);
    int32_t m1 = js_int32(cN * a + 0.5);
    if (m1 >= nmax) m1 = v * max > 0 ? nmax : nmax - 1;
    P += wa * m0;
    Q += w * m0 * m0;
    const double ia = amax / av;
    const int32_t k1 = js_int32(std::ceil(((m0 + 0.5) * ia - c0) * 10));
    const int32_t k2 = js_int32(std::ceil(((m0 + 1.5) * ia - c0) * 10));
    const int32_t s1 = m1 > m0 ? k1 : none1;
    const int32_t s2 = m1 > m0 + 1 ? k2 : none2;
    if (static_cast<uint32_t>(s1) < static_cast<uint32_t>(len)) {
      dP[s1] += wa;
      dQ[s1] += w * (2 * m0 + 1);
    }
    if (static_cast<uint32_t>(s2) < static_cast<uint32_t>(len)) {
      dP[s2] += wa;
      dQ[s2] += w * (2 * m0 + 3);
    }
  }
  double best_p = 0, best_q = 0;
  double Pk = P, Qk = Q;
  for (int k = 0; k <= 9; k++) {
    Pk += dP[k];
    Qk += dQ[k];
  }
  double best = 0;
  if (Qk > 0) {
    best = (Pk * Pk) / Qk;
    best_p = Pk;
    best_q = Qk;
  }
  for (int k = 0; k < SYM_STEPS; k++) {
    P += dP[k];
    Q += dQ[k];
    if (k != 9 && Q > 0 && P * P > best * Q) {
      best = (P * P) / Q;
      best_p = P;
      best_q = Q;
    }
  }
  if (best_q == 0) return 0;
  return max > 0 ? -best_p / best_q : best_p / best_q;
}

}  // namespace

int fit_symmetric16_scalar(const float* x, double* scales) {
  for (int j = 0; j < 16; j++) {
    const float* s16 = x + 16 * j;
    double lo = s16[0];
    double hi = lo;
    bool bad = false;
    for (int i = 0; i < 16; i++) {
      const double v = s16[i];
      bad |= !std::isfinite(s16[i]);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (bad) return 16 * j + first_non_finite(s16, 16);
    scales[j] = fit_symmetric_scale(s16, lo, hi);
  }
  return -1;
}

void levels16_q6_k_scalar(const float* x, double id, uint8_t* L) {
  for (int i = 0; i < 16; i++) {
    double l = std::floor(x[i] * id + 0.5);
    l = l < -32 ? -32 : l > 31 ? 31 : l;
    // A Uint8Array store: NaN (an overflowed f16 d times a zero scale) becomes 0.
    L[i] = static_cast<uint8_t>(js_int32(l + 32));
  }
}

int64_t encode_q6_k(const float* src, uint8_t* dst, int64_t n_blocks, FitSymmetric16 fit, Levels16 levels) {
  double scales[16];
  uint8_t L[256];
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 210;
    const int bad = fit(x, scales);
    if (bad >= 0) return b * 256 + bad;
    double max_scale = 0, max_abs = 0;
    for (int j = 0; j < 16; j++) {
      const double a = std::fabs(scales[j]);
      if (a > max_abs) {
        max_abs = a;
        max_scale = scales[j];
      }
    }
    if (max_abs < 1e-15) {
      std::memset(o, 0, 210);
      continue;
    }
    const double iscale = -128 / max_scale;
    const double d = write_f16(o + 208, 1 / iscale);
    for (int j = 0; j < 16; j++) {
      double sc = js_round(iscale * scales[j]);
      if (sc > 127) sc = 127;
      else if (sc < -128) sc = -128;
      o[192 + j] = static_cast<uint8_t>(static_cast<int32_t>(sc));
      const double dj = d * sc;
      const int base = 16 * j;
      if (dj == 0) {
        std::memset(L + base, 32, 16);
        continue;
      }
      levels(x + base, 1 / dj, L + base);
    }
    for (int h = 0; h < 2; h++) {
      uint8_t* ql = o + 64 * h;
      uint8_t* qh = o + 128 + 32 * h;
      const uint8_t* y = L + 128 * h;
      for (int l = 0; l < 32; l++) {
        const uint8_t q1 = y[l], q2 = y[l + 32], q3 = y[l + 64], q4 = y[l + 96];
        ql[l] = (q1 & 15) | ((q3 & 15) << 4);
        ql[l + 32] = (q2 & 15) | ((q4 & 15) << 4);
        qh[l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
  return -1;
}

}  // namespace quant
