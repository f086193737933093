// Forward and backward pieces of a llama decoder layer as ONNX inference ops (onnxruntime has no gradient ops):
// RMSNorm, linear layers with LoRA, rotary embeddings in transformers' rotate_half layout, grouped-query attention
// and SwiGLU. Activations are 2-D [N = batch·seq, features] except inside attention ([B, heads, T, headDim]).

import { attr, GraphBuilder } from '../onnx/builder';

/** RMSNorm: y = w · x / sqrt(mean(x²) + eps). Returns y and inv = 1/sqrt(mean(x²) + eps) ([N, 1]). */
export function rmsNorm(g: GraphBuilder, x: string, w: string, eps: number): { y: string; inv: string } {
  // SimplifiedLayerNormalization runs only in the default domain on ORT's CPU provider; its second output is inv.
  const [y, inv] = g.node('SimplifiedLayerNormalization', [x, w], { axis: attr.int(-1), epsilon: attr.float(eps) }, { outputs: 2 });
  return { y, inv };
}

/** dx of RMSNorm: inv · (dx̂ − x̂ · mean(dx̂ · x̂)), x̂ = x · inv, dx̂ = dy · w. */
export function rmsNormBackward(g: GraphBuilder, dy: string, x: string, inv: string, w: string): string {
  const xhat = g.op('Mul', [x, inv]);
  const dxhat = g.op('Mul', [dy, w]);
  const m = g.op('ReduceMean', [g.op('Mul', [dxhat, xhat]), g.constI64([-1])], { keepdims: attr.int(1) });
  return g.op('Mul', [inv, g.op('Sub', [dxhat, g.op('Mul', [xhat, m])])]);
}

/** The frozen part of a linear layer: y = x Wᵀ (+ b) and dx = dy W. */
export interface BaseLinear {
  forward(g: GraphBuilder, x: string): string;
  /** dx for dy; only built in backward graphs. */
  backward(g: GraphBuilder, dy: string): string;
}

/** A float32 base weight [out, in] (and bias [out]) stored as initializers. */
export function denseLinear(g: GraphBuilder, name: string, w: Float32Array, outDim: number, inDim: number, bias?: Float32Array): BaseLinear {
  const wName = g.initializer(`${name}.weight`, w, [outDim, inDim]);
  const bName = bias ? g.initializer(`${name}.bias`, bias, [outDim]) : undefined;
  return {
    forward: (g, x) => g.op('Gemm', bName ? [x, wName, bName] : [x, wName], { transB: attr.int(1) }),
    backward: (g, dy) => g.op('Gemm', [dy, wName]),
  };
}

/** Graph names of a LoRA pair: inputs A [r, in] and B [out, r], scale alpha / r, and its dropout inputs if any. */
export interface LoraPair {
  a: string;
  b: string;
  scale: number;
  /** Dropout: a bool keep mask [N, in] (or [1, 1] to keep all) and the scalar 1/(1 − p) (1 when off). */
  dropout?: { mask: string; keepScale: string };
}

export interface LinearValues {
  y: string;
  /** x Aᵀ, kept for dB. */
  u?: string;
  /** The LoRA path's input: x after dropout (x itself without dropout). */
  xd?: string;
}

/** Dropout on the LoRA input: where(mask, x, 0) / (1 − p). */
export function loraInput(g: GraphBuilder, x: string, lora: LoraPair): string {
  if (!lora.dropout) return x;
  return g.op('Mul', [g.op('Where', [lora.dropout.mask, x, g.constF(0)]), lora.dropout.keepScale]);
}

/** y = base(x) + scale · (dropout(x) Aᵀ) Bᵀ. */
export function linearForward(g: GraphBuilder, base: BaseLinear, x: string, lora?: LoraPair): LinearValues {
  const y0 = base.forward(g, x);
  if (!lora) return { y: y0 };
  const xd = loraInput(g, x, lora);
  const u = g.op('Gemm', [xd, lora.a], { transB: attr.int(1) });
  const y = g.op('Gemm', [u, lora.b, y0], { transB: attr.int(1), alpha: attr.float(lora.scale), beta: attr.float(1) });
  return { y, u, xd };
}

/** dx of a linear layer and, with LoRA, dA = (s · dy B)ᵀ x̃ and dB = s · dyᵀ (x̃ Aᵀ), x̃ = dropout(x). */
export function linearBackward(
  g: GraphBuilder,
  base: BaseLinear,
  x: string,
  values: LinearValues,
  dy: string,
  lora?: LoraPair,
): { dx: string; dA?: string; dB?: string } {
  const dx0 = base.backward(g, dy);
  if (!lora || !values.u) return { dx: dx0 };
  const s = attr.float(lora.scale);
  const du = g.op('Gemm', [dy, lora.b], { alpha: s });
  const dB = g.op('Gemm', [dy, values.u], { transA: attr.int(1), alpha: s });
  const dA = g.op('Gemm', [du, values.xd ?? x], { transA: attr.int(1) });
  // Dropout's transpose is itself: the same mask and scale on the gradient of x̃.
  const dx = lora.dropout ? g.op('Add', [dx0, loraInput(g, g.op('MatMul', [du, lora.a]), lora)]) : g.op('Gemm', [du, lora.a, dx0], { beta: attr.float(1) });
  return { dx, dA, dB };
}

/** rotate_half(x) = concat(−x₂, x₁) over the last axis, halves of size `half`. */
function rotateHalf(g: GraphBuilder, x: string, half: number): string {
  const x1 = g.op('Slice', [x, g.constI64([0]), g.constI64([half]), g.constI64([-1])]);
  const x2 = g.op('Slice', [x, g.constI64([half]), g.constI64([2 * half]), g.constI64([-1])]);
  return g.op('Concat', [g.op('Neg', [x2]), x1], { axis: attr.int(-1) });
}

/**
 * RoPE as transformers applies it: x · cos + rotate_half(x) · sin, cos/sin [B, T, 1, headDim] (each half repeated).
 * Its transpose (the backward) is the same map with −sin, because rotate_half is antisymmetric and sin's halves agree.
 */
export function rope(g: GraphBuilder, x: string, cos: string, sin: string, headDim: number): string {
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotateHalf(g, x, headDim / 2), sin])]);
}

export function ropeBackward(g: GraphBuilder, dy: string, cos: string, negSin: string, headDim: number): string {
  return rope(g, dy, cos, negSin, headDim);
}

/** [B, kvHeads, T, D] → [B, heads, T, D], each key/value head repeated for its `group` query heads (repeat_kv). */
export function expandKv(g: GraphBuilder, x: string, kvHeads: number, group: number, headDim: number): string {
  if (group === 1) return x;
  const u = g.op('Unsqueeze', [x, g.constI64([2])]);
  const e = g.op('Expand', [u, g.constI64([1, 1, group, 1, 1])]);
  return g.op('Reshape', [e, g.constI64([0, kvHeads * group, -1, headDim])]);
}

/** Transpose of expandKv: sums the gradients of each group's copies. */
export function expandKvBackward(g: GraphBuilder, dx: string, kvHeads: number, group: number, headDim: number): string {
  if (group === 1) return dx;
  const r = g.op('Reshape', [dx, g.constI64([0, kvHeads, group, -1, headDim])]);
  return g.op('ReduceSum', [r, g.constI64([2])], { keepdims: attr.int(0) });
}

export function transpose(g: GraphBuilder, x: string, perm: readonly number[]): string {
  return g.op('Transpose', [x], { perm: attr.ints(perm) });
}
