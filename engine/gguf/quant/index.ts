// Quantizers and dequantizers keyed by ggml type, over whole tensors (rows laid end to end, as GGUF stores them).
import { GgmlType, ggmlTypeName } from '../ggmlTypes';
import { type Codec, QuantizeError } from './codec';
import { bf16Codec, f16Codec, f32Codec } from './float';
import { q4_0Codec } from './q4_0';
import { q4_KCodec } from './q4_k';
import { q5_0Codec } from './q5_0';
import { q5_1Codec } from './q5_1';
import { q5_KCodec } from './q5_k';
import { q6_KCodec } from './q6_k';
import { q8_0Codec } from './q8_0';
import { activeNativeQuant } from './native';
import { nativeCodecs } from './nativeCodecs';

export { QuantizeError } from './codec';
export type { Codec } from './codec';

// GGUF data is little-endian and the codecs view it through typed arrays, which use the host's byte order.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('the GGUF quantizers need a little-endian host (typed arrays are read in host byte order)');
}

/** The TypeScript codecs: the reference, and what runs when the native kernels are absent or disabled. */
export const jsCodecs: ReadonlyMap<GgmlType, Codec> = new Map<GgmlType, Codec>(
  [f32Codec, f16Codec, bf16Codec, q8_0Codec, q4_0Codec, q5_0Codec, q5_1Codec, q4_KCodec, q5_KCodec, q6_KCodec].map((c) => [
    c.type,
    c,
  ]),
);

// The native kernels (dist/native/quant.node) take over the types they have, when they load and
// TAXONOMY_STUDIO_NATIVE is not 0; they give the same bytes, faster.
const native = activeNativeQuant();
const codecs = new Map<GgmlType, Codec>(jsCodecs);
if (native) for (const [type, c] of nativeCodecs(native)) codecs.set(type, c);

/** 'native' when the native kernels are in use for F16, Q8_0, Q4_0 and the K-quants, else 'js'. */
export const quantBackend: 'native' | 'js' = native ? 'native' : 'js';

/** The types this module can write and read. */
export const supportedTypes: readonly GgmlType[] = [...codecs.keys()];

export function isSupportedType(type: number): type is GgmlType {
  return codecs.has(type);
}

/** The codec of `type`; throws naming the supported types when there is none. */
export function codecFor(type: number): Codec {
  const c = codecs.get(type);
  if (!c) {
    throw new Error(
      `no quantizer for ggml type ${ggmlTypeName(type)}; supported: ${supportedTypes.map((t) => ggmlTypeName(t)).join(', ')}`,
    );
  }
  return c;
}

function checkCount(c: Codec, count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new Error(`element count must be a non-negative integer, got ${count}`);
  if (count % c.blockSize !== 0) {
    throw new Error(
      `${c.name} stores blocks of ${c.blockSize} values; ${count} values is not a whole number of blocks ` +
        '(rows must be a multiple of the block size: pick a type with smaller blocks for this tensor)',
    );
  }
}

/** Bytes `count` values of `type` take. */
export function encodedByteLength(type: GgmlType, count: number): number {
  const c = codecFor(type);
  checkCount(c, count);
  return (count / c.blockSize) * c.typeSize;
}

/** Encodes `src` as `type` into `dst` (which must hold encodedByteLength(type, src.length) bytes from `dstOff`). */
export function quantizeInto(type: GgmlType, src: Float32Array, dst: Uint8Array, dstOff = 0): void {
  const c = codecFor(type);
  checkCount(c, src.length);
  const need = (src.length / c.blockSize) * c.typeSize;
  if (dst.length - dstOff < need) throw new Error(`${c.name}: destination holds ${dst.length - dstOff} bytes, ${need} needed`);
  c.encode(src, 0, dst, dstOff, src.length / c.blockSize);
}

/** Encodes `src` as `type`. Throws QuantizeError for a NaN or infinite value when `type` is quantized. */
export function quantize(type: GgmlType, src: Float32Array): Uint8Array {
  const out = new Uint8Array(encodedByteLength(type, src.length));
  quantizeInto(type, src, out);
  return out;
}

/** Decodes `count` values of `type` from the start of `bytes`. */
export function dequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const c = codecFor(type);
  checkCount(c, count);
  const need = (count / c.blockSize) * c.typeSize;
  if (bytes.length < need) {
    throw new Error(`${c.name}: ${count} values take ${need} bytes, only ${bytes.length} given`);
  }
  const out = new Float32Array(count);
  c.decode(bytes, 0, out, 0, count / c.blockSize);
  return out;
}

/** Values converted per step by `convert`: a multiple of every block size, small enough to stay in cache. */
export const CONVERT_STEP = 16384;
const stepBuf = new Float32Array(CONVERT_STEP);

/**
 * Re-encodes tensor data from one type to another (F16 safetensors weights to Q4_K, say) a few thousand values at a
 * time, so no f32 copy of the whole tensor is made. The result is what quantize(to, dequantize(from, bytes)) gives;
 * it is written to `dst` at `dstOff` when given (and `dst` returned), else to a new array. Reusing one `dst` across
 * tensors saves the page faults of fresh memory.
 */
export function convert(from: GgmlType, to: GgmlType, bytes: Uint8Array, dst?: Uint8Array, dstOff = 0): Uint8Array {
  const cf = codecFor(from);
  const ct = codecFor(to);
  if (bytes.length % cf.typeSize !== 0) {
    throw new Error(`${cf.name} data is ${cf.typeSize}-byte blocks; ${bytes.length} bytes is not a whole number of them`);
  }
  const count = (bytes.length / cf.typeSize) * cf.blockSize;
  checkCount(ct, count);
  const outLen = (count / ct.blockSize) * ct.typeSize;
  const out = dst ?? new Uint8Array(outLen);
  if (out.length - dstOff < outLen) throw new Error(`${ct.name}: destination holds ${out.length - dstOff} bytes, ${outLen} needed`);
  if (from === to) {
    out.set(bytes, dstOff);
    return out;
  }
  for (let done = 0; done < count; done += CONVERT_STEP) {
    const n = Math.min(CONVERT_STEP, count - done);
    const vals = n === CONVERT_STEP ? stepBuf : stepBuf.subarray(0, n);
    cf.decode(bytes, (done / cf.blockSize) * cf.typeSize, vals, 0, n / cf.blockSize);
    try {
      ct.encode(vals, 0, out, dstOff + (done / ct.blockSize) * ct.typeSize, n / ct.blockSize);
    } catch (err) {
      throw err instanceof QuantizeError ? err.shifted(done) : err;
    }
  }
  return out;
}
