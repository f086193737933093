// Q4_K (ggml block_q4_K): 256 values per 144-byte super-block:
//   bytes 0..1   f16 d      (scale of the 6-bit sub-block scales)
//   bytes 2..3   f16 dmin   (scale of the 6-bit sub-block mins)
//   bytes 4..15  eight 6-bit scales and eight 6-bit mins, packed (see packScalesMins)
//   bytes 16..143  4-bit quants: for each 64-value group g, 32 bytes whose low nibbles are values 64g..64g+31 and
//                  whose high nibbles are values 64g+32..64g+63
// Sub-block j (32 values) decodes as value = d * scale_j * q - dmin * min_j.
// Quantizing follows ggml's reference: fit each sub-block's (scale, min) with the weighted grid search (kquant.ts),
// quantize scales and mins to 6 bits against the largest of each, then requantize the values with the stored scales.
import { GgmlType } from '../ggmlTypes';
import type { Codec } from './codec';
import { readF16 } from './f16';
import { encodeScaleMinHead, head, unpackScalesMins } from './kquant';

const QK = 256;
const SIZE = 144;
const ls = new Uint8Array(8);
const lm = new Uint8Array(8);

export const q4_KCodec: Codec = {
  type: GgmlType.Q4_K,
  name: 'Q4_K',
  blockSize: QK,
  typeSize: SIZE,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * SIZE;
      encodeScaleMinHead('Q4_K', src, x, dst, o, 15, -1, 0.1, 20, ls, lm);
      const d = head[0];
      const dmin = head[1];
      for (let g = 0; g < 4; g++) {
        const q = o + 16 + 32 * g;
        const s0 = x + 64 * g;
        const d0 = d * ls[2 * g];
        const d1 = d * ls[2 * g + 1];
        if (d0 === 0 && d1 === 0) {
          dst.fill(0, q, q + 32);
          continue;
        }
        const id0 = d0 === 0 ? 0 : 1 / d0;
        const id1 = d1 === 0 ? 0 : 1 / d1;
        const m0 = dmin * lm[2 * g];
        const m1 = dmin * lm[2 * g + 1];
        for (let i = 0; i < 32; i++) {
          let q0 = ((src[s0 + i] + m0) * id0 + 0.5) | 0;
          let q1 = ((src[s0 + 32 + i] + m1) * id1 + 0.5) | 0;
          q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
          q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
          dst[q + i] = q0 | (q1 << 4);
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
      for (let g = 0; g < 4; g++) {
        const q = o + 16 + 32 * g;
        const y0 = y + 64 * g;
        const d0 = d * ls[2 * g];
        const m0 = dmin * lm[2 * g];
        const d1 = d * ls[2 * g + 1];
        const m1 = dmin * lm[2 * g + 1];
        for (let i = 0; i < 32; i++) {
          const v = src[q + i];
          dst[y0 + i] = d0 * (v & 15) - m0;
          dst[y0 + 32 + i] = d1 * (v >>> 4) - m1;
        }
      }
    }
  },
};
