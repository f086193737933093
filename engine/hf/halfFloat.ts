// 16-bit floats as safetensors stores them (little-endian): IEEE 754 binary16 (F16) and bfloat16 (BF16, the top half
// of a float32). Decoding goes through a 64K-entry table; encoding rounds to nearest, ties to even, like torch does.

let f16Table: Float32Array | undefined;

function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac ? NaN : sign * Infinity;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  f16Table = table;
  return table;
}

/** Little-endian F16 bytes to float32 values. */
export function f16BytesToF32(bytes: Uint8Array, out = new Float32Array(bytes.length >> 1)): Float32Array {
  const table = f16ToF32Table();
  for (let i = 0, j = 0; i < out.length; i++, j += 2) out[i] = table[bytes[j] | (bytes[j + 1] << 8)];
  return out;
}

/** Little-endian BF16 bytes to float32 values (exact: bf16 is a truncated float32). */
export function bf16BytesToF32(bytes: Uint8Array, out = new Float32Array(bytes.length >> 1)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) bits[i] = ((bytes[j] | (bytes[j + 1] << 8)) << 16) >>> 0;
  return out;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** One float32 to F16 bits, round to nearest even; overflow gives infinity, NaN stays NaN. */
export function f32ToF16Bits(value: number): number {
  scratch[0] = value;
  const x = scratchBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal or zero in f16: shift the full mantissa (with its implicit 1) into place and round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is the right result
  return sign | h;
}

/** One float32 to BF16 bits, round to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16Bits(value: number): number {
  scratch[0] = value;
  const x = scratchBits[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 values to little-endian F16 bytes. */
export function f32ToF16Bytes(values: Float32Array, out = new Uint8Array(values.length * 2)): Uint8Array {
  for (let i = 0, j = 0; i < values.length; i++, j += 2) {
    const h = f32ToF16Bits(values[i]);
    out[j] = h & 0xff;
    out[j + 1] = h >> 8;
  }
  return out;
}

/** float32 values to little-endian BF16 bytes. */
export function f32ToBf16Bytes(values: Float32Array, out = new Uint8Array(values.length * 2)): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0, j = 0; i < values.length; i++, j += 2) {
    const x = bits[i];
    let h: number;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) h = ((x >>> 16) | 0x40) & 0xffff;
    else h = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
    out[j] = h & 0xff;
    out[j + 1] = h >> 8;
  }
  return out;
}
