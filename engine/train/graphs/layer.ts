// One llama-family decoder layer as two ONNX graphs: the forward (hidden → out) and the backward, which recomputes
// the forward from the layer's input (gradient checkpointing: only layer inputs are kept between layers) and returns
// the gradient of the input and of every LoRA matrix of the layer. Without checkpointing, the forward also returns the
// activations the backward needs (`saved.*`) and the backward takes them as inputs instead of recomputing: about a
// third less compute for every layer's activations held at once. Frozen base weights are initializers; LoRA
// matrices are graph inputs (they change every step and inputs are zero-copy).

import type { ModelConfig } from '../../model/config';
import { hasBias, layerTensor, linearModules, linearShape, requireTensor, type LinearModule, type WeightSource } from '../../model/weights';
import { attr, GraphBuilder, type EncodedModel } from '../onnx/builder';
import {
  denseLinear,
  expandKv,
  expandKvBackward,
  linearBackward,
  linearForward,
  loraInput,
  rmsNorm,
  rmsNormBackward,
  rope,
  ropeBackward,
  transpose,
  type BaseLinear,
  type LinearValues,
  type LoraPair,
} from './ops';

/** Rank and scale of the LoRA on one module. */
export interface ModuleLora {
  rank: number;
  scale: number;
}

export interface LayerSpec {
  config: ModelConfig;
  layer: number;
  weights: WeightSource;
  /** Adapted modules of this layer. */
  lora: ReadonlyMap<LinearModule, ModuleLora>;
  /** LoRA dropout inputs: a keep mask per adapted module and the keep scale (the trainer feeds them). */
  dropout?: boolean;
  /** false: the forward returns its activations and the backward takes them instead of recomputing (default true). */
  checkpointing?: boolean;
  /** Builds the frozen base of a linear (default: float32 initializers). */
  baseLinear?: (g: GraphBuilder, name: string, w: Float32Array, outDim: number, inDim: number, bias?: Float32Array) => BaseLinear;
}

/** Graph input / output names of a layer's LoRA matrices and their gradients. */
export function loraIoNames(module: LinearModule): { a: string; b: string; dA: string; dB: string; mask: string } {
  const short = module.slice(module.indexOf('.') + 1);
  return { a: `${short}.lora_A`, b: `${short}.lora_B`, dA: `${short}.lora_A.grad`, dB: `${short}.lora_B.grad`, mask: `${short}.lora_dropout_mask` };
}

export const layerIo = {
  hidden: 'hidden',
  cos: 'cos',
  sin: 'sin',
  mask: 'mask',
  out: 'out',
  gradOut: 'grad_out',
  gradHidden: 'grad_hidden',
  /** Scalar 1/(1 − p) of LoRA dropout (1 when evaluating). */
  dropoutScale: 'lora_dropout_scale',
} as const;

interface ForwardValues {
  x: string;
  xn1: string;
  inv1: string;
  lin: Record<LinearModule, LinearValues>;
  Q: string;
  Kx: string;
  Vx: string;
  P: string;
  att: string;
  h2: string;
  xn2: string;
  inv2: string;
  gate: string;
  sig: string;
  silu: string;
  a: string;
  out: string;
}

interface LayerParts {
  g: GraphBuilder;
  bases: Record<LinearModule, BaseLinear>;
  loras: Partial<Record<LinearModule, LoraPair>>;
  wIn: string;
  wPost: string;
  qShape: string;
  kvShape: string;
}

function declare(spec: LayerSpec, name: string): LayerParts {
  const { config: c, layer, weights } = spec;
  const g = new GraphBuilder(name);
  const { hidden, heads, kvHeads, headDim } = c;
  g.input(layerIo.hidden, 'FLOAT', ['batch', 'seq', hidden]);
  g.input(layerIo.cos, 'FLOAT', ['batch', 'seq', 1, headDim]);
  g.input(layerIo.sin, 'FLOAT', ['batch', 'seq', 1, headDim]);
  g.input(layerIo.mask, 'FLOAT', ['batch', 1, 'seq', 'seq']);
  const make = spec.baseLinear ?? denseLinear;
  const bases = {} as Record<LinearModule, BaseLinear>;
  const loras: Partial<Record<LinearModule, LoraPair>> = {};
  const keepScale = spec.dropout && spec.lora.size ? g.input(layerIo.dropoutScale, 'FLOAT', []) : undefined;
  for (const m of linearModules) {
    const [outDim, inDim] = linearShape(c, m);
    const w = requireTensor(weights, layerTensor(layer, `${m}.weight`), [outDim, inDim]);
    const b = hasBias(c, m) ? requireTensor(weights, layerTensor(layer, `${m}.bias`), [outDim]) : undefined;
    bases[m] = make(g, m, w, outDim, inDim, b);
    const l = spec.lora.get(m);
    if (l) {
      const io = loraIoNames(m);
      loras[m] = { a: g.input(io.a, 'FLOAT', [l.rank, inDim]), b: g.input(io.b, 'FLOAT', [outDim, l.rank]), scale: l.scale };
      // The mask is [N, in] when training and [1, 1] (broadcast keep-all) when evaluating.
      if (keepScale) loras[m].dropout = { mask: g.input(io.mask, 'BOOL', [`${io.mask}_rows`, `${io.mask}_cols`]), keepScale };
    }
  }
  const wIn = g.initializer('input_layernorm.weight', requireTensor(weights, layerTensor(layer, 'input_layernorm.weight'), [hidden]), [hidden]);
  const wPost = g.initializer('post_attention_layernorm.weight', requireTensor(weights, layerTensor(layer, 'post_attention_layernorm.weight'), [hidden]), [hidden]);
  const bt = g.op('Shape', [layerIo.hidden], { end: attr.int(2) });
  const qShape = g.op('Concat', [bt, g.constI64([heads, headDim])], { axis: attr.int(0) });
  const kvShape = g.op('Concat', [bt, g.constI64([kvHeads, headDim])], { axis: attr.int(0) });
  return { g, bases, loras, wIn, wPost, qShape, kvShape };
}

function forwardValues(spec: LayerSpec, p: LayerParts): ForwardValues {
  const { g, bases, loras } = p;
  const c = spec.config;
  const { hidden, heads, kvHeads, headDim } = c;
  const group = heads / kvHeads;
  const resMul = c.residualMultiplier;
  const scale = c.attentionMultiplier ?? 1 / Math.sqrt(headDim);
  const lin = {} as Record<LinearModule, LinearValues>;
  const apply = (m: LinearModule, x: string) => (lin[m] = linearForward(g, bases[m], x, loras[m])).y;
  const residual = (h: string, y: string) => g.op('Add', [h, resMul === 1 ? y : g.op('Mul', [y, g.constF(resMul)])]);

  const x = g.op('Reshape', [layerIo.hidden, g.constI64([-1, hidden])]);
  const { y: xn1, inv: inv1 } = rmsNorm(g, x, p.wIn, c.rmsNormEps);
  const heads4 = (v: string, shape: string, ropeIt: boolean) => {
    let t = g.op('Reshape', [v, shape]);
    if (ropeIt) t = rope(g, t, layerIo.cos, layerIo.sin, headDim);
    return transpose(g, t, [0, 2, 1, 3]);
  };
  const Q = heads4(apply('self_attn.q_proj', xn1), p.qShape, true);
  const Kx = expandKv(g, heads4(apply('self_attn.k_proj', xn1), p.kvShape, true), kvHeads, group, headDim);
  const Vx = expandKv(g, heads4(apply('self_attn.v_proj', xn1), p.kvShape, false), kvHeads, group, headDim);
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [Q, transpose(g, Kx, [0, 1, 3, 2])]), g.constF(scale)]), layerIo.mask]);
  const P = g.op('Softmax', [scores], { axis: attr.int(-1) });
  const O = g.op('MatMul', [P, Vx]);
  const att = g.op('Reshape', [transpose(g, O, [0, 2, 1, 3]), g.constI64([-1, heads * headDim])]);
  const h2 = residual(x, apply('self_attn.o_proj', att));
  const { y: xn2, inv: inv2 } = rmsNorm(g, h2, p.wPost, c.rmsNormEps);
  const gate = apply('mlp.gate_proj', xn2);
  const sig = g.op('Sigmoid', [gate]);
  const silu = g.op('Mul', [gate, sig]);
  const a = g.op('Mul', [silu, apply('mlp.up_proj', xn2)]);
  const out = residual(h2, apply('mlp.down_proj', a));
  return { x, xn1, inv1, lin, Q, Kx, Vx, P, att, h2, xn2, inv2, gate, sig, silu, a, out };
}

/** The forward values the backward reads (x is the reshaped input, which the backward has anyway). */
const savedKeys = ['xn1', 'inv1', 'Q', 'Kx', 'Vx', 'P', 'att', 'h2', 'xn2', 'inv2', 'gate', 'sig', 'silu', 'a'] as const;
type SavedKey = (typeof savedKeys)[number];
/** Which linear reads which value (for the LoRA input of each module). */
const inputOf: Record<LinearModule, SavedKey> = {
  'self_attn.q_proj': 'xn1',
  'self_attn.k_proj': 'xn1',
  'self_attn.v_proj': 'xn1',
  'self_attn.o_proj': 'att',
  'mlp.gate_proj': 'xn2',
  'mlp.up_proj': 'xn2',
  'mlp.down_proj': 'a',
};

/** Names and dims of the activations a non-checkpointed forward returns and its backward takes. */
export function savedActivations(spec: LayerSpec): { name: string; dims: (string | number)[] }[] {
  const { hidden, heads, headDim, intermediate } = spec.config;
  const dims: Record<SavedKey, (string | number)[]> = {
    xn1: ['n', hidden],
    inv1: ['n', 1],
    Q: ['batch', heads, 'seq', headDim],
    Kx: ['batch', heads, 'seq', headDim],
    Vx: ['batch', heads, 'seq', headDim],
    P: ['batch', heads, 'seq', 'seq'],
    att: ['n', heads * headDim],
    h2: ['n', hidden],
    xn2: ['n', hidden],
    inv2: ['n', 1],
    gate: ['n', intermediate],
    sig: ['n', intermediate],
    silu: ['n', intermediate],
    a: ['n', intermediate],
  };
  const list = savedKeys.map((k) => ({ name: `saved.${k}`, dims: dims[k] }));
  list.push({ name: 'saved.up', dims: ['n', intermediate] });
  for (const [m, l] of spec.lora) list.push({ name: `saved.${loraIoNames(m).a}.u`, dims: ['n', l.rank] });
  return list;
}

/** The layer's forward graph: hidden [B, T, H] (+ cos, sin, mask, LoRA) → out [B, T, H] (+ saved.* without checkpointing). */
export function buildLayerForward(spec: LayerSpec): EncodedModel {
  const p = declare(spec, `layer${spec.layer}_forward`);
  const v = forwardValues(spec, p);
  const out = p.g.op('Reshape', [v.out, p.g.op('Shape', [layerIo.hidden])]);
  p.g.output(out, layerIo.out, 'FLOAT', ['batch', 'seq', spec.config.hidden]);
  if (spec.checkpointing === false) {
    const values = (k: string): string => {
      if (k === 'saved.up') return v.lin['mlp.up_proj'].y;
      const lora = /^saved\.(.+)\.lora_A\.u$/.exec(k);
      if (lora) return v.lin[[...spec.lora.keys()].find((m) => loraIoNames(m).a === `${lora[1]}.lora_A`)!].u!;
      return v[k.slice('saved.'.length) as SavedKey];
    };
    for (const s of savedActivations(spec)) p.g.output(values(s.name), s.name, 'FLOAT', s.dims);
  }
  return p.g.encode();
}

/** The backward's view of the forward values when they come in as saved.* inputs. */
function savedValues(spec: LayerSpec, p: LayerParts): ForwardValues {
  const { g, loras } = p;
  const inputs = new Map(savedActivations(spec).map((s) => [s.name, g.input(s.name, 'FLOAT', s.dims)]));
  const get = (k: string) => inputs.get(k)!;
  const v = Object.fromEntries(savedKeys.map((k) => [k, get(`saved.${k}`)])) as Record<SavedKey, string>;
  const x = g.op('Reshape', [layerIo.hidden, g.constI64([-1, spec.config.hidden])]);
  const lin = {} as Record<LinearModule, LinearValues>;
  for (const m of linearModules) {
    const lora = loras[m];
    const y = m === 'mlp.up_proj' ? get('saved.up') : '';
    lin[m] = lora ? { y, u: get(`saved.${loraIoNames(m).a}.u`), xd: loraInput(g, v[inputOf[m]], lora) } : { y };
  }
  return { ...v, x, lin, out: '' };
}

/**
 * The layer's backward graph: recomputes the forward from hidden, then from grad_out [B, T, H] returns
 * grad_hidden [B, T, H] and `<module>.lora_A.grad` / `.lora_B.grad` for each adapted module.
 */
export function buildLayerBackward(spec: LayerSpec): EncodedModel {
  const p = declare(spec, `layer${spec.layer}_backward`);
  const { g, bases, loras } = p;
  const c = spec.config;
  const { hidden, heads, kvHeads, headDim } = c;
  const group = heads / kvHeads;
  const scale = c.attentionMultiplier ?? 1 / Math.sqrt(headDim);
  const resMul = c.residualMultiplier;
  g.input(layerIo.gradOut, 'FLOAT', ['batch', 'seq', hidden]);
  const v = spec.checkpointing === false ? savedValues(spec, p) : forwardValues(spec, p);
  const grads: { module: LinearModule; dA: string; dB: string }[] = [];
  const back = (m: LinearModule, x: string, dy: string) => {
    const r = linearBackward(g, bases[m], x, v.lin[m], dy, loras[m]);
    if (r.dA && r.dB) grads.push({ module: m, dA: r.dA, dB: r.dB });
    return r.dx;
  };
  const scaled = (d: string) => (resMul === 1 ? d : g.op('Mul', [d, g.constF(resMul)]));

  const dOut = g.op('Reshape', [layerIo.gradOut, g.constI64([-1, hidden])]);
  // MLP: out = h2 + down(silu(gate) · up).
  const da = back('mlp.down_proj', v.a, scaled(dOut));
  const up = v.lin['mlp.up_proj'].y;
  const dUp = g.op('Mul', [da, v.silu]);
  // d silu(z)/dz = σ(z) · (1 + z · (1 − σ(z)))
  const dSiluDz = g.op('Mul', [v.sig, g.op('Add', [g.constF(1), g.op('Mul', [v.gate, g.op('Sub', [g.constF(1), v.sig])])])]);
  const dGate = g.op('Mul', [g.op('Mul', [da, up]), dSiluDz]);
  const dxn2 = g.op('Add', [back('mlp.gate_proj', v.xn2, dGate), back('mlp.up_proj', v.xn2, dUp)]);
  const dh2 = g.op('Add', [dOut, rmsNormBackward(g, dxn2, v.h2, v.inv2, p.wPost)]);

  // Attention: h2 = x + o(softmax(Q Kᵀ · scale + mask) V).
  const dAtt = back('self_attn.o_proj', v.att, scaled(dh2));
  const dO = transpose(g, g.op('Reshape', [dAtt, p.qShape]), [0, 2, 1, 3]);
  const dP = g.op('MatMul', [dO, transpose(g, v.Vx, [0, 1, 3, 2])]);
  const dVx = g.op('MatMul', [transpose(g, v.P, [0, 1, 3, 2]), dO]);
  const rowDot = g.op('ReduceSum', [g.op('Mul', [dP, v.P]), g.constI64([-1])], { keepdims: attr.int(1) });
  const dS = g.op('Mul', [g.op('Mul', [v.P, g.op('Sub', [dP, rowDot])]), g.constF(scale)]);
  const dQ = g.op('MatMul', [dS, v.Kx]);
  const dKx = g.op('MatMul', [transpose(g, dS, [0, 1, 3, 2]), v.Q]);
  const negSin = g.op('Neg', [layerIo.sin]);
  const flat = (d: string, width: number, ropeIt: boolean) => {
    let t = transpose(g, d, [0, 2, 1, 3]);
    if (ropeIt) t = ropeBackward(g, t, layerIo.cos, negSin, headDim);
    return g.op('Reshape', [t, g.constI64([-1, width])]);
  };
  const dq = flat(dQ, heads * headDim, true);
  const dk = flat(expandKvBackward(g, dKx, kvHeads, group, headDim), kvHeads * headDim, true);
  const dv = flat(expandKvBackward(g, dVx, kvHeads, group, headDim), kvHeads * headDim, false);
  const dxn1 = g.op('Add', [
    g.op('Add', [back('self_attn.q_proj', v.xn1, dq), back('self_attn.k_proj', v.xn1, dk)]),
    back('self_attn.v_proj', v.xn1, dv),
  ]);
  const dx = g.op('Add', [dh2, rmsNormBackward(g, dxn1, v.x, v.inv1, p.wIn)]);
  g.output(g.op('Reshape', [dx, g.op('Shape', [layerIo.hidden])]), layerIo.gradHidden, 'FLOAT', ['batch', 'seq', hidden]);
  for (const { module, dA, dB } of grads) {
    const io = loraIoNames(module);
    const l = spec.lora.get(module)!;
    const [outDim, inDim] = linearShape(c, module);
    g.output(dA, io.dA, 'FLOAT', [l.rank, inDim]);
    g.output(dB, io.dB, 'FLOAT', [outDim, l.rank]);
  }
  return g.encode();
}
