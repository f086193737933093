// QLoRA's frozen base: Linear weights [out, in] stored 4-bit in blocks of 32 along `in` (one float32 scale per
// block, zero point 8: w ≈ (q − 8) · scale, q in 0..15), run by onnxruntime's com.microsoft MatMulNBits in the
// forward (accuracy_level 0: float32 activations, exact up to the quantization) and by an int4 DequantizeLinear + Gemm
// for dx in the backward (re-quantizing Wᵀ for a second MatMulNBits would add 7% error to dx).

import { attr, DataType, type GraphBuilder } from './onnx/builder';
import type { BaseLinear } from './graphs/ops';
import { weightSourceFromMap, type WeightSource } from '../model/weights';

export const qloraBlock = 32;

export interface Quantized4 {
  outDim: number;
  inDim: number;
  /** [out, in / 32, 16]: q of element k in byte k/2, low nibble for even k (MatMulNBits' B). */
  packed: Uint8Array;
  /** [out, in / 32] */
  scales: Float32Array;
}

/** Blockwise 4-bit quantization with the scale amax / 7 (round to nearest, q − 8 clamped to [−8, 7]). */
export function quantize4(w: Float32Array, outDim: number, inDim: number): Quantized4 {
  if (inDim % qloraBlock !== 0) throw new RangeError(`4-bit blocks of ${qloraBlock} need an input size that is a multiple of ${qloraBlock}, found ${inDim}`);
  const blocks = inDim / qloraBlock;
  const packed = new Uint8Array((outDim * inDim) / 2);
  const scales = new Float32Array(outDim * blocks);
  for (let o = 0; o < outDim; o++) {
    for (let b = 0; b < blocks; b++) {
      const start = o * inDim + b * qloraBlock;
      let amax = 0;
      for (let i = 0; i < qloraBlock; i++) amax = Math.max(amax, Math.abs(w[start + i]));
      const scale = Math.fround(amax / 7);
      scales[o * blocks + b] = scale;
      for (let i = 0; i < qloraBlock; i++) {
        const q = scale === 0 ? 8 : Math.min(15, Math.max(0, Math.round(w[start + i] / scale) + 8));
        const at = start + i;
        packed[at >> 1] |= (at & 1 ? q << 4 : q) & 0xff;
      }
    }
  }
  return { outDim, inDim, packed, scales };
}

/** The float32 weights a Quantized4 stands for. */
export function dequantize4(q: Quantized4): Float32Array {
  const blocks = q.inDim / qloraBlock;
  const w = new Float32Array(q.outDim * q.inDim);
  for (let i = 0; i < w.length; i++) {
    const nib = i & 1 ? q.packed[i >> 1] >> 4 : q.packed[i >> 1] & 15;
    const o = Math.floor(i / q.inDim);
    w[i] = (nib - 8) * q.scales[o * blocks + Math.floor((i % q.inDim) / qloraBlock)];
  }
  return w;
}

/** A BaseLinear over a 4-bit weight (the builder's `baseLinear` for TrainModel). */
export function qloraLinear(g: GraphBuilder, name: string, w: Float32Array, outDim: number, inDim: number, bias?: Float32Array): BaseLinear {
  const q = quantize4(w, outDim, inDim);
  const blocks = inDim / qloraBlock;
  g.useDomain('com.microsoft', 1);
  // The packed blocks are added on first use: a backward graph that takes saved activations never runs the forward.
  let packed: string | undefined;
  const scales = g.initializer(`${name}.weight.scales`, q.scales, [outDim, blocks]);
  const bName = bias ? g.initializer(`${name}.bias`, bias, [outDim]) : undefined;
  let dense: string | undefined;
  return {
    forward: (g, x) => {
      packed ??= g.initializer(`${name}.weight.q4`, q.packed, [outDim, blocks, qloraBlock / 2], DataType.UINT8);
      const y = g.op('MatMulNBits', [x, packed, scales], {
        K: attr.int(inDim),
        N: attr.int(outDim),
        bits: attr.int(4),
        block_size: attr.int(qloraBlock),
        accuracy_level: attr.int(0),
      }, 'com.microsoft');
      return bName ? g.op('Add', [y, bName]) : y;
    },
    backward: (g, dy) => {
      if (!dense) {
        // int4 holds q − 8 in two's complement: the same nibbles with the top bit flipped.
        const int4 = q.packed.map((b) => b ^ 0x88);
        const data = g.initializer(`${name}.weight.int4`, int4, [outDim, inDim], DataType.INT4);
        dense = g.op('DequantizeLinear', [data, scales], { axis: attr.int(1), block_size: attr.int(qloraBlock) });
      }
      return g.op('Gemm', [dy, dense]);
    },
  };
}

/** The model's weights with every per-layer Linear replaced by its 4-bit round trip (the QLoRA reference). */
export function dequantizedLinears(weights: WeightSource): WeightSource {
  const map = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const name of weights.names()) {
    const shape = weights.shape(name);
    const data = weights.get(name);
    if (/^model\.layers\.\d+\.(self_attn|mlp)\.[a-z_]+_proj\.weight$/.test(name)) {
      map.set(name, { data: dequantize4(quantize4(data, shape[0], shape[1])), shape });
    } else map.set(name, { data, shape });
  }
  return weightSourceFromMap(map);
}
