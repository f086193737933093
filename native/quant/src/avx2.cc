// AVX2/FMA/F16C kernels, compiled with those instruction sets enabled and called only when CPUID reports them
// (see binding.cc). They give the same bytes as the portable kernels in scalar.cc.
#include <immintrin.h>

#include "kernels.h"

namespace quant {

// F16C converts with IEEE round-to-nearest-even, which is f16.ts's rounding for every finite value and infinity.
// NaNs differ (the instruction quiets signalling NaNs, f16.ts keeps their payload), so a group of 8 holding a NaN
// goes through the scalar conversion.
void narrow_f16_avx2(const uint32_t* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(reinterpret_cast<const float*>(src + i));
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
      narrow_f16_scalar(src + i, dst + i, 8);
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  narrow_f16_scalar(src + i, dst + i, n - i);
}

void widen_f16_avx2(const uint16_t* src, uint32_t* dst, int64_t n) {
  const __m128i abs_mask = _mm_set1_epi16(0x7fff);
  const __m128i inf = _mm_set1_epi16(0x7c00);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    if (_mm_movemask_epi8(_mm_cmpgt_epi16(_mm_and_si128(h, abs_mask), inf)) != 0) {
      widen_f16_scalar(src + i, dst + i, 8);
      continue;
    }
    _mm256_storeu_ps(reinterpret_cast<float*>(dst + i), _mm256_cvtph_ps(h));
  }
  widen_f16_scalar(src + i, dst + i, n - i);
}

}  // namespace quant

// ---- Q4_K/Q5_K scale search, four sub-blocks at a time ----
//
// kquant.ts fitScaleMin is a sequence of IEEE operations per sub-block with no cross-talk between sub-blocks, so
// running four sub-blocks in the four double lanes of a ymm register, each lane doing exactly the scalar operations in
// the scalar order, gives the scalar results bit for bit. Branches become lane masks; the per-step event sums (each
// lane's own table) are updated with one 4-double add per event, in the same order as the scalar code. Divisions that
// the scalar code does on an improvement are done only when some lane improves. A block where a conversion to int32
// leaves its range (JavaScript would wrap it; never for real data) is redone by the scalar search.

namespace quant {
namespace {

constexpr int GRID_SLOTS = 24;
constexpr int SPARE = GRID_SLOTS;
constexpr int EV_SLOTS = GRID_SLOTS + 32;
constexpr int LANE_STRIDE = EV_SLOTS * 4;  // doubles per lane's event table

struct alignas(32) Group {
  double t[32 * 4];              // t[4 i + lane] = value i of the lane's sub-block
  double ev[4 * LANE_STRIDE];    // per-lane event tables, 4 doubles per slot
  // The search's running state, per lane.
  __m256d av, hi, best_gain;
  // Sums of the best step so far and which fit it was (all ones: min pinned at 0).
  __m256d best_sl, best_sl2, best_sxl, best_pinned;
  __m256d sw, swx;
  bool overflow;
};

inline __m256d dabs(__m256d v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }

inline __m256d mask_from_epi32(__m128i m) { return _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m)); }

inline __m128i mask_to_epi32(__m256d m) {
  // The low 32 bits of each 64-bit lane.
  const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(m), idx));
}

// One grid pass from `base` for the lanes in `active` (all-ones lanes), improving on g.best_*.
void sweep4(Group& g, __m256d base, __m256d active, const ScaleMinGrid& grid) {
  const __m256d range = _mm256_sub_pd(g.hi, base);
  const double c0 = grid.nmax + grid.rmin;
  const double cN = c0 + grid.rdelta * grid.nstep;
  const __m256d a0 = _mm256_div_pd(_mm256_set1_pd(c0), range);
  const __m256d aN = _mm256_div_pd(_mm256_set1_pd(cN), range);
  const __m256d q_scale = _mm256_div_pd(range, _mm256_set1_pd(grid.rdelta));
  const __m256d k_base = _mm256_set1_pd(c0 / grid.rdelta);
  const __m256d half = _mm256_set1_pd(0.5);
  const __m256d two = _mm256_set1_pd(2.0);
  const __m256d three = _mm256_set1_pd(3.0);
  const __m128i zero_i = _mm_setzero_si128();
  const __m128i nmax_i = _mm_set1_epi32(grid.nmax);
  const __m128i one_i = _mm_set1_epi32(1);
  const __m128i int_min = _mm_set1_epi32(INT32_MIN);
  const __m128i all_i = _mm_set1_epi32(-1);
  const __m128i lane_base = _mm_setr_epi32(0, EV_SLOTS, 2 * EV_SLOTS, 3 * EV_SLOTS);
  const __m128i active_i = mask_to_epi32(active);
  // Slots 0..nstep+1 are all zero here: the step loop zeroes each slot after reading it, and slot nstep + 1 (where
  // rounding may put an event past the last step) is zeroed at the end. Events never land past it (a lane whose
  // would is flagged, clamped, and redone by the scalar search); the spare slots are never read.
  const __m128i top_slot = _mm_set1_epi32(grid.nstep + 1);
  __m256d sw = _mm256_setzero_pd(), swx = sw, sl = sw, sl2 = sw, sxl = sw;
  __m128i bad = zero_i;
  alignas(16) int32_t slot[8];
  for (int i = 0; i < 32; i++) {
    const __m256d v = _mm256_load_pd(g.t + 4 * i);
    const __m256d w = _mm256_add_pd(g.av, dabs(v));
    const __m256d wv = _mm256_mul_pd(w, v);
    sw = _mm256_add_pd(sw, w);
    swx = _mm256_add_pd(swx, wv);
    const __m256d dv = _mm256_sub_pd(v, base);
    const __m128i l0_raw = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_mul_pd(dv, a0), half));
    const __m128i l1_raw = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_mul_pd(dv, aN), half));
    bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi32(l0_raw, int_min), _mm_cmpeq_epi32(l1_raw, int_min)));
    const __m128i l0 = _mm_max_epi32(l0_raw, zero_i);
    const __m128i l1 = _mm_max_epi32(_mm_min_epi32(l1_raw, nmax_i), zero_i);
    const __m256d l0d = _mm256_cvtepi32_pd(l0);
    const __m256d wl0 = _mm256_mul_pd(w, l0d);
    sl = _mm256_add_pd(sl, wl0);
    sl2 = _mm256_add_pd(sl2, _mm256_mul_pd(wl0, l0d));
    sxl = _mm256_add_pd(sxl, _mm256_mul_pd(wv, l0d));
    const __m256d q = _mm256_div_pd(q_scale, dv);
    const __m256d t1 = _mm256_sub_pd(_mm256_mul_pd(_mm256_add_pd(l0d, half), q), k_base);
    const __m128i k1 = _mm256_cvttpd_epi32(_mm256_ceil_pd(t1));
    const __m128i k2 = _mm256_cvttpd_epi32(_mm256_ceil_pd(_mm256_add_pd(t1, q)));
    const __m128i e1 = _mm_and_si128(_mm_cmpgt_epi32(l1, l0), active_i);
    const __m128i e2 = _mm_and_si128(_mm_cmpgt_epi32(l1, _mm_add_epi32(l0, one_i)), active_i);
    const __m128i spare = _mm_set1_epi32(SPARE + (i & 15));
    const __m128i k1c = _mm_max_epi32(_mm_min_epi32(k1, top_slot), zero_i);
    const __m128i k2c = _mm_max_epi32(_mm_min_epi32(k2, top_slot), zero_i);
    bad = _mm_or_si128(bad, _mm_and_si128(e1, _mm_xor_si128(_mm_cmpeq_epi32(k1, k1c), all_i)));
    bad = _mm_or_si128(bad, _mm_and_si128(e2, _mm_xor_si128(_mm_cmpeq_epi32(k2, k2c), all_i)));
    const __m128i c1 = _mm_blendv_epi8(spare, k1c, e1);
    const __m128i c2 = _mm_blendv_epi8(_mm_add_epi32(spare, _mm_set1_epi32(16)), k2c, e2);
    _mm_store_si128(reinterpret_cast<__m128i*>(slot), _mm_slli_epi32(_mm_add_epi32(c1, lane_base), 2));
    _mm_store_si128(reinterpret_cast<__m128i*>(slot + 4), _mm_slli_epi32(_mm_add_epi32(c2, lane_base), 2));
    // Event vectors (w, 2 w l0 + w, w x, 0) and (w, 2 w l0 + 3 w, w x, 0), one per lane.
    const __m256d twl0 = _mm256_mul_pd(two, wl0);
    const __m256d a = _mm256_add_pd(twl0, w);
    const __m256d b = _mm256_add_pd(twl0, _mm256_mul_pd(three, w));
    const __m256d z = _mm256_setzero_pd();
    const __m256d p0 = _mm256_unpacklo_pd(w, a), p1 = _mm256_unpackhi_pd(w, a);
    const __m256d r0 = _mm256_unpacklo_pd(wv, z), r1 = _mm256_unpackhi_pd(wv, z);
    const __m256d u0 = _mm256_unpacklo_pd(w, b), u1 = _mm256_unpackhi_pd(w, b);
    double* ev = g.ev;
    // Lane by lane: the first event, then the second (the scalar order when both land in one slot).
    const __m256d ea[4] = {_mm256_permute2f128_pd(p0, r0, 0x20), _mm256_permute2f128_pd(p1, r1, 0x20),
                           _mm256_permute2f128_pd(p0, r0, 0x31), _mm256_permute2f128_pd(p1, r1, 0x31)};
    const __m256d eb[4] = {_mm256_permute2f128_pd(u0, r0, 0x20), _mm256_permute2f128_pd(u1, r1, 0x20),
                           _mm256_permute2f128_pd(u0, r0, 0x31), _mm256_permute2f128_pd(u1, r1, 0x31)};
    for (int lane = 0; lane < 4; lane++) {
      double* e1p = ev + slot[lane];
      _mm256_store_pd(e1p, _mm256_add_pd(_mm256_load_pd(e1p), ea[lane]));
      double* e2p = ev + slot[4 + lane];
      _mm256_store_pd(e2p, _mm256_add_pd(_mm256_load_pd(e2p), eb[lane]));
    }
  }
  if (_mm_movemask_epi8(_mm_and_si128(bad, active_i)) != 0) g.overflow = true;
  for (int lane = 0; lane < 4; lane++) _mm256_store_pd(g.ev + lane * LANE_STRIDE + 4 * (grid.nstep + 1), _mm256_setzero_pd());
  g.sw = sw;
  g.swx = swx;
  for (int k = 0; k <= grid.nstep; k++) {
    const __m256d x0 = _mm256_load_pd(g.ev + 0 * LANE_STRIDE + 4 * k);
    const __m256d x1 = _mm256_load_pd(g.ev + 1 * LANE_STRIDE + 4 * k);
    const __m256d x2 = _mm256_load_pd(g.ev + 2 * LANE_STRIDE + 4 * k);
    const __m256d x3 = _mm256_load_pd(g.ev + 3 * LANE_STRIDE + 4 * k);
    for (int lane = 0; lane < 4; lane++) _mm256_store_pd(g.ev + lane * LANE_STRIDE + 4 * k, _mm256_setzero_pd());
    // Transpose: component c of the four lanes.
    const __m256d lo01 = _mm256_unpacklo_pd(x0, x1), hi01 = _mm256_unpackhi_pd(x0, x1);
    const __m256d lo23 = _mm256_unpacklo_pd(x2, x3), hi23 = _mm256_unpackhi_pd(x2, x3);
    sl = _mm256_add_pd(sl, _mm256_permute2f128_pd(lo01, lo23, 0x20));
    sl2 = _mm256_add_pd(sl2, _mm256_permute2f128_pd(hi01, hi23, 0x20));
    sxl = _mm256_add_pd(sxl, _mm256_permute2f128_pd(lo01, lo23, 0x31));
    const __m256d D = _mm256_sub_pd(_mm256_mul_pd(sw, sl2), _mm256_mul_pd(sl, sl));
    const __m256d pos = _mm256_and_pd(_mm256_cmp_pd(D, _mm256_setzero_pd(), _CMP_GT_OQ), active);
    const __m256d pinned = _mm256_cmp_pd(_mm256_sub_pd(_mm256_mul_pd(sl2, swx), _mm256_mul_pd(sl, sxl)),
                                         _mm256_setzero_pd(), _CMP_GT_OQ);
    // Pinned fit: gain sxl^2 / sl2. Free fit: (sw sxl^2 - 2 sl sxl swx + sl2 swx^2) / D, in the scalar order.
    const __m256d num_a = _mm256_mul_pd(sxl, sxl);
    const __m256d num_b = _mm256_add_pd(
        _mm256_sub_pd(_mm256_mul_pd(_mm256_mul_pd(sw, sxl), sxl),
                      _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(two, sl), sxl), swx)),
        _mm256_mul_pd(_mm256_mul_pd(sl2, swx), swx));
    const __m256d num = _mm256_blendv_pd(num_b, num_a, pinned);
    const __m256d den = _mm256_blendv_pd(D, sl2, pinned);
    const __m256d better = _mm256_and_pd(_mm256_cmp_pd(num, _mm256_mul_pd(g.best_gain, den), _CMP_GT_OQ), pos);
    if (_mm256_movemask_pd(better) == 0) continue;
    g.best_gain = _mm256_blendv_pd(g.best_gain, _mm256_div_pd(num, den), better);
    g.best_sl = _mm256_blendv_pd(g.best_sl, sl, better);
    g.best_sl2 = _mm256_blendv_pd(g.best_sl2, sl2, better);
    g.best_sxl = _mm256_blendv_pd(g.best_sxl, sxl, better);
    g.best_pinned = _mm256_blendv_pd(g.best_pinned, pinned, better);
  }
}

// The best step's (scale, min), as the scalar code computes them at the step (same operands, same operations).
void best_fit(const Group& g, __m256d* scale, __m256d* min) {
  const __m256d sl = g.best_sl, sl2 = g.best_sl2, sxl = g.best_sxl;
  const __m256d D = _mm256_sub_pd(_mm256_mul_pd(g.sw, sl2), _mm256_mul_pd(sl, sl));
  const __m256d free_scale =
      _mm256_div_pd(_mm256_sub_pd(_mm256_mul_pd(g.sw, sxl), _mm256_mul_pd(g.swx, sl)), D);
  const __m256d free_min =
      _mm256_div_pd(_mm256_sub_pd(_mm256_mul_pd(sl, sxl), _mm256_mul_pd(sl2, g.swx)), D);
  *scale = _mm256_blendv_pd(free_scale, _mm256_div_pd(sxl, sl2), g.best_pinned);
  *min = _mm256_blendv_pd(free_min, _mm256_setzero_pd(), g.best_pinned);
}

// Fits one super-block with the search state `g`, whose step slots must be zero: they stay zero between sweeps (see
// sweep4), so a run of blocks clears them once. (Not a thread_local: in a shared object every access to one goes
// through __tls_get_addr, which cost a fifth of the time.)
// Sub-blocks j0..j0+3 of the super-block at x into g.t (row i = value i of the four, widened), transposed in registers
// eight values at a time (a gather of scalars is slower).
void load_half(Group& g, const float* x, int j0) {
  for (int c = 0; c < 4; c++) {
    const float* base = x + 32 * j0 + 8 * c;
    const __m256 r0 = _mm256_loadu_ps(base), r1 = _mm256_loadu_ps(base + 32), r2 = _mm256_loadu_ps(base + 64),
                 r3 = _mm256_loadu_ps(base + 96);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    // s_k holds value 8c + k of the four sub-blocks in its low half, value 8c + k + 4 in its high half.
    const __m256 s[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xee), _mm256_shuffle_ps(t1, t3, 0x44),
                         _mm256_shuffle_ps(t1, t3, 0xee)};
    for (int k = 0; k < 4; k++) {
      _mm256_store_pd(g.t + 4 * (8 * c + k), _mm256_cvtps_pd(_mm256_castps256_ps128(s[k])));
      _mm256_store_pd(g.t + 4 * (8 * c + k + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(s[k], 1)));
    }
  }
}

int fit4x2(Group& g, const float* x, const ScaleMinGrid& grid, double* scales, double* mins) {
  for (int half = 0; half < 2; half++) {
    const int j0 = 4 * half;
    load_half(g, x, j0);
    // q4_k.ts's first pass, four sub-blocks per register: sums of squares in the scalar order, extremes (minpd and
    // maxpd are `v < lo ? v : lo` and `v > hi ? v : hi` for finite values), and finiteness (v - v is 0 only then).
    // A non-finite value anywhere in the super-block is reported from the first half already: the fits write nothing
    // but scales and mins, so stopping before the second half's changes no result.
    __m256d sum = _mm256_setzero_pd(), bad = sum;
    __m256d l = _mm256_load_pd(g.t), h = l;
    for (int i = 0; i < 32; i++) {
      const __m256d v = _mm256_load_pd(g.t + 4 * i);
      bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(v, v), _mm256_setzero_pd(), _CMP_NEQ_UQ));
      sum = _mm256_add_pd(sum, _mm256_mul_pd(v, v));
      l = _mm256_min_pd(v, l);
      h = _mm256_max_pd(v, h);
    }
    if (_mm256_movemask_pd(bad) != 0) {
      for (int i = 0; i < 256; i++) {
        if (!std::isfinite(x[i])) return i;
      }
    }
    const __m256d zero = _mm256_setzero_pd();
    const __m256d lo4 = l;
    g.hi = h;
    const __m256d mn = _mm256_blendv_pd(lo4, zero, _mm256_cmp_pd(lo4, zero, _CMP_GT_OQ));
    const __m256d trivial = _mm256_cmp_pd(g.hi, mn, _CMP_EQ_OQ);
    const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    const __m256d active = _mm256_andnot_pd(trivial, all);
    g.av = _mm256_sqrt_pd(_mm256_div_pd(sum, _mm256_set1_pd(32)));
    g.best_gain = _mm256_set1_pd(-1);
    g.best_sl = g.best_sl2 = g.best_sxl = g.best_pinned = zero;
    g.overflow = false;
    __m256d scale = zero, min = zero;
    if (_mm256_movemask_pd(active) != 0) {
      sweep4(g, mn, active, grid);
      const __m256d none = _mm256_cmp_pd(g.best_gain, zero, _CMP_LT_OQ);
      best_fit(g, &scale, &min);
      const __m256d refined = _mm256_xor_pd(min, _mm256_set1_pd(-0.0));
      const __m256d again = _mm256_and_pd(
          _mm256_andnot_pd(none, active),
          _mm256_and_pd(_mm256_cmp_pd(refined, mn, _CMP_NEQ_UQ), _mm256_cmp_pd(refined, g.hi, _CMP_LT_OQ)));
      if (_mm256_movemask_pd(again) != 0) {
        sweep4(g, refined, again, grid);
        best_fit(g, &scale, &min);
      }
      // No step with two distinct levels: the first candidate, range / nmax.
      scale = _mm256_blendv_pd(scale, _mm256_div_pd(_mm256_sub_pd(g.hi, mn), _mm256_set1_pd(grid.nmax)), none);
      min = _mm256_blendv_pd(min, _mm256_xor_pd(mn, _mm256_set1_pd(-0.0)), none);
    }
    scale = _mm256_blendv_pd(scale, zero, trivial);
    min = _mm256_blendv_pd(min, _mm256_xor_pd(mn, _mm256_set1_pd(-0.0)), trivial);
    if (g.overflow) {
      // A conversion left int32's range: the scalar search reproduces JavaScript's wrap-around.
      double s8[8], m8[8];
      fit_scale_min8_scalar(x, grid, s8, m8);
      for (int lane = 0; lane < 4; lane++) {
        scales[j0 + lane] = s8[j0 + lane];
        mins[j0 + lane] = m8[j0 + lane];
      }
      continue;
    }
    _mm256_storeu_pd(scales + j0, scale);
    _mm256_storeu_pd(mins + j0, min);
  }
  return -1;
}

}  // namespace

}  // namespace quant

// ---- Q4_K/Q5_K requantisation with the stored 6-bit scales, four values per register ----

namespace quant {
namespace {

// Levels of four values: clamp(js_int32((x + m) * id + 0.5), 0, top), as the scalar code computes them; a value whose
// level leaves int32's range (cvttpd gives INT32_MIN) is redone with JavaScript's wrap-around.
inline __m128i levels4(const float* s, __m256d m, __m256d id, __m128i top) {
  const __m256d t = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_cvtps_pd(_mm_loadu_ps(s)), m), id),
                                  _mm256_set1_pd(0.5));
  __m128i q = _mm256_cvttpd_epi32(t);
  if (__builtin_expect(_mm_movemask_epi8(_mm_cmpeq_epi32(q, _mm_set1_epi32(INT32_MIN))) != 0, 0)) {
    alignas(32) double tv[4];
    _mm256_store_pd(tv, t);
    q = _mm_setr_epi32(js_int32(tv[0]), js_int32(tv[1]), js_int32(tv[2]), js_int32(tv[3]));
  }
  return _mm_max_epi32(_mm_min_epi32(q, top), _mm_setzero_si128());
}

// Eight 32-bit lanes (two registers, each < 256) to eight bytes at dst.
inline void store8(uint8_t* dst, __m128i a, __m128i b) {
  const __m128i w = _mm_packs_epi32(a, b);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(w, w));
}

}  // namespace

int64_t encode_q4_k_avx2(const float* src, uint8_t* dst, int64_t n_blocks) {
  const ScaleMinGrid grid{15, -1, 0.1, 20};
  const __m128i top = _mm_set1_epi32(15);
  uint8_t ls[8], lm[8];
  Group state;
  std::memset(state.ev, 0, sizeof state.ev);
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 144;
    double d, dmin, scales[8], mins[8];
    const int bad = fit4x2(state, x, grid, scales, mins);
    if (bad >= 0) return b * 256 + bad;
    write_scale_min_head(o, scales, mins, ls, lm, &d, &dmin);
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 16 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      if (d0 == 0 && d1 == 0) {
        std::memset(q, 0, 32);
        continue;
      }
      const __m256d id0 = _mm256_set1_pd(d0 == 0 ? 0 : 1 / d0);
      const __m256d id1 = _mm256_set1_pd(d1 == 0 ? 0 : 1 / d1);
      const __m256d m0 = _mm256_set1_pd(dmin * lm[2 * g]);
      const __m256d m1 = _mm256_set1_pd(dmin * lm[2 * g + 1]);
      for (int i = 0; i < 32; i += 8) {
        const __m128i a = _mm_or_si128(levels4(s0 + i, m0, id0, top), _mm_slli_epi32(levels4(s0 + 32 + i, m1, id1, top), 4));
        const __m128i c = _mm_or_si128(levels4(s0 + i + 4, m0, id0, top), _mm_slli_epi32(levels4(s0 + 36 + i, m1, id1, top), 4));
        store8(q + i, a, c);
      }
    }
  }
  return -1;
}

int64_t encode_q5_k_avx2(const float* src, uint8_t* dst, int64_t n_blocks) {
  const ScaleMinGrid grid{31, -0.5, 0.1, 15};
  const __m128i top = _mm_set1_epi32(31);
  const __m128i low4 = _mm_set1_epi32(15);
  uint8_t ls[8], lm[8];
  Group state;
  std::memset(state.ev, 0, sizeof state.ev);
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 176;
    double d, dmin, scales[8], mins[8];
    const int bad = fit4x2(state, x, grid, scales, mins);
    if (bad >= 0) return b * 256 + bad;
    write_scale_min_head(o, scales, mins, ls, lm, &d, &dmin);
    // qh byte i: bit 2g is bit 4 of value 64g + i's level, bit 2g + 1 that of value 64g + 32 + i.
    __m128i qh[8];
    for (int c = 0; c < 8; c++) qh[c] = _mm_setzero_si128();
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 48 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      const __m256d id0 = _mm256_set1_pd(d0 == 0 ? 0 : 1 / d0);
      const __m256d id1 = _mm256_set1_pd(d1 == 0 ? 0 : 1 / d1);
      const __m256d m0 = _mm256_set1_pd(dmin * lm[2 * g]);
      const __m256d m1 = _mm256_set1_pd(dmin * lm[2 * g + 1]);
      __m128i packed[8];
      for (int c = 0; c < 8; c++) {
        const __m128i q0 = levels4(s0 + 4 * c, m0, id0, top);
        const __m128i q1 = levels4(s0 + 32 + 4 * c, m1, id1, top);
        packed[c] = _mm_or_si128(_mm_and_si128(q0, low4), _mm_slli_epi32(_mm_and_si128(q1, low4), 4));
        const __m128i hb = _mm_or_si128(_mm_slli_epi32(_mm_srli_epi32(q0, 4), 2 * g),
                                        _mm_slli_epi32(_mm_srli_epi32(q1, 4), 2 * g + 1));
        qh[c] = _mm_or_si128(qh[c], hb);
      }
      for (int c = 0; c < 8; c += 2) store8(q + 4 * c, packed[c], packed[c + 1]);
    }
    for (int c = 0; c < 8; c += 2) store8(o + 16 + 4 * c, qh[c], qh[c + 1]);
  }
  return -1;
}

}  // namespace quant
