// Q5_0 (ggml block_q5_0): 32 values per 22-byte block = f16 scale d, a little-endian u32 of fifth bits (bit j for
// value j), then 16 bytes of low nibbles laid out as in Q4_0; value = (q - 16) * d. llama.cpp falls back to it for
// Q4_K tensors whose rows are not a multiple of 256.
// Quantizing follows ggml's reference: d = max / -16 (max = the value of largest magnitude, with its sign),
// q = min(31, trunc(x / d + 16.5)), in f32.
import { GgmlType } from '../ggmlTypes';
import { type Codec, signedMaxAbs } from './codec';
import { readF16, writeF16 } from './f16';

const QK = 32;
const fround = Math.fround;

export const q5_0Codec: Codec = {
  type: GgmlType.Q5_0,
  name: 'Q5_0',
  blockSize: QK,
  typeSize: 22,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * 22;
      const max = signedMaxAbs('Q5_0', src, x, QK);
      const d = fround(max / -16);
      const id = d ? fround(1 / d) : 0;
      writeF16(dst, o, d);
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        let q0 = fround(fround(src[x + j] * id) + 16.5) | 0;
        let q1 = fround(fround(src[x + 16 + j] * id) + 16.5) | 0;
        if (q0 > 31) q0 = 31;
        if (q1 > 31) q1 = 31;
        dst[o + 6 + j] = (q0 & 15) | ((q1 & 15) << 4);
        qh |= ((q0 >>> 4) << j) | ((q1 >>> 4) << (j + 16));
      }
      dst[o + 2] = qh & 0xff;
      dst[o + 3] = (qh >>> 8) & 0xff;
      dst[o + 4] = (qh >>> 16) & 0xff;
      dst[o + 5] = qh >>> 24;
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * 22;
      const y = dstOff + b * QK;
      const d = readF16(src, o);
      const qh = src[o + 2] | (src[o + 3] << 8) | (src[o + 4] << 16) | (src[o + 5] << 24);
      for (let j = 0; j < 16; j++) {
        const q = src[o + 6 + j];
        dst[y + j] = (((q & 15) | (((qh >>> j) & 1) << 4)) - 16) * d;
        dst[y + 16 + j] = (((q >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
      }
    }
  },
};
