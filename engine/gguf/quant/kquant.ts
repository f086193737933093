// Scale searches shared by the K-quants (256-value super-blocks), after ggml's reference quantizers.
//
// fitScaleMin (Q4_K, Q5_K; after ggml's make_qkx2_quants): a 32-value sub-block is stored as x ~ scale * l - min with
// l in 0..nmax, and weights w = rms(x) + |x| say which values matter most. The reference tries a grid of inverse
// scales iscale_k = (nmax + rmin + rdelta * k) / (max - min), k = 0..nstep, rounds l = round(iscale_k * (x - min)),
// solves the weighted least-squares (scale, min) for each candidate l in closed form, and keeps the best fit; each
// time a step improves, the grid of the steps after it is re-centred on the new min.
//
// Here the grid is swept twice: once from the block minimum, then once more from the best fit's min. On gaussian
// data that gives the reference's error (RMSE: Q4_K 0.07179 against its 0.07177, Q5_K 0.03647 against 0.03648; a
// single sweep gives 0.0722 and 0.03658), and each sweep is one pass over the values instead of one per step:
//  - over the grid, l_i only ever grows, by at most 2 (the grid spans 2 units of iscale * (max - min)), so each value
//    contributes a starting l and at most two "step k adds 1 to l_i" events, and the sums the fit needs (sum w l,
//    sum w l^2, sum w l x) are running sums over k of per-step deltas;
//  - a fit's weighted squared error is sum w x^2 minus a "gain" computed from those same sums, so candidates are
//    compared without another pass.
// The final 4/5-bit values are recomputed by the caller from the 6-bit-quantized scales, as the reference does, so the
// search only returns (scale, min).
//
// fitSymmetricScale (Q6_K; ggml's make_qx_quants with x^2 weights): a 16-value sub-block is x ~ scale * l with l in
// -nmax..nmax-1, the grid is iscale = -(nmax + 0.1 k) / max for k = -9..9 (max = the value of largest magnitude, with
// its sign), and the candidate maximizing (sum w x l)^2 / sum w l^2 wins. The same event sweep applies to |l|; this
// grid does not move, so one sweep is exactly the reference's search.

// Per-step deltas of the fit's sums, 4 doubles per slot (sum w l, sum w l^2, sum w l x, unused). Slots 0..nstep+1
// belong to grid steps; the 32 after them take the events a value does not have, spread over many slots so the
// additions do not queue up on one memory location, and with no data-dependent branch in the loop (mispredicted
// branches, not arithmetic, would otherwise dominate it). Spare slots are never read, so never cleared.
import { throwNonFinite } from './codec';
import { writeF16 } from './f16';
const GRID_SLOTS = 24; // nstep + 2 for nstep <= 22
const SPARE = GRID_SLOTS;
const ev = new Float64Array((GRID_SLOTS + 32) * 4);

/** Results of the last fit: fitted[0] = scale, fitted[1] = min (positive: the stored value subtracted). */
export const fitted = new Float64Array(2);

// Best candidate so far across the sweeps of one fit: its gain (larger is better) or -1 for none yet.
let bestGain = -1;

/**
 * Fits x[off..off+32) ~ scale * l - min, l in 0..nmax, into `fitted`. `sumX2` is the sub-block's sum of squares, and
 * `lo`/`hi` its smallest and largest values (the caller has them from its first pass).
 */
export function fitScaleMin(
  x: Float32Array,
  off: number,
  sumX2: number,
  lo: number,
  hi: number,
  nmax: number,
  rmin: number,
  rdelta: number,
  nstep: number,
): void {
  const mn = lo > 0 ? 0 : lo;
  if (hi === mn) {
    fitted[0] = 0;
    fitted[1] = -mn;
    return;
  }
  const av = Math.sqrt(sumX2 / 32);
  bestGain = -1;
  sweep(x, off, av, mn, hi, nmax, rmin, rdelta, nstep);
  if (bestGain < 0) {
    // No step had two distinct levels: the reference's first candidate (iscale = nmax / range) stands.
    fitted[0] = (hi - mn) / nmax;
    fitted[1] = -mn;
    return;
  }
  const refined = -fitted[1];
  if (refined !== mn && refined < hi) sweep(x, off, av, refined, hi, nmax, rmin, rdelta, nstep);
}

/** One pass of the grid with its origin at `base` (<= every value that should get l > 0), improving on `bestGain`. */
function sweep(
  x: Float32Array,
  off: number,
  av: number,
  base: number,
  hi: number,
  nmax: number,
  rmin: number,
  rdelta: number,
  nstep: number,
): void {
  const range = hi - base;
  const c0 = nmax + rmin;
  const cN = c0 + rdelta * nstep;
  const a0 = c0 / range;
  const aN = cN / range;
  // Step k reaches l = j + 1 once (c0 + rdelta k) (x - base) / range >= j + 0.5, i.e. k >= (j + 0.5) q - c0 / rdelta
  // with q = range / (rdelta (x - base)).
  const qScale = range / rdelta;
  const kBase = c0 / rdelta;
  ev.fill(0, 0, (nstep + 2) * 4);
  let sw = 0;
  let swx = 0;
  let sl = 0;
  let sl2 = 0;
  let sxl = 0;
  for (let i = 0; i < 32; i++) {
    const v = x[off + i];
    const w = av + Math.abs(v);
    const wv = w * v;
    sw += w;
    swx += wv;
    const dv = v - base; // negative only below a refined base, where l stays 0
    let l0 = (dv * a0 + 0.5) | 0; // c0 < nmax + 0.5, so l0 <= nmax
    l0 = l0 < 0 ? 0 : l0;
    let l1 = (dv * aN + 0.5) | 0;
    l1 = l1 > nmax ? nmax : l1 < 0 ? 0 : l1;
    const wl0 = w * l0;
    sl += wl0;
    sl2 += wl0 * l0;
    sxl += wv * l0;
    // Over the grid l climbs from l0 to l1, at most twice.
    const q = qScale / dv; // Infinity at the base itself, whose l stays 0
    const t1 = (l0 + 0.5) * q - kBase;
    const k1 = Math.ceil(t1) | 0;
    const k2 = Math.ceil(t1 + q) | 0;
    const e1 = -((l0 - l1) >>> 31); // all ones when l1 > l0
    const e2 = -((l0 + 1 - l1) >>> 31); // all ones when l1 > l0 + 1
    const spare = SPARE + (i & 15);
    const s1 = (spare ^ ((k1 ^ spare) & e1)) << 2;
    const s2 = ((spare + 16) ^ ((k2 ^ (spare + 16)) & e2)) << 2;
    ev[s1] += w;
    ev[s1 + 1] += 2 * wl0 + w;
    ev[s1 + 2] += wv;
    ev[s2] += w;
    ev[s2 + 1] += 2 * wl0 + 3 * w;
    ev[s2 + 2] += wv;
  }
  // Each step's least-squares fit of x ~ s * l + m (m = -min <= 0) leaves a weighted squared error of
  // sum w x^2 - gain, with gain = (sw sxl^2 - 2 sl sxl swx + sl2 swx^2) / D for the free fit, or sxl^2 / sl2 when the
  // free fit has m > 0 and m is pinned at 0. Gains are compared cross-multiplied, keeping divisions out of the loop.
  for (let k = 0; k <= nstep; k++) {
    sl += ev[4 * k];
    sl2 += ev[4 * k + 1];
    sxl += ev[4 * k + 2];
    const D = sw * sl2 - sl * sl;
    if (D > 0) {
      if (sl2 * swx - sl * sxl > 0) {
        const num = sxl * sxl;
        if (num > bestGain * sl2) {
          bestGain = num / sl2;
          fitted[0] = sxl / sl2;
          fitted[1] = 0;
        }
      } else {
        const num = sw * sxl * sxl - 2 * sl * sxl * swx + sl2 * swx * swx;
        if (num > bestGain * D) {
          bestGain = num / D;
          fitted[0] = (sw * sxl - swx * sl) / D;
          fitted[1] = (sl * sxl - sl2 * swx) / D;
        }
      }
    }
  }
}

const SYM_STEPS = 19; // c = nmax + 0.1 k for k = -9..9, stored at k + 9
const dP = new Float64Array(SYM_STEPS + 3);
const dQ = new Float64Array(SYM_STEPS + 3);

/**
 * Returns the scale (signed; 0 for an all-zero sub-block) of x[off..off+n) ~ scale * l, l in -nmax..nmax-1, with
 * weights x^2. `lo`/`hi` are the sub-block's smallest and largest values.
 */
export function fitSymmetricScale(x: Float32Array, off: number, n: number, nmax: number, lo: number, hi: number): number {
  // The reference's max: the value of largest magnitude, with its sign (on a tie, the positive one here).
  const max = -lo > hi ? lo : hi;
  const amax = Math.abs(max);
  if (amax < 1e-15) return 0;
  // Work with magnitudes: l_i = -sign(max) * sign(x_i) * m_i with m_i = round(c * |x_i| / amax). Values on the same
  // side as max go negative and may reach nmax; the others stop at nmax - 1. Then sum w x l = -sign(max) * P and
  // sum w l^2 = Q with P = sum |x|^3 m and Q = sum x^2 m^2.
  const c0 = nmax - 0.9;
  const cN = nmax + 0.9;
  const inv = 1 / amax;
  const none1 = SYM_STEPS;
  const none2 = SYM_STEPS + 1;
  for (let k = 0; k <= none2; k++) {
    dP[k] = 0;
    dQ[k] = 0;
  }
  let P = 0;
  let Q = 0;
  for (let i = 0; i < n; i++) {
    const v = x[off + i];
    const av = Math.abs(v);
    const a = av * inv;
    const w = v * v;
    const wa = w * av;
    const m0 = (c0 * a + 0.5) | 0; // at most nmax - 1
    let m1 = (cN * a + 0.5) | 0;
    if (m1 >= nmax) m1 = v * max > 0 ? nmax : nmax - 1; // only values within 5% of amax get here
    P += wa * m0;
    Q += w * m0 * m0;
    const ia = amax / av;
    const k1 = Math.ceil(((m0 + 0.5) * ia - c0) * 10) | 0;
    const k2 = Math.ceil(((m0 + 1.5) * ia - c0) * 10) | 0;
    const e1 = -((m0 - m1) >>> 31);
    const e2 = -((m0 + 1 - m1) >>> 31);
    const s1 = none1 ^ ((k1 ^ none1) & e1);
    const s2 = none2 ^ ((k2 ^ none2) & e2);
    dP[s1] += wa;
    dQ[s1] += w * (2 * m0 + 1);
    dP[s2] += wa;
    dQ[s2] += w * (2 * m0 + 3);
  }
  // The reference starts from c = nmax (step 9) and then tries the other 18 steps in order, replacing only on a
  // strict improvement of (sum w x l)^2 / sum w l^2.
  let bestP = 0;
  let bestQ = 0;
  let Pk = P;
  let Qk = Q;
  for (let k = 0; k <= 9; k++) {
    Pk += dP[k];
    Qk += dQ[k];
  }
  let best = 0;
  if (Qk > 0) {
    best = (Pk * Pk) / Qk;
    bestP = Pk;
    bestQ = Qk;
  }
  for (let k = 0; k < SYM_STEPS; k++) {
    P += dP[k];
    Q += dQ[k];
    if (k !== 9 && Q > 0 && P * P > best * Q) {
      best = (P * P) / Q;
      bestP = P;
      bestQ = Q;
    }
  }
  if (bestQ === 0) return 0;
  return max > 0 ? -bestP / bestQ : bestP / bestQ;
}

/**
 * Packs eight 6-bit scales and eight 6-bit mins into the 12 bytes at `dst[o]` (ggml's Q4_K/Q5_K layout): for
 * sub-blocks 0..3 the scale is the low 6 bits of byte j and the min the low 6 bits of byte j+4; for 4..7 the low
 * nibbles of scale and min share byte j+4, and their top two bits sit in the top bits of bytes j-4 and j.
 */
const headScales = new Float64Array(8);
const headMins = new Float64Array(8);
/** d and dmin of the super-block the last encodeScaleMinHead wrote, as stored (rounded to f16). */
export const head = new Float64Array(2);

/**
 * The head Q4_K and Q5_K share: fit (scale, min) to each 32-value sub-block of the 256 values at `x` with the
 * weighted grid search (levels `nmax`, grid rmin/rdelta/nstep), quantize the scales and mins to 6 bits against the
 * largest of each into `ls`/`lm`, and store d, dmin (f16) and the packed 6-bit pairs at bytes o..o+15. The caller
 * then requantizes the values with head[0] (d) and head[1] (dmin).
 */
export function encodeScaleMinHead(
  name: string,
  src: Float32Array,
  x: number,
  dst: Uint8Array,
  o: number,
  nmax: number,
  rmin: number,
  rdelta: number,
  nstep: number,
  ls: Uint8Array,
  lm: Uint8Array,
): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const s = x + 32 * j;
    let sumX2 = 0;
    let lo = src[s];
    let hi = lo;
    let bad = 0;
    for (let i = 0; i < 32; i++) {
      const v = src[s + i];
      bad += v - v;
      sumX2 += v * v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (bad !== 0) throwNonFinite(name, src, s, 32);
    fitScaleMin(src, s, sumX2, lo, hi, nmax, rmin, rdelta, nstep);
    headScales[j] = fitted[0];
    headMins[j] = fitted[1];
    if (fitted[0] > maxScale) maxScale = fitted[0];
    if (fitted[1] > maxMin) maxMin = fitted[1];
  }
  const invScale = maxScale > 0 ? 63 / maxScale : 0;
  const invMin = maxMin > 0 ? 63 / maxMin : 0;
  for (let j = 0; j < 8; j++) {
    const a = Math.round(invScale * headScales[j]);
    const m = Math.round(invMin * headMins[j]);
    ls[j] = a < 0 ? 0 : a > 63 ? 63 : a;
    lm[j] = m < 0 ? 0 : m > 63 ? 63 : m;
  }
  head[0] = writeF16(dst, o, maxScale / 63);
  head[1] = writeF16(dst, o + 2, maxMin / 63);
  packScalesMins(ls, lm, dst, o + 4);
}

export function packScalesMins(ls: Uint8Array, lm: Uint8Array, dst: Uint8Array, o: number): void {
  for (let j = 0; j < 4; j++) {
    dst[o + j] = ls[j] | ((ls[j + 4] >>> 4) << 6);
    dst[o + j + 4] = lm[j] | ((lm[j + 4] >>> 4) << 6);
    dst[o + j + 8] = (ls[j + 4] & 15) | ((lm[j + 4] & 15) << 4);
  }
}

/** Unpacks the 12 bytes at `src[o]` into eight scales and eight mins. */
export function unpackScalesMins(src: Uint8Array, o: number, ls: Uint8Array, lm: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    ls[j] = src[o + j] & 63;
    lm[j] = src[o + j + 4] & 63;
    ls[j + 4] = (src[o + j + 8] & 15) | ((src[o + j] >>> 6) << 4);
    lm[j + 4] = (src[o + j + 8] >>> 4) | ((src[o + j + 4] >>> 6) << 4);
  }
}
