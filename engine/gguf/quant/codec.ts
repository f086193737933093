// What every tensor type's encoder/decoder provides, and the error a quantizer raises on values it cannot encode.
import type { GgmlType } from '../ggmlTypes';

/**
 * One ggml tensor type: `blockSize` values are packed into `typeSize` bytes. Encoders work on whole blocks and keep
 * their scratch space at module level, so a call allocates nothing per block.
 */
export interface Codec {
  type: GgmlType;
  name: string;
  blockSize: number;
  typeSize: number;
  /** Packs `nBlocks` blocks of `src` starting at value `srcOff` into `dst` starting at byte `dstOff`. */
  encode(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): void;
  /** Unpacks `nBlocks` blocks of `src` starting at byte `srcOff` into `dst` starting at value `dstOff`. */
  decode(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, nBlocks: number): void;
}

/** A value a quantized type cannot hold (NaN or an infinity): names the type, the element and the value. */
export class QuantizeError extends Error {
  constructor(
    readonly typeName: string,
    /** Index of the offending element in the tensor (row-major, as stored). */
    readonly index: number,
    readonly value: number,
  ) {
    super(
      `cannot quantize to ${typeName}: element ${index} is ${value} ` +
        '(quantized types hold finite values only; the source weights are corrupt or overflowed)',
    );
    this.name = 'QuantizeError';
  }

  /** The same error for an element `offset` places further on (a chunk quantized on its own). */
  shifted(offset: number): QuantizeError {
    return new QuantizeError(this.typeName, this.index + offset, this.value);
  }
}

/**
 * Throws QuantizeError for the first non-finite value of `src[off..off+n)`. Callers fold `x - x` into a running sum
 * (0 for finite values, NaN otherwise) in their hot loop and call this only when the sum is not 0.
 */
export function throwNonFinite(typeName: string, src: Float32Array, off: number, n: number): never {
  for (let i = off; i < off + n; i++) {
    if (!Number.isFinite(src[i])) throw new QuantizeError(typeName, i, src[i]);
  }
  throw new Error(`internal: a non-finite value was reported in elements ${off}..${off + n} of a ${typeName} block but none was found`);
}

/**
 * The value of largest magnitude among src[off..off+n), with its sign (the first such when two tie), as the
 * Q4_0/Q5_0 references take their scale from; throws QuantizeError at the first NaN or infinity.
 */
export function signedMaxAbs(typeName: string, src: Float32Array, off: number, n: number): number {
  let amax = 0;
  let max = 0;
  let bad = 0;
  for (let j = 0; j < n; j++) {
    const v = src[off + j];
    bad += v - v;
    const a = Math.abs(v);
    if (a > amax) {
      amax = a;
      max = v;
    }
  }
  if (bad !== 0) throwNonFinite(typeName, src, off, n);
  return max;
}
