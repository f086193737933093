// Q8_0 (ggml block_q8_0): 32 values per 34-byte block = f16 scale d, then 32 int8 quants; value = q * d.
// Quantizing follows ggml's reference: d = max|x| / 127, q = round(x / d) with halves away from zero, in f32.
import { GgmlType } from '../ggmlTypes';
import { type Codec, throwNonFinite } from './codec';
import { readF16, writeF16 } from './f16';

const QK = 32;
const fround = Math.fround;

export const q8_0Codec: Codec = {
  type: GgmlType.Q8_0,
  name: 'Q8_0',
  blockSize: QK,
  typeSize: 34,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * 34;
      let amax = 0;
      let bad = 0;
      for (let j = 0; j < QK; j++) {
        const v = src[x + j];
        bad += v - v;
        const a = Math.abs(v);
        if (a > amax) amax = a;
      }
      if (bad !== 0) throwNonFinite('Q8_0', src, x, QK);
      const d = fround(amax / 127);
      const id = d ? fround(1 / d) : 0;
      writeF16(dst, o, d);
      for (let j = 0; j < QK; j++) {
        // Round half away from zero without a branch on the sign: v + 128.5 is positive, so truncation floors it;
        // that rounds negative ties up, which the (rarely taken) test puts right.
        const v = fround(src[x + j] * id);
        let q = ((v + 128.5) | 0) - 128;
        if (q - v === 0.5 && v < 0) q--;
        dst[o + 2 + j] = q & 0xff;
      }
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * 34;
      const y = dstOff + b * QK;
      const d = readF16(src, o);
      for (let j = 0; j < QK; j++) dst[y + j] = ((src[o + 2 + j] << 24) >> 24) * d;
    }
  },
};
