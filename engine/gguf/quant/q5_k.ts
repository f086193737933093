// Q5_K (ggml block_q5_K): 256 values per 176-byte super-block:
//   bytes 0..1 f16 d, bytes 2..3 f16 dmin, bytes 4..15 packed 6-bit scales and mins (as Q4_K),
//   bytes 16..47   fifth bits: bit 2g of byte i is the high bit of value 64g+i, bit 2g+1 that of value 64g+32+i,
//   bytes 48..175  low nibbles, laid out as Q4_K's quants.
// Sub-block j decodes as value = d * scale_j * q - dmin * min_j with q in 0..31.
// Quantizing is Q4_K's procedure with 31 levels and the reference's grid for 5 bits (rmin -0.5, 16 steps).
import { GgmlType } from '../ggmlTypes';
import type { Codec } from './codec';
import { readF16 } from './f16';
import { encodeScaleMinHead, head, unpackScalesMins } from './kquant';

const QK = 256;
const SIZE = 176;
const ls = new Uint8Array(8);
const lm = new Uint8Array(8);

export const q5_KCodec: Codec = {
  type: GgmlType.Q5_K,
  name: 'Q5_K',
  blockSize: QK,
  typeSize: SIZE,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * SIZE;
      encodeScaleMinHead('Q5_K', src, x, dst, o, 31, -0.5, 0.1, 15, ls, lm);
      const d = head[0];
      const dmin = head[1];
      const qh = o + 16;
      dst.fill(0, qh, qh + 32);
      for (let g = 0; g < 4; g++) {
        const q = o + 48 + 32 * g;
        const s0 = x + 64 * g;
        const d0 = d * ls[2 * g];
        const d1 = d * ls[2 * g + 1];
        const id0 = d0 === 0 ? 0 : 1 / d0;
        const id1 = d1 === 0 ? 0 : 1 / d1;
        const m0 = dmin * lm[2 * g];
        const m1 = dmin * lm[2 * g + 1];
        const bit0 = 1 << (2 * g);
        const bit1 = 2 << (2 * g);
        for (let i = 0; i < 32; i++) {
          let q0 = ((src[s0 + i] + m0) * id0 + 0.5) | 0;
          let q1 = ((src[s0 + 32 + i] + m1) * id1 + 0.5) | 0;
          q0 = q0 < 0 ? 0 : q0 > 31 ? 31 : q0;
          q1 = q1 < 0 ? 0 : q1 > 31 ? 31 : q1;
          dst[q + i] = (q0 & 15) | ((q1 & 15) << 4);
          dst[qh + i] |= (q0 > 15 ? bit0 : 0) | (q1 > 15 ? bit1 : 0);
        }
      }
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * SIZE;
      const y = dstOff + b * QK;
      const d = readF16(src, o);
      const dmin = readF16(src, o + 2);
      unpackScalesMins(src, o + 4, ls, lm);
      const qh = o + 16;
      for (let g = 0; g < 4; g++) {
        const q = o + 48 + 32 * g;
        const y0 = y + 64 * g;
        const d0 = d * ls[2 * g];
        const m0 = dmin * lm[2 * g];
        const d1 = d * ls[2 * g + 1];
        const m1 = dmin * lm[2 * g + 1];
        const sh = 2 * g;
        for (let i = 0; i < 32; i++) {
          const v = src[q + i];
          const h = src[qh + i] >>> sh;
          dst[y0 + i] = d0 * ((v & 15) | ((h & 1) << 4)) - m0;
          dst[y0 + 32 + i] = d1 * ((v >>> 4) | ((h & 2) << 3)) - m1;
        }
      }
    }
  },
};
