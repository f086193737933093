// Block quantizers: hand-computed blocks (byte layouts as ggml publishes them), round-trip error bounds, exactness on
// representable values, zero blocks, outliers, non-finite input, and the K-quant scale searches against a literal
// transcription of ggml's reference search.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GgmlType, ggmlTypeName, tensorByteLength } from '../../../engine/gguf/ggmlTypes';
import { fromF16, toF16 } from '../../../engine/gguf/quant/f16';
import { convert, dequantize, QuantizeError, quantize, supportedTypes } from '../../../engine/gguf/quant/index';
import { fitScaleMin, fitSymmetricScale, fitted } from '../../../engine/gguf/quant/kquant';
import { gaussian } from './gaussian';

function rmse(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return Math.sqrt(se / a.length);
}

const roundTrip = (type: GgmlType, x: Float32Array) => dequantize(type, quantize(type, x), x.length);
const le16 = (h: number) => [h & 0xff, h >>> 8];

describe('hand-computed blocks', () => {
  test('Q8_0: d = max|x| / 127 as f16, then round(x / d) with halves away from zero', () => {
    // max |x| = 127, so d = 1 (f16 0x3c00) and the quants are the values rounded.
    const x = new Float32Array(32);
    x.set([127, -127, 0, 1, -1, 2.5, -2.5, 3.49, -3.51, 0.5, -0.5, 126.4]);
    const bytes = quantize(GgmlType.Q8_0, x);
    assert.equal(bytes.length, 34);
    const q = [127, -127, 0, 1, -1, 3, -3, 3, -4, 1, -1, 126, ...new Array(20).fill(0)];
    assert.deepEqual([...bytes], [0x00, 0x3c, ...q.map((v) => v & 0xff)]);
    assert.deepEqual([...dequantize(GgmlType.Q8_0, bytes, 32)], q);
  });

  test('Q4_0: the largest-magnitude value (with its sign) is -8 d; q = min(15, trunc(x / d + 8.5)); byte j = q[j] | q[j+16] << 4', () => {
    const x = new Float32Array(32);
    // max magnitude is -8 -> d = -8 / -8 = 1.
    x.set([-8, 7, 7.9, 0, 0.49, 0.5, -0.5, -7.6, 3.2]);
    x[16] = 1;
    x[17] = -3;
    x[31] = 2.5;
    const q = [0, 15, 15, 8, 8, 9, 8, 0, 11, 8, 8, 8, 8, 8, 8, 8, 9, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 11];
    const bytes = quantize(GgmlType.Q4_0, x);
    assert.deepEqual([...bytes], [0x00, 0x3c, ...q.slice(0, 16).map((lo, j) => lo | (q[j + 16] << 4))]);
    assert.deepEqual([...dequantize(GgmlType.Q4_0, bytes, 32)], q.map((v) => v - 8));
  });

  test('Q4_0 and Q8_0 encode a negative maximum with the reference sign convention (d < 0 for Q4_0)', () => {
    const x = new Float32Array(32).fill(1);
    x[3] = -4;
    const b = quantize(GgmlType.Q4_0, x);
    assert.equal(fromF16(b[0] | (b[1] << 8)), 0.5); // -4 / -8
    const y = new Float32Array(32).fill(-1);
    y[5] = 4;
    const c = quantize(GgmlType.Q4_0, y);
    assert.equal(fromF16(c[0] | (c[1] << 8)), -0.5); // 4 / -8
    assert.deepEqual([...dequantize(GgmlType.Q4_0, c, 32)], [...y]);
  });

  test('Q5_0 and Q5_1 decode fifth bits from a little-endian u32 (bit j: value j, bit j+16: value j+16)', () => {
    // Q5_0: d = 0.5, qh with bits 0 and 17 set, nibbles all 0x21 (value j: 1, value j+16: 2).
    const q5_0 = new Uint8Array(22);
    q5_0.set([...le16(toF16(0.5)), 0x01, 0x00, 0x02, 0x00]);
    q5_0.fill(0x21, 6);
    const v0 = dequantize(GgmlType.Q5_0, q5_0, 32);
    assert.equal(v0[0], (17 - 16) * 0.5);
    assert.equal(v0[1], (1 - 16) * 0.5);
    assert.equal(v0[16], (2 - 16) * 0.5);
    assert.equal(v0[17], (18 - 16) * 0.5);
    // Q5_1: d = 0.25, m = -2, qh bit 31 set, nibbles 0xf3.
    const q5_1 = new Uint8Array(24);
    q5_1.set([...le16(toF16(0.25)), ...le16(toF16(-2)), 0x00, 0x00, 0x00, 0x80]);
    q5_1.fill(0xf3, 8);
    const v1 = dequantize(GgmlType.Q5_1, q5_1, 32);
    assert.equal(v1[0], 3 * 0.25 - 2);
    assert.equal(v1[16], 15 * 0.25 - 2);
    assert.equal(v1[31], 31 * 0.25 - 2);
    // And both encode values on their grids exactly, bytes included.
    const x = Float32Array.from({ length: 32 }, (_, i) => (i - 16) * 0.5);
    const e0 = quantize(GgmlType.Q5_0, x);
    assert.deepEqual([...e0.subarray(0, 2)], le16(toF16(0.5)));
    assert.deepEqual([...e0.subarray(2, 6)], [0x00, 0x00, 0xff, 0xff]); // values 16..31 have q >= 16
    assert.deepEqual([...dequantize(GgmlType.Q5_0, e0, 32)], [...x]);
    const y = Float32Array.from({ length: 32 }, (_, i) => i * 0.25 - 2);
    assert.deepEqual([...dequantize(GgmlType.Q5_1, quantize(GgmlType.Q5_1, y), 32)], [...y]);
  });

  // Eight 6-bit scales and mins chosen to use the high bits, and their 12 packed bytes worked out by hand from the
  // layout (j < 4: scale in byte j, min in byte j+4, low 6 bits; j >= 4: low nibbles in byte j+4, high 2 bits in the
  // top of bytes j-4 (scale) and j (min)).
  const ls = [1, 2, 63, 17, 33, 48, 5, 60];
  const lm = [0, 63, 16, 31, 32, 47, 1, 2];
  const packed = [
    1 | (2 << 6), // scale 0 | high bits of scale 4 (33 >> 4 = 2)
    2 | (3 << 6), // scale 1 | 48 >> 4 = 3
    63 | (0 << 6), // scale 2 | 5 >> 4 = 0
    17 | (3 << 6), // scale 3 | 60 >> 4 = 3
    0 | (2 << 6), // min 0 | 32 >> 4 = 2
    63 | (2 << 6), // min 1 | 47 >> 4 = 2
    16 | (0 << 6), // min 2 | 1 >> 4 = 0
    31 | (0 << 6), // min 3 | 2 >> 4 = 0
    (33 & 15) | ((32 & 15) << 4),
    (48 & 15) | ((47 & 15) << 4),
    (5 & 15) | ((1 & 15) << 4),
    (60 & 15) | ((2 & 15) << 4),
  ];

  test('Q4_K: d, dmin, packed 6-bit scales/mins, then nibbles (low: values 64g+i, high: 64g+32+i)', () => {
    const block = new Uint8Array(144);
    block.set([...le16(toF16(0.5)), ...le16(toF16(0.25)), ...packed]);
    for (let i = 0; i < 128; i++) block[16 + i] = (i * 7 + 3) & 0xff;
    const v = dequantize(GgmlType.Q4_K, block, 256);
    for (let e = 0; e < 256; e++) {
      const j = e >> 5; // sub-block
      const g = e >> 6;
      const p = e & 63;
      const byte = block[16 + 32 * g + (p & 31)];
      const q = p < 32 ? byte & 15 : byte >> 4;
      assert.equal(v[e], 0.5 * ls[j] * q - 0.25 * lm[j], `value ${e}`);
    }
  });

  test('Q5_K: like Q4_K plus 32 bytes of fifth bits (bit 2g: value 64g+i, bit 2g+1: value 64g+32+i)', () => {
    const block = new Uint8Array(176);
    block.set([...le16(toF16(0.125)), ...le16(toF16(1)), ...packed]);
    for (let i = 0; i < 32; i++) block[16 + i] = (i * 37 + 11) & 0xff;
    for (let i = 0; i < 128; i++) block[48 + i] = (i * 13 + 5) & 0xff;
    const v = dequantize(GgmlType.Q5_K, block, 256);
    for (let e = 0; e < 256; e++) {
      const j = e >> 5;
      const g = e >> 6;
      const p = e & 63;
      const byte = block[48 + 32 * g + (p & 31)];
      const high = (block[16 + (p & 31)] >> (2 * g + (p < 32 ? 0 : 1))) & 1;
      const q = (p < 32 ? byte & 15 : byte >> 4) + 16 * high;
      assert.equal(v[e], Math.fround(0.125 * ls[j] * q - lm[j]), `value ${e}`);
    }
  });

  test('Q6_K: 128 bytes low nibbles, 64 bytes 2-bit highs, 16 int8 scales, f16 d at the end', () => {
    const block = new Uint8Array(210);
    for (let i = 0; i < 128; i++) block[i] = (i * 29 + 7) & 0xff;
    for (let i = 0; i < 64; i++) block[128 + i] = (i * 53 + 1) & 0xff;
    const scales = [1, -1, 127, -128, 5, 64, -7, 3, 2, -2, 100, -100, 9, 17, -33, 0];
    scales.forEach((s, i) => (block[192 + i] = s & 0xff));
    block.set(le16(toF16(0.0625)), 208);
    const v = dequantize(GgmlType.Q6_K, block, 256);
    for (let e = 0; e < 256; e++) {
      const h = e >> 7; // 128-value half
      const r = e & 127;
      const l = r & 31;
      const quarter = r >> 5; // 0..3
      const lowByte = block[64 * h + l + (quarter & 1 ? 32 : 0)];
      const low = quarter < 2 ? lowByte & 15 : lowByte >> 4;
      const high = (block[128 + 32 * h + l] >> (2 * quarter)) & 3;
      const q = (low | (high << 4)) - 32;
      assert.equal(v[e], Math.fround(0.0625 * scales[e >> 4] * q), `value ${e}`);
    }
  });
});

describe('round trips on gaussian data', () => {
  const x = gaussian(1 << 16, 42);
  const err = new Map(supportedTypes.map((t) => [t, rmse(x, roundTrip(t, x))]));
  const e = (t: GgmlType) => err.get(t)!;

  test('error bounds per type (sigma = 1)', () => {
    const bounds: [GgmlType, number][] = [
      [GgmlType.F32, 0],
      [GgmlType.F16, 0.0003],
      [GgmlType.BF16, 0.0025],
      [GgmlType.Q8_0, 0.0065],
      [GgmlType.Q6_K, 0.019],
      [GgmlType.Q5_K, 0.038],
      [GgmlType.Q5_1, 0.04],
      [GgmlType.Q5_0, 0.045],
      [GgmlType.Q4_K, 0.074],
      [GgmlType.Q4_0, 0.09],
    ];
    for (const [t, bound] of bounds) assert.ok(e(t) <= bound, `${ggmlTypeName(t)} RMSE ${e(t)} > ${bound}`);
  });

  test('more bits, less error: Q8_0 < Q6_K < Q5_K < Q4_K < Q4_0, and K-quants beat the 32-blocks of the same width', () => {
    const order = [GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q5_K, GgmlType.Q4_K, GgmlType.Q4_0];
    for (let i = 1; i < order.length; i++) {
      assert.ok(e(order[i - 1]) < e(order[i]), `${ggmlTypeName(order[i - 1])} ${e(order[i - 1])} vs ${ggmlTypeName(order[i])} ${e(order[i])}`);
    }
    assert.ok(e(GgmlType.Q4_K) < 0.9 * e(GgmlType.Q4_0));
    assert.ok(e(GgmlType.Q5_K) < e(GgmlType.Q5_1));
  });

  test('Q8_0 relative RMSE is under 1%', () => {
    let sx = 0;
    for (const v of x) sx += v * v;
    assert.ok(e(GgmlType.Q8_0) / Math.sqrt(sx / x.length) < 0.01);
  });

  test('sizes are ggml type sizes', () => {
    for (const t of supportedTypes) assert.equal(quantize(t, x).length, tensorByteLength(t, x.length), ggmlTypeName(t));
  });

  test('weights of a typical size (sigma 1/32) quantize with the same relative error', () => {
    // Scales are f16: much smaller weights lose precision once block scales become f16 subnormals, as in ggml.
    const small = x.map((v) => v / 32);
    for (const t of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const rel = rmse(small, roundTrip(t, small)) * 32;
      assert.ok(Math.abs(rel - e(t)) < 0.05 * e(t), `${ggmlTypeName(t)}: ${rel} vs ${e(t)}`);
    }
  });
});

describe('exact values', () => {
  test('values on a type grid come back exactly', () => {
    const n = 512;
    // Q8_0: q * 0.25 with |q| <= 127 and 127 present in each block.
    const q8 = Float32Array.from({ length: n }, (_, i) => (i % 32 === 0 ? 127 : ((i * 37) % 255) - 127) * 0.25);
    assert.deepEqual([...roundTrip(GgmlType.Q8_0, q8)], [...q8]);
    // Q4_0: (q - 8) * 0.5 with -8 present in each block.
    const q4 = Float32Array.from({ length: n }, (_, i) => (i % 32 === 5 ? -8 : ((i * 5) % 16) - 8) * 0.5);
    assert.deepEqual([...roundTrip(GgmlType.Q4_0, q4)], [...q4]);
    // Q4_K / Q5_K: l * s - m per sub-block with both ends of 0..nmax present; s = 63 * 2^-6 and m = 63 * 2^-7 make the
    // 6-bit scales 63 and d, dmin powers of two.
    for (const [t, nmax] of [
      [GgmlType.Q4_K, 15],
      [GgmlType.Q5_K, 31],
    ] as const) {
      const v = Float32Array.from({ length: n }, (_, i) => {
        const l = i % 32 === 0 ? 0 : i % 32 === 1 ? nmax : (i * 7) % (nmax + 1);
        return l * (63 / 64) - 63 / 128;
      });
      assert.deepEqual([...roundTrip(t, v)], [...v], ggmlTypeName(t));
    }
    // Q6_K: l * 2^-3 with l in -32..31 and -32 present in each 16 values.
    const q6 = Float32Array.from({ length: n }, (_, i) => (i % 16 === 3 ? -32 : ((i * 11) % 64) - 32) / 8);
    assert.deepEqual([...roundTrip(GgmlType.Q6_K, q6)], [...q6]);
  });

  test('all-zero blocks decode to zeros (with d = 0, Q4_0 and Q5_0 store their zero point, as ggml does)', () => {
    const zeros = new Float32Array(256);
    for (const t of supportedTypes) {
      const bytes = quantize(t, zeros);
      assert.ok(
        dequantize(t, bytes, 256).every((v) => v === 0),
        ggmlTypeName(t),
      );
      // Their d is 0 / -8 (or -16), a negative zero: f16 0x8000.
      const expected = (i: number) =>
        t === GgmlType.Q4_0
          ? [0x00, 0x80][i % 18] ?? 0x88
          : t === GgmlType.Q5_0
            ? [0x00, 0x80, 0xff, 0xff, 0xff, 0xff][i % 22] ?? 0
            : 0;
      assert.ok(
        bytes.every((b, i) => b === expected(i)),
        `${ggmlTypeName(t)} bytes`,
      );
    }
  });

  test('a constant block decodes to the constant (within f16 precision)', () => {
    for (const c of [3, -3]) {
      const v = new Float32Array(256).fill(c);
      for (const t of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
        const back = roundTrip(t, v);
        assert.ok(back.every((y) => Math.abs(y - c) < 3e-3), `${ggmlTypeName(t)} ${c}: ${back[0]}`);
      }
    }
  });
});

describe('outliers and bad input', () => {
  test('one huge outlier is kept, and blocks are quantized independently of their neighbours', () => {
    const x = gaussian(1024, 9, 0.02);
    const spiked = x.slice();
    spiked[300] = 1e4;
    for (const t of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const plain = quantize(t, x);
      const spikedBytes = quantize(t, spiked);
      const back = dequantize(t, spikedBytes, spiked.length);
      assert.ok(Math.abs(back[300] - 1e4) / 1e4 < 0.01, `${ggmlTypeName(t)}: outlier came back as ${back[300]}`);
      // Only the bytes of the block holding the outlier change.
      const blockValues = t === GgmlType.Q4_K || t === GgmlType.Q5_K || t === GgmlType.Q6_K ? 256 : 32;
      const size = tensorByteLength(t, blockValues);
      const hit = Math.floor(300 / blockValues);
      for (let b = 0; b < 1024 / blockValues; b++) {
        const same = Buffer.compare(plain.subarray(b * size, (b + 1) * size), spikedBytes.subarray(b * size, (b + 1) * size)) === 0;
        assert.equal(same, b !== hit, `${ggmlTypeName(t)} block ${b}`);
      }
    }
  });

  test('NaN or infinity cannot be quantized: QuantizeError names the type, the element and the value', () => {
    const x = gaussian(512, 3);
    x[333] = NaN;
    for (const t of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      assert.throws(
        () => quantize(t, x),
        (err: unknown) => err instanceof QuantizeError && err.index === 333 && Number.isNaN(err.value) && err.typeName === ggmlTypeName(t),
      );
    }
    const y = gaussian(512, 4);
    y[511] = -Infinity;
    assert.throws(() => quantize(GgmlType.Q4_K, y), {
      name: 'QuantizeError',
      message: /^cannot quantize to Q4_K: element 511 is -Infinity \(quantized types hold finite values only/,
    });
    // Float types carry NaN and infinities through.
    assert.ok(Number.isNaN(roundTrip(GgmlType.F16, x)[333]));
    assert.equal(roundTrip(GgmlType.BF16, y)[511], -Infinity);
  });

  test('counts that are not whole blocks, short buffers and unknown types are refused with what to do', () => {
    assert.throws(() => quantize(GgmlType.Q4_K, new Float32Array(100)), /Q4_K stores blocks of 256 values; 100 values is not a whole number of blocks/);
    assert.throws(() => dequantize(GgmlType.Q8_0, new Uint8Array(33), 32), /Q8_0: 32 values take 34 bytes, only 33 given/);
    assert.throws(() => quantize(GgmlType.IQ2_XXS, new Float32Array(256)), /no quantizer for ggml type IQ2_XXS; supported: F32, F16, BF16, Q8_0/);
  });
});

describe('convert between types', () => {
  test('F16 and BF16 sources give what quantizing their f32 values gives, across the internal step size', () => {
    const x = gaussian(40000 - 64, 5); // not a multiple of the 16384-value step; a multiple of 32 (not of 256)
    const f16 = quantize(GgmlType.F16, x);
    const bf16 = quantize(GgmlType.BF16, x);
    for (const to of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16, GgmlType.F32, GgmlType.BF16]) {
      assert.deepEqual(convert(GgmlType.F16, to, f16), quantize(to, dequantize(GgmlType.F16, f16, x.length)), ggmlTypeName(to));
      assert.deepEqual(convert(GgmlType.BF16, to, bf16), quantize(to, dequantize(GgmlType.BF16, bf16, x.length)), ggmlTypeName(to));
    }
    const y = gaussian(65536 + 256, 6);
    const yf16 = quantize(GgmlType.F16, y);
    assert.deepEqual(convert(GgmlType.F16, GgmlType.Q4_K, yf16), quantize(GgmlType.Q4_K, dequantize(GgmlType.F16, yf16, y.length)));
  });

  test('a non-finite value is reported at its index in the whole tensor', () => {
    const x = gaussian(50000 - 80, 8);
    x[40001] = Infinity;
    assert.throws(() => convert(GgmlType.F32, GgmlType.Q8_0, new Uint8Array(x.buffer)), (err: unknown) => err instanceof QuantizeError && err.index === 40001);
  });
});

// ggml's reference searches transcribed literally (make_qkx2_quants with weights rms + |x|, make_qx_quants with x^2
// weights), in doubles, to check the one-pass versions against.
function referenceScaleMin(x: Float32Array, off: number, nmax: number, rmin: number, rdelta: number, nstep: number): [number, number] {
  let sumX2 = 0;
  for (let i = 0; i < 32; i++) sumX2 += x[off + i] ** 2;
  const av = Math.sqrt(sumX2 / 32);
  const w = Array.from({ length: 32 }, (_, i) => av + Math.abs(x[off + i]));
  let min = Math.min(...x.subarray(off, off + 32));
  const max = Math.max(...x.subarray(off, off + 32));
  let sumW = 0;
  let sumX = 0;
  for (let i = 0; i < 32; i++) {
    sumW += w[i];
    sumX += w[i] * x[off + i];
  }
  if (min > 0) min = 0;
  if (max === min) return [0, -min];
  let iscale = nmax / (max - min);
  let scale = 1 / iscale;
  let best = 0;
  for (let i = 0; i < 32; i++) {
    const l = Math.max(0, Math.min(nmax, Math.round(iscale * (x[off + i] - min))));
    best += w[i] * (scale * l + min - x[off + i]) ** 2;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    const L = Array.from({ length: 32 }, (_, i) => Math.max(0, Math.min(nmax, Math.round(iscale * (x[off + i] - min)))));
    let sl = 0;
    let sl2 = 0;
    let sxl = 0;
    for (let i = 0; i < 32; i++) {
      sl += w[i] * L[i];
      sl2 += w[i] * L[i] * L[i];
      sxl += w[i] * L[i] * x[off + i];
    }
    const D = sumW * sl2 - sl * sl;
    if (D > 0) {
      let s = (sumW * sxl - sumX * sl) / D;
      let m = (sl2 * sumX - sl * sxl) / D;
      if (m > 0) {
        m = 0;
        s = sxl / sl2;
      }
      let err = 0;
      for (let i = 0; i < 32; i++) err += w[i] * (s * L[i] + m - x[off + i]) ** 2;
      if (err < best) {
        best = err;
        scale = s;
        min = m;
      }
    }
  }
  return [scale, -min];
}

function referenceSymmetric(x: Float32Array, off: number, n: number, nmax: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    if (Math.abs(x[off + i]) > amax) {
      amax = Math.abs(x[off + i]);
      max = x[off + i];
    }
  }
  if (amax < 1e-15) return 0;
  const sums = (iscale: number) => {
    let sumlx = 0;
    let suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[off + i];
      const l = Math.max(-nmax, Math.min(nmax - 1, Math.round(iscale * v)));
      sumlx += v * v * v * l;
      suml2 += v * v * l * l;
    }
    return [sumlx, suml2];
  };
  let [sumlx, suml2] = sums(-nmax / max);
  let scale = suml2 ? sumlx / suml2 : 0;
  let best = scale * sumlx;
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    [sumlx, suml2] = sums(-(nmax + 0.1 * is) / max);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

/** Weighted error of quantizing a sub-block with (scale, min), l rounded and clamped to 0..nmax. */
function subBlockError(x: Float32Array, off: number, scale: number, min: number, nmax: number): number {
  let sumX2 = 0;
  for (let i = 0; i < 32; i++) sumX2 += x[off + i] ** 2;
  const av = Math.sqrt(sumX2 / 32);
  let err = 0;
  for (let i = 0; i < 32; i++) {
    const v = x[off + i];
    const l = scale > 0 ? Math.max(0, Math.min(nmax, Math.round((v + min) / scale))) : 0;
    err += (av + Math.abs(v)) * (scale * l - min - v) ** 2;
  }
  return err;
}

describe('K-quant scale searches against ggml reference searches', () => {
  test('Q6_K: the one-pass symmetric search picks the reference scale', () => {
    const x = gaussian(16 * 2000, 11);
    let same = 0;
    for (let off = 0; off < x.length; off += 16) {
      const block = x.subarray(off, off + 16);
      const want = referenceSymmetric(x, off, 16, 32);
      const got = fitSymmetricScale(x, off, 16, 32, Math.min(...block), Math.max(...block));
      if (Math.abs(got - want) <= 1e-12 * Math.abs(want)) same++;
    }
    // Identical except where a value sits exactly on a rounding boundary of a grid step.
    assert.ok(same >= 1995, `${same} of 2000 sub-blocks agree`);
  });

  for (const [name, nmax, rmin, nstep] of [
    ['Q4_K', 15, -1, 20],
    ['Q5_K', 31, -0.5, 15],
  ] as const) {
    test(`${name}: the two-sweep search is as good as the reference search over many sub-blocks`, () => {
      const x = gaussian(32 * 4000, nmax);
      let ours = 0;
      let theirs = 0;
      for (let off = 0; off < x.length; off += 32) {
        const block = x.subarray(off, off + 32);
        let sumX2 = 0;
        for (const v of block) sumX2 += v * v;
        fitScaleMin(x, off, sumX2, Math.min(...block), Math.max(...block), nmax, rmin, 0.1, nstep);
        ours += subBlockError(x, off, fitted[0], fitted[1], nmax);
        const [s, m] = referenceScaleMin(x, off, nmax, rmin, 0.1, nstep);
        theirs += subBlockError(x, off, s, m, nmax);
      }
      assert.ok(ours <= theirs * 1.002, `weighted error ${ours} vs reference ${theirs}`);
    });
  }
});
