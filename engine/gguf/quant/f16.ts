// IEEE 754 binary16 (F16) and bfloat16 (BF16) <-> binary32, on bit patterns so NaN payloads survive (reading a NaN
// out of a Float32Array as a JS number may canonicalize it). Narrowing rounds to nearest, ties to even; values past the
// largest finite half become infinities; values too small for a half subnormal become signed zeros. A NaN stays a NaN
// of the same sign: its top payload bits are kept, and when those are all zero the quiet bit is set so it never turns
// into an infinity. Every 16-bit pattern widens and narrows back to itself.

/** f32 bit pattern (as an unsigned 32-bit integer) -> f16 bit pattern. */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : mant >>> 13 || 0x200);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): the value in units of 2^-24 is (mant | implicit bit) >> (14 - e).
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const h = m >>> shift;
    const halfway = 1 << (shift - 1);
    return sign | (h + (((m & ((1 << shift) - 1)) + (h & 1) + halfway - 1) >>> shift));
  }
  // Round up when the dropped bits exceed half, or equal it with h odd: (rest + odd + 0xfff) >> 13 is then 1, else 0
  // (no branch: the dropped bits of real data are random, and a mispredicted branch costs more than this). A carry
  // out of the mantissa bumps the exponent, which is the right result, up to infinity.
  const h = (e << 10) | (mant >>> 13);
  return sign | (h + (((mant & 0x1fff) + (h & 1) + 0xfff) >>> 13));
}

/** f16 bit pattern -> f32 bit pattern (exact). */
export function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalize into a binary32 normal.
  let m = mant;
  let e = 113;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** f32 bit pattern -> bf16 bit pattern: the high half, rounded to nearest even. */
export function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    const hi = bits >>> 16;
    return (hi & 0x7f) === 0 ? hi | 0x40 : hi;
  }
  return ((bits >>> 0) + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** bf16 bit pattern -> f32 bit pattern (exact). */
export function bf16ToF32Bits(h: number): number {
  return (h << 16) >>> 0;
}

// Widening tables: one entry per 16-bit pattern (256 KiB each), built on first use.
let f16Table: Float32Array | undefined;

/** The f32 value of every f16 bit pattern, indexed by the pattern. */
export function f16Table32(): Float32Array {
  if (!f16Table) {
    const bits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = f16ToF32Bits(h);
    f16Table = new Float32Array(bits.buffer);
  }
  return f16Table;
}

// One-element views for moving a number in and out of its f32 bit pattern.
const oneF32 = new Float32Array(1);
const oneU32 = new Uint32Array(oneF32.buffer);

/** Number -> nearest f16 bit pattern (the number is first rounded to f32, as ggml does with a float). */
export function toF16(x: number): number {
  oneF32[0] = x;
  return f32BitsToF16(oneU32[0]);
}

/** f16 bit pattern -> number. */
export function fromF16(h: number): number {
  return f16Table32()[h & 0xffff];
}

export function toBf16(x: number): number {
  oneF32[0] = x;
  return f32BitsToBf16(oneU32[0]);
}

export function fromBf16(h: number): number {
  oneU32[0] = bf16ToF32Bits(h & 0xffff);
  return oneF32[0];
}

/** Narrows `n` f32 bit patterns from `src[srcOff..]` into f16 patterns at `dst[dstOff..]`. */
export function narrowF16(src: Uint32Array, srcOff: number, dst: Uint16Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = f32BitsToF16(src[srcOff + i]);
}

export function narrowBf16(src: Uint32Array, srcOff: number, dst: Uint16Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = f32BitsToBf16(src[srcOff + i]);
}

/** Widens `n` f16 patterns into f32 bit patterns (bits, so NaN payloads are kept). */
export function widenF16(src: Uint16Array, srcOff: number, dst: Uint32Array, dstOff: number, n: number): void {
  const table = new Uint32Array(f16Table32().buffer);
  for (let i = 0; i < n; i++) dst[dstOff + i] = table[src[srcOff + i]];
}

export function widenBf16(src: Uint16Array, srcOff: number, dst: Uint32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i] << 16;
}

/** Reads a little-endian f16 at `bytes[off]` as a number (block scales are stored this way). */
export function readF16(bytes: Uint8Array, off: number): number {
  return f16Table32()[bytes[off] | (bytes[off + 1] << 8)];
}

/** Writes `x` as a little-endian f16 at `bytes[off]` and returns the value actually stored. */
export function writeF16(bytes: Uint8Array, off: number, x: number): number {
  const h = toF16(x);
  bytes[off] = h & 0xff;
  bytes[off + 1] = h >>> 8;
  return f16Table32()[h];
}
