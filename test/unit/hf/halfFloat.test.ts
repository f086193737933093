import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bf16BytesToF32, f16BytesToF32, f32ToBf16Bits, f32ToBf16Bytes, f32ToF16Bits, f32ToF16Bytes } from '../../../engine/hf/halfFloat';

function f16(bits: number): number {
  return f16BytesToF32(new Uint8Array([bits & 0xff, bits >> 8]))[0];
}

test('F16 decoding of known values: one, max, smallest subnormal, infinities, NaN', () => {
  assert.equal(f16(0x3c00), 1);
  assert.equal(f16(0xc000), -2);
  assert.equal(f16(0x7bff), 65504);
  assert.equal(f16(0x0001), 2 ** -24);
  assert.equal(f16(0x0400), 2 ** -14);
  assert.equal(f16(0x7c00), Infinity);
  assert.equal(f16(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16(0x7e00)));
  assert.ok(Object.is(f16(0x8000), -0));
});

test('every non-NaN F16 value encodes back to its own bits', () => {
  let worst = -1;
  for (let h = 0; h < 65536; h++) {
    const v = f16(h);
    if (Number.isNaN(v)) {
      assert.ok((f32ToF16Bits(v) & 0x7c00) === 0x7c00 && (f32ToF16Bits(v) & 0x3ff) !== 0, `NaN ${h.toString(16)} stays NaN`);
      continue;
    }
    if (f32ToF16Bits(v) !== h) worst = h;
  }
  assert.equal(worst, -1, `first F16 pattern that does not survive: 0x${worst.toString(16)}`);
});

// Reference: the nearest F16 by searching the sorted table of finite non-negative F16 values, ties to even bits.
const positives = Array.from({ length: 0x7c00 }, (_, h) => f16(h));
function nearestF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // halfway between max and the next power of two rounds to infinity
  let lo = 0;
  let hi = positives.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (positives[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - positives[lo];
  const dh = positives[hi] - a;
  const h = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  return sign | h;
}

test('F16 encoding rounds to the nearest value, ties to even (property, against a table search)', () => {
  fc.assert(
    fc.property(fc.float({ noNaN: true, min: -70000, max: 70000 }), (x) => {
      assert.equal(f32ToF16Bits(x), nearestF16(Math.fround(x)), `value ${x}`);
    }),
    { numRuns: 20000 },
  );
  // Exact halfway cases between neighbours, in the normal and the subnormal range.
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie, even below
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, even above
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // half the smallest subnormal: ties to zero
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002);
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00);
});

test('BF16: top half of float32, round to nearest even, NaN stays NaN', () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie, even below
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie, even above
  assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.equal(f32ToBf16Bits(-Infinity), 0xff80);
  assert.equal(f32ToBf16Bits(NaN) & 0x7fc0, 0x7fc0);
  const values = new Float32Array([0.1, -3.5, 1e30, -1e-30, 65504, 0]);
  const back = bf16BytesToF32(f32ToBf16Bytes(values));
  values.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= Math.abs(v) * 2 ** -8, `${v} -> ${back[i]}`));
  assert.deepEqual(
    Array.from(values, (v) => f32ToBf16Bits(v)),
    Array.from(new Uint16Array(f32ToBf16Bytes(values).buffer)),
  );
});

test('F16 byte arrays are little-endian and agree with the scalar encoder', () => {
  const values = new Float32Array([1, -2, 0.333, 65504]);
  const bytes = f32ToF16Bytes(values);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x3c, 0x00, 0xc0]);
  assert.deepEqual(Array.from(new Uint16Array(bytes.buffer)), Array.from(values, (v) => f32ToF16Bits(v)));
});
