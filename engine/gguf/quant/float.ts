// The unquantized types: F32 (copied), F16 and BF16 (narrowed with round-to-nearest-even, see f16.ts).
import { GgmlType } from '../ggmlTypes';
import type { Codec } from './codec';
import { narrowBf16, narrowF16, widenBf16, widenF16 } from './f16';

// Typed views need aligned offsets; a misaligned source or destination goes through this bounce buffer.
const BOUNCE = 4096;
const bounce = new Uint8Array(BOUNCE * 4);

function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  dst.set(src.subarray(srcOff, srcOff + n), dstOff);
}

export const f32Codec: Codec = {
  type: GgmlType.F32,
  name: 'F32',
  blockSize: 1,
  typeSize: 4,
  encode(src, srcOff, dst, dstOff, n) {
    copyBytes(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), srcOff * 4, dst, dstOff, n * 4);
  },
  decode(src, srcOff, dst, dstOff, n) {
    copyBytes(src, srcOff, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength), dstOff * 4, n * 4);
  },
};

type Narrow = (src: Uint32Array, srcOff: number, dst: Uint16Array, dstOff: number, n: number) => void;
type Widen = (src: Uint16Array, srcOff: number, dst: Uint32Array, dstOff: number, n: number) => void;

function halfCodec(type: GgmlType, name: string, narrow: Narrow, widen: Widen): Codec {
  return {
    type,
    name,
    blockSize: 1,
    typeSize: 2,
    encode(src, srcOff, dst, dstOff, n) {
      const bits = u32View(src);
      const at = dst.byteOffset + dstOff;
      if ((at & 1) === 0) {
        narrow(bits, srcOff, new Uint16Array(dst.buffer, at, n), 0, n);
        return;
      }
      const tmp = new Uint16Array(bounce.buffer, 0, BOUNCE * 2);
      for (let done = 0; done < n; done += tmp.length) {
        const k = Math.min(tmp.length, n - done);
        narrow(bits, srcOff + done, tmp, 0, k);
        dst.set(bounce.subarray(0, k * 2), dstOff + done * 2);
      }
    },
    decode(src, srcOff, dst, dstOff, n) {
      const out = u32View(dst);
      const at = src.byteOffset + srcOff;
      if ((at & 1) === 0) {
        widen(new Uint16Array(src.buffer, at, n), 0, out, dstOff, n);
        return;
      }
      const tmp = new Uint16Array(bounce.buffer, 0, BOUNCE * 2);
      for (let done = 0; done < n; done += tmp.length) {
        const k = Math.min(tmp.length, n - done);
        bounce.set(src.subarray(srcOff + done * 2, srcOff + (done + k) * 2));
        widen(tmp, 0, out, dstOff + done, k);
      }
    },
  };
}

export const f16Codec = halfCodec(GgmlType.F16, 'F16', narrowF16, widenF16);
export const bf16Codec = halfCodec(GgmlType.BF16, 'BF16', narrowBf16, widenBf16);
