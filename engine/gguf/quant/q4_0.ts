// Q4_0 (ggml block_q4_0): 32 values per 18-byte block = f16 scale d, then 16 bytes of nibbles; byte j holds value j
// in its low nibble and value j+16 in its high nibble; value = (q - 8) * d.
// Quantizing follows ggml's reference: the value of largest magnitude (with its sign) maps to -8, so d = max / -8,
// and q = min(15, trunc(x / d + 8.5)), in f32.
import { GgmlType } from '../ggmlTypes';
import { type Codec, signedMaxAbs } from './codec';
import { readF16, writeF16 } from './f16';

const QK = 32;
const fround = Math.fround;

export const q4_0Codec: Codec = {
  type: GgmlType.Q4_0,
  name: 'Q4_0',
  blockSize: QK,
  typeSize: 18,
  encode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const x = srcOff + b * QK;
      const o = dstOff + b * 18;
      const max = signedMaxAbs('Q4_0', src, x, QK);
      const d = fround(max / -8);
      const id = d ? fround(1 / d) : 0;
      writeF16(dst, o, d);
      for (let j = 0; j < 16; j++) {
        const q0 = (fround(fround(src[x + j] * id) + 8.5) | 0);
        const q1 = (fround(fround(src[x + 16 + j] * id) + 8.5) | 0);
        dst[o + 2 + j] = (q0 > 15 ? 15 : q0) | ((q1 > 15 ? 15 : q1) << 4);
      }
    }
  },
  decode(src, srcOff, dst, dstOff, nBlocks) {
    for (let b = 0; b < nBlocks; b++) {
      const o = srcOff + b * 18;
      const y = dstOff + b * QK;
      const d = readF16(src, o);
      for (let j = 0; j < 16; j++) {
        const q = src[o + 2 + j];
        dst[y + j] = ((q & 15) - 8) * d;
        dst[y + 16 + j] = ((q >>> 4) - 8) * d;
      }
    }
  },
};
