// Q5_1 (ggml block_q5_1): 32 values per 24-byte block = f16 scale d, f16 offset m, a little-endian u32 of fifth
// bits, then 16 bytes of low nibbles as in Q4_0; value = q * d + m. llama.cpp falls back to it for Q5_K tensors
// whose rows are not a multiple of 256.
// Quantizing follows ggml's reference: m = min, d = (max - min) / 31, q = trunc((x - min) / d + 0.5), in f32.
import { GgmlType } from '../ggmlTypes';
import { type Codec, throwNonFinite } from './codec';
import { readF16, writeF16 } from './f16';

const QK = 32;
const fround = Math.fround;

export const q5_1Codec: Codec = {
  type: GgmlType.Q5_1,
  name: 'Q5_1',
  blockSize: QK,
  typeSize: 24,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * 24;
      let min = Infinity;
      let max = -Infinity;
      let bad = 0;
      for (let j = 0; j < QK; j++) {
        const v = src[x + j];
        bad += v - v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (bad !== 0) throwNonFinite('Q5_1', src, x, QK);
      const d = fround((max - min) / 31);
      const id = d ? fround(1 / d) : 0;
      writeF16(dst, o, d);
      writeF16(dst, o + 2, min);
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        let q0 = fround(fround(fround(src[x + j] - min) * id) + 0.5) | 0;
        let q1 = fround(fround(fround(src[x + 16 + j] - min) * id) + 0.5) | 0;
        if (q0 > 31) q0 = 31;
        if (q1 > 31) q1 = 31;
        dst[o + 8 + j] = (q0 & 15) | ((q1 & 15) << 4);
        qh |= ((q0 >>> 4) << j) | ((q1 >>> 4) << (j + 16));
      }
      dst[o + 4] = qh & 0xff;
      dst[o + 5] = (qh >>> 8) & 0xff;
      dst[o + 6] = (qh >>> 16) & 0xff;
      dst[o + 7] = qh >>> 24;
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * 24;
      const y = dstOff + b * QK;
      const d = readF16(src, o);
      const m = readF16(src, o + 2);
      const qh = src[o + 4] | (src[o + 5] << 8) | (src[o + 6] << 16) | (src[o + 7] << 24);
      for (let j = 0; j < 16; j++) {
        const q = src[o + 8 + j];
        dst[y + j] = ((q & 15) | (((qh >>> j) & 1) << 4)) * d + m;
        dst[y + 16 + j] = ((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
      }
    }
  },
};
