// Q6_K (ggml block_q6_K): 256 values per 210-byte super-block:
//   bytes 0..127    low 4 bits: for each 128-value half h, 64 bytes; byte l (l < 32) holds values 128h+l (low
//                   nibble) and 128h+64+l (high nibble), byte 32+l holds values 128h+32+l and 128h+96+l
//   bytes 128..191  high 2 bits: for half h, 32 bytes; byte l holds those of values 128h+l, +32, +64, +96 in bit
//                   pairs 0-1, 2-3, 4-5, 6-7
//   bytes 192..207  sixteen int8 scales, one per 16 values
//   bytes 208..209  f16 d
// Value = d * scale_j * (q - 32), q in 0..63.
// Quantizing follows ggml's reference: fit each 16-value sub-block's signed scale (kquant.ts), quantize the scales
// to int8 against the largest magnitude (which maps to -128), then requantize the values with the stored scales.
import { GgmlType } from '../ggmlTypes';
import { type Codec, throwNonFinite } from './codec';
import { readF16, writeF16 } from './f16';
import { fitSymmetricScale } from './kquant';

const QK = 256;
const SIZE = 210;
const scales = new Float64Array(16);
const L = new Uint8Array(QK);

export const q6_KCodec: Codec = {
  type: GgmlType.Q6_K,
  name: 'Q6_K',
  blockSize: QK,
  typeSize: SIZE,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * SIZE;
      let maxScale = 0;
      let maxAbs = 0;
      for (let j = 0; j < 16; j++) {
        const o16 = x + 16 * j;
        let lo = src[o16];
        let hi = lo;
        let bad = 0;
        for (let i = 0; i < 16; i++) {
          const v = src[o16 + i];
          bad += v - v;
          lo = v < lo ? v : lo;
          hi = v > hi ? v : hi;
        }
        if (bad !== 0) throwNonFinite('Q6_K', src, o16, 16);
        const s = fitSymmetricScale(src, o16, 16, 32, lo, hi);
        scales[j] = s;
        const a = Math.abs(s);
        if (a > maxAbs) {
          maxAbs = a;
          maxScale = s;
        }
      }
      if (maxAbs < 1e-15) {
        dst.fill(0, o, o + SIZE);
        continue;
      }
      const iscale = -128 / maxScale;
      const d = writeF16(dst, o + 208, 1 / iscale);
      for (let j = 0; j < 16; j++) {
        let sc = Math.round(iscale * scales[j]);
        if (sc > 127) sc = 127;
        else if (sc < -128) sc = -128;
        dst[o + 192 + j] = sc & 0xff;
        const dj = d * sc;
        const base = 16 * j;
        if (dj === 0) {
          L.fill(32, base, base + 16);
          continue;
        }
        const id = 1 / dj;
        for (let i = 0; i < 16; i++) {
          let l = Math.floor(src[x + base + i] * id + 0.5);
          l = l < -32 ? -32 : l > 31 ? 31 : l;
          L[base + i] = l + 32;
        }
      }
      for (let h = 0; h < 2; h++) {
        const ql = o + 64 * h;
        const qh = o + 128 + 32 * h;
        const y = 128 * h;
        for (let l = 0; l < 32; l++) {
          const q1 = L[y + l];
          const q2 = L[y + l + 32];
          const q3 = L[y + l + 64];
          const q4 = L[y + l + 96];
          dst[ql + l] = (q1 & 15) | ((q3 & 15) << 4);
          dst[ql + l + 32] = (q2 & 15) | ((q4 & 15) << 4);
          dst[qh + l] = (q1 >>> 4) | ((q2 >>> 4) << 2) | ((q3 >>> 4) << 4) | ((q4 >>> 4) << 6);
        }
      }
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * SIZE;
      const d = readF16(src, o + 208);
      for (let h = 0; h < 2; h++) {
        const ql = o + 64 * h;
        const qh = o + 128 + 32 * h;
        const sc = o + 192 + 8 * h;
        const y = dstOff + b * QK + 128 * h;
        for (let l = 0; l < 32; l++) {
          const is = l >>> 4;
          const lo0 = src[ql + l];
          const lo1 = src[ql + l + 32];
          const hb = src[qh + l];
          dst[y + l] = d * ((src[sc + is] << 24) >> 24) * (((lo0 & 15) | ((hb & 3) << 4)) - 32);
          dst[y + l + 32] = d * ((src[sc + is + 2] << 24) >> 24) * (((lo1 & 15) | (((hb >>> 2) & 3) << 4)) - 32);
          dst[y + l + 64] = d * ((src[sc + is + 4] << 24) >> 24) * (((lo0 >>> 4) | (((hb >>> 4) & 3) << 4)) - 32);
          dst[y + l + 96] = d * ((src[sc + is + 6] << 24) >> 24) * (((lo1 >>> 4) | (((hb >>> 6) & 3) << 4)) - 32);
        }
      }
    }
  },
};
