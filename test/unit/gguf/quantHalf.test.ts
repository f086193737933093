// F16 and BF16 conversions: every 16-bit pattern, rounding to nearest even, the edges of the ranges, NaN.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { bf16ToF32Bits, f16ToF32Bits, f32BitsToBf16, f32BitsToF16, toBf16, toF16 } from '../../../engine/gguf/quant/f16';
import { dequantize, quantize } from '../../../engine/gguf/quant/index';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => ((f32[0] = x), u32[0]);
const valueOf = (bits: number) => ((u32[0] = bits), f32[0]);
const hex = (n: number) => '0x' + n.toString(16);

/** The f16 value of a pattern from its fields, written independently of f16.ts. */
function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const mant = h & 1023;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

describe('F16', () => {
  test('all 65536 patterns widen to their value and narrow back to themselves', () => {
    let bad = '';
    for (let h = 0; h < 65536 && !bad; h++) {
      const bits = f16ToF32Bits(h);
      const v = valueOf(bits);
      const want = f16Value(h);
      if (Number.isNaN(want) ? !Number.isNaN(v) : !Object.is(v, want)) bad = `${hex(h)} widened to ${v}, expected ${want}`;
      else if (f32BitsToF16(bits) !== h) bad = `${hex(h)} came back as ${hex(f32BitsToF16(bits))}`;
    }
    assert.equal(bad, '');
  });

  test('rounds to the nearest half, ties to even, against a search over all finite halves', () => {
    // Sorted positive finite halves (patterns 0..0x7bff are increasing).
    const halves = Array.from({ length: 0x7c00 }, (_, h) => f16Value(h));
    const nearest = (a: number): number => {
      if (a >= 65520) return 0x7c00; // past halfway to 2^16: infinity
      let lo = 0;
      let hi = halves.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (halves[mid] <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - halves[lo];
      const dh = halves[hi] - a;
      return dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
    };
    let seed = 7;
    let worst = '';
    for (let i = 0; i < 200000 && !worst; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      // Exponents around the half range (subnormals to overflow), random mantissa and sign.
      const exp = 100 + (seed % 48);
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const bits = ((seed & 0x80000000) | (exp << 23) | (seed & 0x7fffff)) >>> 0;
      const a = Math.abs(valueOf(bits));
      const want = (nearest(a) | (bits >>> 31 ? 0x8000 : 0)) >>> 0;
      const got = f32BitsToF16(bits);
      if (got !== want) worst = `${valueOf(bits)} (${hex(bits)}) -> ${hex(got)}, expected ${hex(want)}`;
    }
    assert.equal(worst, '');
  });

  test('edge values', () => {
    assert.equal(toF16(1), 0x3c00);
    assert.equal(toF16(-2), 0xc000);
    assert.equal(toF16(0.1), 0x2e66);
    assert.equal(toF16(65504), 0x7bff); // largest finite
    assert.equal(toF16(65519.99), 0x7bff);
    assert.equal(toF16(65520), 0x7c00); // halfway to 2^16 rounds (to even) to infinity
    assert.equal(toF16(1e6), 0x7c00);
    assert.equal(toF16(-Infinity), 0xfc00);
    assert.equal(toF16(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(toF16(2 ** -25), 0x0000); // halfway to it: ties to even, zero
    assert.equal(toF16(2 ** -25 * 1.0000001), 0x0001);
    assert.equal(toF16(3 * 2 ** -25), 0x0002); // 1.5 units: ties to even
    assert.equal(toF16(2 ** -14 - 2 ** -25), 0x0400); // rounds up out of the subnormals into the smallest normal
    assert.equal(toF16(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next half: even
    assert.equal(toF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(toF16(-0), 0x8000);
  });

  test('NaN stays NaN, keeping its sign and top payload bits; a low-payload NaN does not become infinity', () => {
    assert.equal(f32BitsToF16(0x7fc00000), 0x7e00);
    assert.equal(f32BitsToF16(0xffc00000), 0xfe00);
    assert.equal(f32BitsToF16(0x7f800001), 0x7e00);
    assert.equal(f32BitsToF16(0x7fa02000), 0x7d01);
  });

  test('quantize/dequantize as F16 go through the same conversions, 2 bytes little-endian per value', () => {
    const bytes = quantize(GgmlType.F16, new Float32Array([1, -2, 0.1, NaN]));
    assert.deepEqual([...bytes], [0x00, 0x3c, 0x00, 0xc0, 0x66, 0x2e, 0x00, 0x7e]);
    const back = dequantize(GgmlType.F16, bytes, 4);
    assert.deepEqual([...back.subarray(0, 3)], [1, -2, f16Value(0x2e66)]);
    assert.ok(Number.isNaN(back[3]));
  });

  test('decodes from an odd byte offset', () => {
    const buf = new Uint8Array(7);
    buf.set([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38], 1);
    assert.deepEqual([...dequantize(GgmlType.F16, buf.subarray(1), 3)], [1, -2, 0.5]);
  });
});

describe('BF16', () => {
  test('all 65536 patterns widen exactly and narrow back to themselves', () => {
    let bad = '';
    for (let h = 0; h < 65536 && !bad; h++) {
      const bits = bf16ToF32Bits(h);
      if (bits !== (h << 16) >>> 0) bad = `${hex(h)} widened to ${hex(bits)}`;
      else if (f32BitsToBf16(bits) !== h) bad = `${hex(h)} came back as ${hex(f32BitsToBf16(bits))}`;
    }
    assert.equal(bad, '');
  });

  test('rounds to nearest even; overflow to infinity; NaN stays NaN', () => {
    assert.equal(toBf16(1), 0x3f80);
    assert.equal(toBf16(1 + 2 ** -8), 0x3f80); // halfway: even
    assert.equal(toBf16(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(toBf16(1 + 2 ** -8 + 2 ** -20), 0x3f81);
    assert.equal(f32BitsToBf16(0x7f7fffff), 0x7f80); // largest f32 rounds to infinity
    assert.equal(f32BitsToBf16(0x00000001), 0x0000); // tiny subnormal: zero
    assert.equal(f32BitsToBf16(0x00018000), 0x0002); // subnormal tie: even
    assert.equal(f32BitsToBf16(0x7f800001), 0x7fc0); // would truncate to infinity: quiet NaN instead
    assert.equal(f32BitsToBf16(0xffc00000), 0xffc0);
    const bytes = quantize(GgmlType.BF16, new Float32Array([1, -3.5]));
    assert.deepEqual([...bytes], [0x80, 0x3f, 0x60, 0xc0]);
    assert.deepEqual([...dequantize(GgmlType.BF16, bytes, 2)], [1, -3.5]);
  });
});

test('F32 is stored as is', () => {
  const src = new Float32Array([1.5, -0, 3e-40, Infinity]);
  const bytes = quantize(GgmlType.F32, src);
  assert.deepEqual([...new Uint32Array(bytes.buffer)], [...new Uint32Array(src.buffer)]);
  assert.deepEqual([...dequantize(GgmlType.F32, bytes, 4)].map((v) => bitsOf(v)), [...new Uint32Array(src.buffer)]);
});
