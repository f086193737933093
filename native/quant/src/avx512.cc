// AVX-512 (F, BW, VL, DQ) kernels, compiled with those instruction sets enabled and called only when CPUID reports
// them (see binding.cc). They give the same bytes as the portable kernels in scalar.cc.
//
// The Q4_K/Q5_K scale search runs the eight 32-value sub-blocks of a super-block in the eight double lanes of a zmm
// register: lane j does exactly the scalar operations of sub-block j, in the scalar order (kquant.ts fitScaleMin has
// no cross-talk between sub-blocks), so each lane's results are the scalar ones bit for bit. Branches become lane
// masks; each lane keeps its own table of per-step event sums, updated with one 4-double add per event in the scalar
// order. A block where a conversion to int32 leaves its range (JavaScript would wrap it; never for real data) is redone
// by the scalar search. The requantisation of the values with the stored 6-bit scales is vectorised the same way, and
// Q6_K's search (further down) follows the same plan.
//
// Where the time went, for whoever tunes this next (no profiler here; rdtsc around the pieces): the per-value rows of
// the two sweeps are most of it, bounded by their latency chain (a division, conversions, the table's read-modify-
// write) more than by instruction count; what paid off was removing stalls: gathers (replaced by a transpose), a
// thread_local state (__tls_get_addr in the shared addon), divisions folded into the loop-carried chain.
#include <immintrin.h>

#include "kernels.h"

namespace quant {
namespace {

constexpr int GRID_SLOTS = 24;
constexpr int SPARE = GRID_SLOTS;
constexpr int EV_SLOTS = GRID_SLOTS + 32;
constexpr int SLOT_STRIDE = 8 * 4;  // doubles per slot: the eight lanes' entries side by side

struct alignas(64) Block8 {
  double t[32 * 8];            // t[8 i + j] = value i of sub-block j
  // Per-lane event tables, interleaved: slot s of lane j is ev[SLOT_STRIDE s + 4 j ..], 4 doubles (sum w l,
  // sum w l^2, sum w l x, unused), so a step reads its eight lanes' entries as four contiguous registers.
  double ev[EV_SLOTS * SLOT_STRIDE];
  // The search's running state, per lane.
  __m512d av, hi, best_gain;
  // Sums of the best step so far, and which fit it was (bit set: min pinned at 0).
  __m512d best_sl, best_sl2, best_sxl;
  __mmask8 best_pinned;
  __m512d sw, swx;
  bool overflow;
};

inline __m512d neg(__m512d v) { return _mm512_xor_pd(v, _mm512_set1_pd(-0.0)); }

// One grid pass from `base` for the lanes in `active`, improving on g.best_*.
void sweep8(Block8& g, __m512d base, __mmask8 active, const ScaleMinGrid& grid) {
  const __m512d range = _mm512_sub_pd(g.hi, base);
  const double c0 = grid.nmax + grid.rmin;
  const double cN = c0 + grid.rdelta * grid.nstep;
  const __m512d a0 = _mm512_div_pd(_mm512_set1_pd(c0), range);
  const __m512d aN = _mm512_div_pd(_mm512_set1_pd(cN), range);
  const __m512d q_scale = _mm512_div_pd(range, _mm512_set1_pd(grid.rdelta));
  const __m512d k_base = _mm512_set1_pd(c0 / grid.rdelta);
  const __m512d half = _mm512_set1_pd(0.5);
  const __m512d two = _mm512_set1_pd(2.0);
  const __m512d three = _mm512_set1_pd(3.0);
  const __m512d zero = _mm512_setzero_pd();
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d nmax_d = _mm512_set1_pd(grid.nmax);
  const __m512d two31 = _mm512_set1_pd(2147483648.0);
  // Slots 0..nstep+1 are all zero here: the step loop zeroes each slot after reading it, and slot nstep + 1 (where
  // rounding may put an event past the last step) is zeroed at the end. Events never land past it (a lane whose
  // would is flagged, clamped, and redone by the scalar search); the spare slots are never read.
  const __m256i top_slot = _mm256_set1_epi32(grid.nstep + 1);
  // Two-source permutations that build, from (w0 a0 | w2 a2 | ..) and (x0 0 | x2 0 | ..), the events of two lanes.
  const __m512i pick_lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i pick_hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  __m512d sw = zero, swx = zero, sl = zero, sl2 = zero, sxl = zero;
  __mmask8 bad = 0;
  // Each event's table entry, as an address: ev + 8 (SLOT_STRIDE slot + 4 lane) bytes.
  alignas(64) double* slot[16];
  const __m512i lane_addr = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(reinterpret_cast<uintptr_t>(g.ev))),
                                             _mm512_setr_epi64(0, 32, 64, 96, 128, 160, 192, 224));
  for (int i = 0; i < 32; i++) {
    const __m512d v = _mm512_load_pd(g.t + 8 * i);
    const __m512d w = _mm512_add_pd(g.av, _mm512_abs_pd(v));
    const __m512d wv = _mm512_mul_pd(w, v);
    sw = _mm512_add_pd(sw, w);
    swx = _mm512_add_pd(swx, wv);
    const __m512d dv = _mm512_sub_pd(v, base);
    // Levels in the double domain: truncate, then clamp (vmaxpd gives the second operand, 0, for NaN, as ToInt32
    // does). Only magnitudes from 2^31 on, which ToInt32 would wrap, need the scalar search.
    const __m512d l0_raw = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(dv, a0), half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512d l1_raw = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(dv, aN), half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    bad |= _mm512_cmp_pd_mask(_mm512_abs_pd(l0_raw), two31, _CMP_GE_OQ) |
           _mm512_cmp_pd_mask(_mm512_abs_pd(l1_raw), two31, _CMP_GE_OQ);
    const __m512d l0d = _mm512_max_pd(l0_raw, zero);
    const __m512d l1d = _mm512_min_pd(_mm512_max_pd(l1_raw, zero), nmax_d);
    const __m512d wl0 = _mm512_mul_pd(w, l0d);
    sl = _mm512_add_pd(sl, wl0);
    sl2 = _mm512_add_pd(sl2, _mm512_mul_pd(wl0, l0d));
    sxl = _mm512_add_pd(sxl, _mm512_mul_pd(wv, l0d));
    const __m512d q = _mm512_div_pd(q_scale, dv);
    const __m512d t1 = _mm512_sub_pd(_mm512_mul_pd(_mm512_add_pd(l0d, half), q), k_base);
    // ceil then truncate, as one conversion rounding up (the same int32 for every value; INT32_MIN out of range).
    const __m256i k1 = _mm512_cvt_roundpd_epi32(t1, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
    const __m256i k2 = _mm512_cvt_roundpd_epi32(_mm512_add_pd(t1, q), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
    const __mmask8 e1 = _mm512_cmp_pd_mask(l1d, l0d, _CMP_GT_OQ) & active;
    const __mmask8 e2 = _mm512_cmp_pd_mask(l1d, _mm512_add_pd(l0d, one), _CMP_GT_OQ) & active;
    // Unsigned: a negative slot (or INT32_MIN) becomes top_slot too, and is flagged below.
    const __m256i k1c = _mm256_min_epu32(k1, top_slot);
    const __m256i k2c = _mm256_min_epu32(k2, top_slot);
    bad |= (e1 & _mm256_cmpneq_epi32_mask(k1, k1c)) | (e2 & _mm256_cmpneq_epi32_mask(k2, k2c));
    const __m256i spare = _mm256_set1_epi32(SPARE + (i & 15));
    const __m256i c1 = _mm256_mask_blend_epi32(e1, spare, k1c);
    const __m256i c2 = _mm256_mask_blend_epi32(e2, _mm256_add_epi32(spare, _mm256_set1_epi32(16)), k2c);
    _mm512_store_si512(slot, _mm512_add_epi64(lane_addr, _mm512_slli_epi64(_mm512_cvtepi32_epi64(c1), 8)));
    _mm512_store_si512(slot + 8, _mm512_add_epi64(lane_addr, _mm512_slli_epi64(_mm512_cvtepi32_epi64(c2), 8)));
    // Event vectors (w, 2 w l0 + w, w x, 0) and (w, 2 w l0 + 3 w, w x, 0), one per lane.
    const __m512d twl0 = _mm512_mul_pd(two, wl0);
    const __m512d a = _mm512_add_pd(twl0, w);
    const __m512d b = _mm512_add_pd(twl0, _mm512_mul_pd(three, w));
    const __m512d r0 = _mm512_unpacklo_pd(wv, zero), r1 = _mm512_unpackhi_pd(wv, zero);
    const __m512d p0 = _mm512_unpacklo_pd(w, a), p1 = _mm512_unpackhi_pd(w, a);
    const __m512d u0 = _mm512_unpacklo_pd(w, b), u1 = _mm512_unpackhi_pd(w, b);
    // ea[m] holds lanes (m, m + 2) for m in {0, 1}, and (m + 4, m + 6) at ea[m + 2].
    const __m512d ea[4] = {_mm512_permutex2var_pd(p0, pick_lo, r0), _mm512_permutex2var_pd(p1, pick_lo, r1),
                           _mm512_permutex2var_pd(p0, pick_hi, r0), _mm512_permutex2var_pd(p1, pick_hi, r1)};
    const __m512d eb[4] = {_mm512_permutex2var_pd(u0, pick_lo, r0), _mm512_permutex2var_pd(u1, pick_lo, r1),
                           _mm512_permutex2var_pd(u0, pick_hi, r0), _mm512_permutex2var_pd(u1, pick_hi, r1)};
    // The addresses are read back through memory (one load each): extracting them from the register costs more.
    double* const volatile* sv = slot;
    // Lane by lane: the first event, then the second (the scalar order when both land in one slot).
    for (int m = 0; m < 4; m++) {
      const int lo_lane = (m & 1) + 4 * (m >> 1);  // 0, 1, 4, 5
      const int hi_lane = lo_lane + 2;             // 2, 3, 6, 7
      double* p = sv[lo_lane];
      _mm256_store_pd(p, _mm256_add_pd(_mm256_load_pd(p), _mm512_castpd512_pd256(ea[m])));
      p = sv[8 + lo_lane];
      _mm256_store_pd(p, _mm256_add_pd(_mm256_load_pd(p), _mm512_castpd512_pd256(eb[m])));
      p = sv[hi_lane];
      _mm256_store_pd(p, _mm256_add_pd(_mm256_load_pd(p), _mm512_extractf64x4_pd(ea[m], 1)));
      p = sv[8 + hi_lane];
      _mm256_store_pd(p, _mm256_add_pd(_mm256_load_pd(p), _mm512_extractf64x4_pd(eb[m], 1)));
    }
  }
  if ((bad & active) != 0) g.overflow = true;
  for (int r = 0; r < 4; r++) _mm512_store_pd(g.ev + SLOT_STRIDE * (grid.nstep + 1) + 8 * r, zero);
  g.sw = sw;
  g.swx = swx;
  // The best-so-far state lives in registers through the loop: kept in `g`, every table store below could alias it,
  // and the compiler would store and reload it at each step, putting store forwarding on the loop-carried chain.
  __m512d best_gain = g.best_gain, best_sl = g.best_sl, best_sl2 = g.best_sl2, best_sxl = g.best_sxl;
  __mmask8 best_pinned = g.best_pinned;
  const __m512i c0_idx = _mm512_setr_epi64(0, 4, 1, 5, 8, 12, 9, 13);
  const __m512i c2_idx = _mm512_setr_epi64(2, 6, 3, 7, 10, 14, 11, 15);
  for (int k = 0; k <= grid.nstep; k++) {
    // The step's entries, lanes (0 1), (2 3), (4 5), (6 7) per register, then a transpose to one register per
    // component.
    double* e = g.ev + SLOT_STRIDE * k;
    const __m512d z0 = _mm512_load_pd(e), z1 = _mm512_load_pd(e + 8), z2 = _mm512_load_pd(e + 16),
                  z3 = _mm512_load_pd(e + 24);
    for (int r = 0; r < 4; r++) _mm512_store_pd(e + 8 * r, zero);
    // lo01 = (L0c0 L2c0 L0c2 L2c2 L1c0 L3c0 L1c2 L3c2), hi01 = the same with c1, c3; lo23, hi23 for lanes 4..7.
    const __m512d lo01 = _mm512_unpacklo_pd(z0, z1), hi01 = _mm512_unpackhi_pd(z0, z1);
    const __m512d lo23 = _mm512_unpacklo_pd(z2, z3), hi23 = _mm512_unpackhi_pd(z2, z3);
    sl = _mm512_add_pd(sl, _mm512_permutex2var_pd(lo01, c0_idx, lo23));
    sl2 = _mm512_add_pd(sl2, _mm512_permutex2var_pd(hi01, c0_idx, hi23));
    sxl = _mm512_add_pd(sxl, _mm512_permutex2var_pd(lo01, c2_idx, lo23));
    const __m512d D = _mm512_sub_pd(_mm512_mul_pd(sw, sl2), _mm512_mul_pd(sl, sl));
    const __mmask8 pos = _mm512_cmp_pd_mask(D, zero, _CMP_GT_OQ) & active;
    const __mmask8 pinned =
        _mm512_cmp_pd_mask(_mm512_sub_pd(_mm512_mul_pd(sl2, swx), _mm512_mul_pd(sl, sxl)), zero, _CMP_GT_OQ);
    // Pinned fit: gain sxl^2 / sl2. Free fit: (sw sxl^2 - 2 sl sxl swx + sl2 swx^2) / D, in the scalar order.
    const __m512d num_a = _mm512_mul_pd(sxl, sxl);
    const __m512d num_b = _mm512_add_pd(
        _mm512_sub_pd(_mm512_mul_pd(_mm512_mul_pd(sw, sxl), sxl),
                      _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(two, sl), sxl), swx)),
        _mm512_mul_pd(_mm512_mul_pd(sl2, swx), swx));
    const __m512d num = _mm512_mask_blend_pd(pinned, num_b, num_a);
    const __m512d den = _mm512_mask_blend_pd(pinned, D, sl2);
    // The quotient is taken at every step, off the loop-carried chain (best_gain -> compare -> best_gain); a branch
    // on improvements would mispredict and put the division's latency on that chain.
    __m512d gain = _mm512_div_pd(num, den);
    asm("" : "+v"(gain));  // keeps the compiler from merging the division into the masked move below
    const __mmask8 better = _mm512_cmp_pd_mask(num, _mm512_mul_pd(best_gain, den), _CMP_GT_OQ) & pos;
    best_gain = _mm512_mask_mov_pd(best_gain, better, gain);
    best_sl = _mm512_mask_mov_pd(best_sl, better, sl);
    best_sl2 = _mm512_mask_mov_pd(best_sl2, better, sl2);
    best_sxl = _mm512_mask_mov_pd(best_sxl, better, sxl);
    best_pinned = static_cast<__mmask8>((best_pinned & ~better) | (pinned & better));
  }
  g.best_gain = best_gain;
  g.best_sl = best_sl;
  g.best_sl2 = best_sl2;
  g.best_sxl = best_sxl;
  g.best_pinned = best_pinned;
}

// The best step's (scale, min), as the scalar code computes them at the step (same operands, same operations).
void best_fit(const Block8& g, __m512d* scale, __m512d* min) {
  const __m512d sl = g.best_sl, sl2 = g.best_sl2, sxl = g.best_sxl;
  const __m512d D = _mm512_sub_pd(_mm512_mul_pd(g.sw, sl2), _mm512_mul_pd(sl, sl));
  const __m512d free_scale = _mm512_div_pd(_mm512_sub_pd(_mm512_mul_pd(g.sw, sxl), _mm512_mul_pd(g.swx, sl)), D);
  const __m512d free_min = _mm512_div_pd(_mm512_sub_pd(_mm512_mul_pd(sl, sxl), _mm512_mul_pd(sl2, g.swx)), D);
  *scale = _mm512_mask_blend_pd(g.best_pinned, free_scale, _mm512_div_pd(sxl, sl2));
  *min = _mm512_mask_blend_pd(g.best_pinned, free_min, _mm512_setzero_pd());
}

// Fits one super-block with the search state `g`, whose step slots must be zero: they stay zero between sweeps (see
// sweep8), so a run of blocks clears them once. (Not a thread_local: in a shared object every access to one goes
// through __tls_get_addr, which cost a fifth of the time.)
int fit8(Block8& g, const float* x, const ScaleMinGrid& grid, double* scales, double* mins) {
  // Transpose to one row per value index (lane j = sub-block j), widened to double, with q4_k.ts's first pass on the
  // way: sums of squares in the scalar order, extremes (minpd/maxpd are `v < lo ? v : lo` and `v > hi ? v : hi`), and
  // finiteness (v - v is 0 only then).
  // Eight values of each sub-block at a time, transposed in registers (gathers are slow on some processors).
  // The extremes start from -+infinity: the first value replaces them, as the scalar code starts from it.
  const __m512d zero = _mm512_setzero_pd();
  __m512d sum = zero;
  __m512d l = _mm512_set1_pd(INFINITY), h = _mm512_set1_pd(-INFINITY);
  __mmask8 bad = 0;
  for (int c = 0; c < 4; c++) {
    __m256 r[8];
    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(x + 32 * j + 8 * c);
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    // Value 8c + k of the eight sub-blocks.
    const __m256 col[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                           _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                           _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                           _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
    for (int k = 0; k < 8; k++) {
      const __m512d v = _mm512_cvtps_pd(col[k]);
      _mm512_store_pd(g.t + 8 * (8 * c + k), v);
      bad |= _mm512_cmp_pd_mask(_mm512_sub_pd(v, v), zero, _CMP_NEQ_UQ);
      sum = _mm512_add_pd(sum, _mm512_mul_pd(v, v));
      l = _mm512_min_pd(v, l);
      h = _mm512_max_pd(v, h);
    }
  }
  if (bad != 0) {
    for (int i = 0; i < 256; i++) {
      if (!std::isfinite(x[i])) return i;
    }
  }
  g.hi = h;
  const __m512d mn = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(l, zero, _CMP_GT_OQ), l, zero);
  const __mmask8 trivial = _mm512_cmp_pd_mask(h, mn, _CMP_EQ_OQ);
  const __mmask8 active = static_cast<__mmask8>(~trivial);
  g.av = _mm512_sqrt_pd(_mm512_div_pd(sum, _mm512_set1_pd(32)));
  g.best_gain = _mm512_set1_pd(-1);
  g.best_sl = g.best_sl2 = g.best_sxl = zero;
  g.best_pinned = 0;
  g.overflow = false;
  __m512d scale = zero, min = zero;
  if (active != 0) {
    sweep8(g, mn, active, grid);
    const __mmask8 none = _mm512_cmp_pd_mask(g.best_gain, zero, _CMP_LT_OQ);
    best_fit(g, &scale, &min);
    const __m512d refined = neg(min);
    const __mmask8 again = static_cast<__mmask8>(~none & active & _mm512_cmp_pd_mask(refined, mn, _CMP_NEQ_UQ) &
                                                 _mm512_cmp_pd_mask(refined, h, _CMP_LT_OQ));
    if (again != 0) {
      sweep8(g, refined, again, grid);
      best_fit(g, &scale, &min);
    }
    // No step with two distinct levels: the first candidate, range / nmax.
    scale = _mm512_mask_blend_pd(none, scale, _mm512_div_pd(_mm512_sub_pd(h, mn), _mm512_set1_pd(grid.nmax)));
    min = _mm512_mask_blend_pd(none, min, neg(mn));
  }
  scale = _mm512_mask_blend_pd(trivial, scale, zero);
  min = _mm512_mask_blend_pd(trivial, min, neg(mn));
  if (g.overflow) return fit_scale_min8_scalar(x, grid, scales, mins);
  _mm512_storeu_pd(scales, scale);
  _mm512_storeu_pd(mins, min);
  return -1;
}

// Levels of eight values: clamp(js_int32((x + m) * id + 0.5), 0, top), as the scalar code computes them. A value
// whose level leaves int32's range (cvttpd gives INT32_MIN) is redone with JavaScript's wrap-around.
inline __m256i levels8(const float* s, __m512d m, __m512d id, __m256i top) {
  const __m512d t = _mm512_add_pd(_mm512_mul_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm256_loadu_ps(s)), m), id),
                                  _mm512_set1_pd(0.5));
  __m256i q = _mm512_cvttpd_epi32(t);
  if (__builtin_expect(_mm256_cmpeq_epi32_mask(q, _mm256_set1_epi32(INT32_MIN)) != 0, 0)) {
    alignas(64) double tv[8];
    alignas(32) int32_t qv[8];
    _mm512_store_pd(tv, t);
    for (int i = 0; i < 8; i++) qv[i] = js_int32(tv[i]);
    q = _mm256_load_si256(reinterpret_cast<const __m256i*>(qv));
  }
  return _mm256_max_epi32(_mm256_min_epi32(q, top), _mm256_setzero_si256());
}

// The fits run one super-block ahead of the rest of the encoding: the head and requantisation of block b (a chain of
// dependent scalar steps) then come after the independent work of fitting block b + 1, not straight after the last
// divisions of block b's own fit, so the processor overlaps them.
struct Ahead {
  const float* src;
  int64_t n_blocks;
  const ScaleMinGrid& grid;
  Block8 state;
  double scales[2][8], mins[2][8];
  int bad_in[2];
  int64_t bad = -1;  // the index in src of the first non-finite value, once next() has returned false

  Ahead(const float* s, int64_t n, const ScaleMinGrid& g) : src(s), n_blocks(n), grid(g) {
    std::memset(state.ev, 0, sizeof state.ev);
    if (n > 0) bad_in[0] = fit8(state, src, grid, scales[0], mins[0]);
  }

  // Fits block b + 1, then writes block b's head; false (nothing written) when block b holds a non-finite value.
  bool next(int64_t b, uint8_t* o, uint8_t* ls, uint8_t* lm, double* d, double* dmin) {
    const int cur = b & 1;
    if (bad_in[cur] >= 0) {
      bad = b * 256 + bad_in[cur];
      return false;
    }
    if (b + 1 < n_blocks) bad_in[cur ^ 1] = fit8(state, src + (b + 1) * 256, grid, scales[cur ^ 1], mins[cur ^ 1]);
    write_scale_min_head(o, scales[cur], mins[cur], ls, lm, d, dmin);
    return true;
  }
};

}  // namespace

int64_t encode_q4_k_avx512(const float* src, uint8_t* dst, int64_t n_blocks) {
  const ScaleMinGrid grid{15, -1, 0.1, 20};
  const __m256i top = _mm256_set1_epi32(15);
  uint8_t ls[8], lm[8];
  Ahead ahead(src, n_blocks, grid);
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 144;
    double d, dmin;
    if (!ahead.next(b, o, ls, lm, &d, &dmin)) return ahead.bad;
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 16 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      if (d0 == 0 && d1 == 0) {
        std::memset(q, 0, 32);
        continue;
      }
      const __m512d id0 = _mm512_set1_pd(d0 == 0 ? 0 : 1 / d0);
      const __m512d id1 = _mm512_set1_pd(d1 == 0 ? 0 : 1 / d1);
      const __m512d m0 = _mm512_set1_pd(dmin * lm[2 * g]);
      const __m512d m1 = _mm512_set1_pd(dmin * lm[2 * g + 1]);
      for (int i = 0; i < 32; i += 8) {
        const __m256i q0 = levels8(s0 + i, m0, id0, top);
        const __m256i q1 = levels8(s0 + 32 + i, m1, id1, top);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm256_cvtepi32_epi8(_mm256_or_si256(q0, _mm256_slli_epi32(q1, 4))));
      }
    }
  }
  return -1;
}

int64_t encode_q5_k_avx512(const float* src, uint8_t* dst, int64_t n_blocks) {
  const ScaleMinGrid grid{31, -0.5, 0.1, 15};
  const __m256i top = _mm256_set1_epi32(31);
  const __m256i low4 = _mm256_set1_epi32(15);
  uint8_t ls[8], lm[8];
  Ahead ahead(src, n_blocks, grid);
  for (int64_t b = 0; b < n_blocks; b++) {
    const float* x = src + b * 256;
    uint8_t* o = dst + b * 176;
    double d, dmin;
    if (!ahead.next(b, o, ls, lm, &d, &dmin)) return ahead.bad;
    // qh byte i: bit 2g is bit 4 of value 64g + i's level, bit 2g + 1 that of value 64g + 32 + i.
    __m256i qh[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int g = 0; g < 4; g++) {
      uint8_t* q = o + 48 + 32 * g;
      const float* s0 = x + 64 * g;
      const double d0 = d * ls[2 * g];
      const double d1 = d * ls[2 * g + 1];
      const __m512d id0 = _mm512_set1_pd(d0 == 0 ? 0 : 1 / d0);
      const __m512d id1 = _mm512_set1_pd(d1 == 0 ? 0 : 1 / d1);
      const __m512d m0 = _mm512_set1_pd(dmin * lm[2 * g]);
      const __m512d m1 = _mm512_set1_pd(dmin * lm[2 * g + 1]);
      for (int c = 0; c < 4; c++) {
        const __m256i q0 = levels8(s0 + 8 * c, m0, id0, top);
        const __m256i q1 = levels8(s0 + 32 + 8 * c, m1, id1, top);
        const __m256i packed = _mm256_or_si256(_mm256_and_si256(q0, low4), _mm256_slli_epi32(_mm256_and_si256(q1, low4), 4));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(q + 8 * c), _mm256_cvtepi32_epi8(packed));
        const __m256i hb = _mm256_or_si256(_mm256_slli_epi32(_mm256_srli_epi32(q0, 4), 2 * g),
                                           _mm256_slli_epi32(_mm256_srli_epi32(q1, 4), 2 * g + 1));
        qh[c] = _mm256_or_si256(qh[c], hb);
      }
    }
    for (int c = 0; c < 4; c++) _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 16 + 8 * c), _mm256_cvtepi32_epi8(qh[c]));
  }
  return -1;
}

}  // namespace quant

// ---- Q6_K scale search (kquant.ts fitSymmetricScale, n = 16, nmax = 32), eight sub-blocks per register ----
//
// The same scheme as the Q4_K/Q5_K search: lane j runs sub-block j's scalar operations in the scalar order, each lane
// with its own table of per-step event sums (here two: sum |x|^3 and sum x^2 (2 m + 1)), updated in the scalar order.

namespace quant {
namespace {

constexpr int SYM_STEPS = 19;      // grid steps 0..18 (c = nmax + 0.1 (k - 9))
constexpr int SYM_TOP = SYM_STEPS + 2;  // the scalar tables' last slot; slots 19..21 are written, never read
constexpr int SYM_SPARE = SYM_TOP + 1;  // 16 spare slots: where lanes without an event add (never read)
constexpr int SYM_SLOTS = SYM_SPARE + 16;
constexpr int SYM_STRIDE = 8 * 2;  // doubles per slot: the eight lanes' (dP, dQ) side by side

struct alignas(64) Sym8 {
  double t[16 * 8];  // t[8 i + j] = value i of sub-block j
  double ev[SYM_SLOTS * SYM_STRIDE];
  double P[SYM_STEPS * 8], Q[SYM_STEPS * 8];
};

// Scales of the eight 16-value sub-blocks held in g.t (lo, hi: their extremes). Returns false when a conversion left
// int32's range (JavaScript would wrap it; never for real data): the caller redoes the block with the scalar search.
bool fit_sym8(Sym8& g, __m512d lo, __m512d hi, double* scales) {
  constexpr int nmax = 32;
  const __m512d zero = _mm512_setzero_pd();
  // The reference's max: the value of largest magnitude, with its sign (the positive one on a tie).
  const __m512d max = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(neg(lo), hi, _CMP_GT_OQ), hi, lo);
  const __m512d amax = _mm512_abs_pd(max);
  const __mmask8 live = _mm512_cmp_pd_mask(amax, _mm512_set1_pd(1e-15), _CMP_NLT_UQ);
  const double c0s = nmax - 0.9, cNs = nmax + 0.9;
  const __m512d c0 = _mm512_set1_pd(c0s), cN = _mm512_set1_pd(cNs);
  const __m512d inv = _mm512_div_pd(_mm512_set1_pd(1), amax);
  const __m512d half = _mm512_set1_pd(0.5), one_half = _mm512_set1_pd(1.5), ten = _mm512_set1_pd(10);
  const __m512d one = _mm512_set1_pd(1), three = _mm512_set1_pd(3), two = _mm512_set1_pd(2);
  const __m512d nmax_d = _mm512_set1_pd(nmax), nmax1_d = _mm512_set1_pd(nmax - 1);
  const __m256i top = _mm256_set1_epi32(SYM_TOP);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  const __m256i lane_off = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
  alignas(64) int64_t off[16];
  __m512d P = zero, Q = zero;
  __mmask8 bad = 0;
  for (int i = 0; i < 16; i++) {
    const __m512d v = _mm512_load_pd(g.t + 8 * i);
    const __m512d av = _mm512_abs_pd(v);
    const __m512d a = _mm512_mul_pd(av, inv);
    const __m512d w = _mm512_mul_pd(v, v);
    const __m512d wa = _mm512_mul_pd(w, av);
    // a <= 1 (up to rounding), so neither level leaves int32's range.
    const __m512d m0 = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(c0, a), half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512d m1 = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(cN, a), half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask8 top_m = _mm512_cmp_pd_mask(m1, nmax_d, _CMP_GE_OQ);
    const __mmask8 same_side = _mm512_cmp_pd_mask(_mm512_mul_pd(v, max), zero, _CMP_GT_OQ);
    m1 = _mm512_mask_mov_pd(m1, top_m, _mm512_mask_blend_pd(same_side, nmax1_d, nmax_d));
    P = _mm512_add_pd(P, _mm512_mul_pd(wa, m0));
    Q = _mm512_add_pd(Q, _mm512_mul_pd(_mm512_mul_pd(w, m0), m0));
    const __m512d ia = _mm512_div_pd(amax, av);
    const __m256i k1 = _mm512_cvt_roundpd_epi32(
        _mm512_mul_pd(_mm512_sub_pd(_mm512_mul_pd(_mm512_add_pd(m0, half), ia), c0), ten), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
    const __m256i k2 = _mm512_cvt_roundpd_epi32(
        _mm512_mul_pd(_mm512_sub_pd(_mm512_mul_pd(_mm512_add_pd(m0, one_half), ia), c0), ten), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
    const __mmask8 e1 = _mm512_cmp_pd_mask(m1, m0, _CMP_GT_OQ) & live;
    const __mmask8 e2 = _mm512_cmp_pd_mask(m1, _mm512_add_pd(m0, one), _CMP_GT_OQ) & live;
    // The scalar code adds nothing for a slot outside 0..SYM_TOP (negative included): unsigned min sends those to
    // SYM_TOP, which is never read either. INT32_MIN (a conversion out of range) could have wrapped into the table.
    bad |= (e1 & _mm256_cmpeq_epi32_mask(k1, int_min)) | (e2 & _mm256_cmpeq_epi32_mask(k2, int_min));
    const __m256i spare = _mm256_set1_epi32(SYM_SPARE + (i & 7));
    const __m256i s1 = _mm256_mask_blend_epi32(e1, spare, _mm256_min_epu32(k1, top));
    const __m256i s2 = _mm256_mask_blend_epi32(e2, _mm256_add_epi32(spare, _mm256_set1_epi32(8)), _mm256_min_epu32(k2, top));
    // Byte offsets in ev: 8 (SYM_STRIDE slot + 2 lane).
    _mm512_store_si512(off, _mm512_cvtepi32_epi64(_mm256_add_epi32(lane_off, _mm256_slli_epi32(s1, 7))));
    _mm512_store_si512(off + 8, _mm512_cvtepi32_epi64(_mm256_add_epi32(lane_off, _mm256_slli_epi32(s2, 7))));
    // Events (|x|^3, x^2 (2 m0 + 1)) and (|x|^3, x^2 (2 m0 + 3)): lane j's pair at doubles 2 j, 2 j + 1.
    const __m512d tm0 = _mm512_mul_pd(two, m0);
    const __m512d q1 = _mm512_mul_pd(w, _mm512_add_pd(tm0, one));
    const __m512d q2 = _mm512_mul_pd(w, _mm512_add_pd(tm0, three));
    alignas(64) double ea[16], eb[16];
    _mm512_store_pd(ea, _mm512_unpacklo_pd(wa, q1));      // lanes 0 2 4 6
    _mm512_store_pd(ea + 8, _mm512_unpackhi_pd(wa, q1));  // lanes 1 3 5 7
    _mm512_store_pd(eb, _mm512_unpacklo_pd(wa, q2));
    _mm512_store_pd(eb + 8, _mm512_unpackhi_pd(wa, q2));
    char* const ev = reinterpret_cast<char*>(g.ev);
    const volatile int64_t* ov = off;
    for (int lane = 0; lane < 8; lane++) {
      const int at = (lane & 1) ? 8 + 2 * (lane >> 1) : 2 * (lane >> 1);
      double* p = reinterpret_cast<double*>(ev + ov[lane]);
      _mm_storeu_pd(p, _mm_add_pd(_mm_loadu_pd(p), _mm_load_pd(ea + at)));
      p = reinterpret_cast<double*>(ev + ov[8 + lane]);
      _mm_storeu_pd(p, _mm_add_pd(_mm_loadu_pd(p), _mm_load_pd(eb + at)));
    }
  }
  // Running sums over the steps: (P, Q) at step k, for every k, in the scalar order; the tables are cleared for the
  // next group as they are read (the slots past the last step are never read, so never need clearing).
  const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  for (int k = 0; k < SYM_STEPS; k++) {
    double* e = g.ev + SYM_STRIDE * k;
    const __m512d z0 = _mm512_load_pd(e), z1 = _mm512_load_pd(e + 8);
    _mm512_store_pd(e, zero);
    _mm512_store_pd(e + 8, zero);
    P = _mm512_add_pd(P, _mm512_permutex2var_pd(z0, even, z1));
    Q = _mm512_add_pd(Q, _mm512_permutex2var_pd(z0, odd, z1));
    _mm512_store_pd(g.P + 8 * k, P);
    _mm512_store_pd(g.Q + 8 * k, Q);
  }
  // The reference starts from c = nmax (step 9), then tries the other steps in order, keeping strict improvements of
  // P^2 / Q.
  const __m512d P9 = _mm512_load_pd(g.P + 72), Q9 = _mm512_load_pd(g.Q + 72);
  const __mmask8 q9 = _mm512_cmp_pd_mask(Q9, zero, _CMP_GT_OQ);
  __m512d best = _mm512_maskz_div_pd(q9, _mm512_mul_pd(P9, P9), Q9);
  __m512d best_p = _mm512_maskz_mov_pd(q9, P9), best_q = _mm512_maskz_mov_pd(q9, Q9);
  for (int k = 0; k < SYM_STEPS; k++) {
    if (k == 9) continue;
    const __m512d Pk = _mm512_load_pd(g.P + 8 * k), Qk = _mm512_load_pd(g.Q + 8 * k);
    const __m512d pp = _mm512_mul_pd(Pk, Pk);
    __m512d gain = _mm512_div_pd(pp, Qk);
    asm("" : "+v"(gain));  // keeps the division off the loop-carried chain (see sweep8)
    const __mmask8 better = _mm512_cmp_pd_mask(Qk, zero, _CMP_GT_OQ) &
                            _mm512_cmp_pd_mask(pp, _mm512_mul_pd(best, Qk), _CMP_GT_OQ);
    best = _mm512_mask_mov_pd(best, better, gain);
    best_p = _mm512_mask_mov_pd(best_p, better, Pk);
    best_q = _mm512_mask_mov_pd(best_q, better, Qk);
  }
  const __m512d ratio = _mm512_div_pd(best_p, best_q);
  __m512d scale = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(max, zero, _CMP_GT_OQ), ratio, neg(ratio));
  scale = _mm512_maskz_mov_pd(live & _mm512_cmp_pd_mask(best_q, zero, _CMP_NEQ_UQ), scale);
  _mm512_storeu_pd(scales, scale);
  return (bad & live) == 0;
}

}  // namespace

void levels16_q6_k_avx512(const float* x, double id, uint8_t* L) {
  const __m512d idv = _mm512_set1_pd(id);
  for (int h = 0; h < 2; h++) {
    __m512d l = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + 8 * h)), idv),
                                                   _mm512_set1_pd(0.5)),
                                     _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    // The scalar clamp keeps NaN (an overflowed f16 d times a zero scale), which a Uint8Array store makes 0.
    const __mmask8 number = _mm512_cmp_pd_mask(l, l, _CMP_ORD_Q);
    l = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(l, _mm512_set1_pd(-32), _CMP_LT_OQ), l, _mm512_set1_pd(-32));
    l = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(l, _mm512_set1_pd(31), _CMP_GT_OQ), l, _mm512_set1_pd(31));
    const __m256i q = _mm256_maskz_mov_epi32(number, _mm512_cvttpd_epi32(_mm512_add_pd(l, _mm512_set1_pd(32))));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(L + 8 * h), _mm256_cvtepi32_epi8(q));
  }
}

int fit_symmetric16_avx512(const float* x, double* scales) {
  Sym8 g;
  std::memset(g.ev, 0, sizeof g.ev);
  const __m512d zero = _mm512_setzero_pd();
  for (int half = 0; half < 2; half++) {
    // Sub-blocks 8 half .. 8 half + 7: transposed (values 8 c .. 8 c + 7 of each at a time), with q6_k.ts's first
    // pass (extremes from the first value on, finiteness).
    const float* base = x + 128 * half;
    __m512d l = _mm512_set1_pd(INFINITY), h = _mm512_set1_pd(-INFINITY);
    __mmask8 bad = 0;
    for (int c = 0; c < 2; c++) {
      __m256 r[8];
      for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(base + 16 * j + 8 * c);
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
      const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
      const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
      const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
      const __m256 col[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                             _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                             _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                             _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
      for (int k = 0; k < 8; k++) {
        const __m512d v = _mm512_cvtps_pd(col[k]);
        _mm512_store_pd(g.t + 8 * (8 * c + k), v);
        bad |= _mm512_cmp_pd_mask(_mm512_sub_pd(v, v), zero, _CMP_NEQ_UQ);
        l = _mm512_min_pd(v, l);
        h = _mm512_max_pd(v, h);
      }
    }
    if (bad != 0) {
      for (int i = 0; i < 256; i++) {
        if (!std::isfinite(x[i])) return i;
      }
    }
    if (!fit_sym8(g, l, h, scales + 8 * half)) {
      std::memset(g.ev, 0, sizeof g.ev);
      double s16[16];
      fit_symmetric16_scalar(x, s16);
      std::memcpy(scales + 8 * half, s16 + 8 * half, 8 * sizeof(double));
    }
  }
  return -1;
}

}  // namespace quant
