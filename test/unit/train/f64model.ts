// An independent float64 llama-family forward pass with LoRA and the masked causal-LM loss, written plainly (loops,
// no ONNX, nothing shared with engine/train's graphs) so central differences of its loss are accurate to ~1e-10 and
// can check the trainer's hand-written gradients.

import type { ModelConfig } from '../../../engine/model/config';
import { layerTensor, linearModules, linearShape, type LinearModule, type WeightSource } from '../../../engine/model/weights';
import { ignoreIndex, type Batch } from '../../../engine/train/batch';
import type { LoraWeights } from '../../../engine/train/lora';

type Lin = { w: Float64Array; out: number; inn: number; lora?: { name: string; a: Float64Array; b: Float64Array; r: number; s: number } };

/** LoRA dropout as the trainer applies it: keep mask [batch · seq, in] of each module (by name) and p. */
export interface F64Dropout {
  p: number;
  mask(moduleName: string, inDim: number): Uint8Array;
}

/** The dropout of one row: masks sliced at the row's first token. */
type RowDropout = { p: number; mask: (name: string, inDim: number) => Uint8Array; row0: number } | undefined;

export interface F64Model {
  config: ModelConfig;
  embed: Float64Array;
  layers: { inNorm: Float64Array; postNorm: Float64Array; lin: Record<LinearModule, Lin> }[];
  norm: Float64Array;
  lmHead: Float64Array;
}

export function f64Model(config: ModelConfig, weights: WeightSource, lora: LoraWeights): F64Model {
  const get = (n: string) => Float64Array.from(weights.get(n));
  return {
    config,
    embed: get('model.embed_tokens.weight'),
    layers: Array.from({ length: config.layers }, (_, l) => {
      const lin = {} as Record<LinearModule, Lin>;
      for (const m of linearModules) {
        const [out, inn] = linearShape(config, m);
        const entry: Lin = { w: get(layerTensor(l, `${m}.weight`)), out, inn };
        const lm = lora.byName.get(layerTensor(l, m));
        if (lm) entry.lora = { name: lm.name, a: Float64Array.from(lm.a), b: Float64Array.from(lm.b), r: lm.rank, s: lm.scale };
        lin[m] = entry;
      }
      return { inNorm: get(layerTensor(l, 'input_layernorm.weight')), postNorm: get(layerTensor(l, 'post_attention_layernorm.weight')), lin };
    }),
    norm: get('model.norm.weight'),
    lmHead: get(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'),
  };
}

function linear(l: Lin, x: Float64Array, rows: number, drop?: RowDropout): Float64Array {
  const y = new Float64Array(rows * l.out);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < l.out; o++) {
      let s = 0;
      for (let i = 0; i < l.inn; i++) s += x[t * l.inn + i] * l.w[o * l.inn + i];
      y[t * l.out + o] = s;
    }
    if (!l.lora) continue;
    const { a, b, r, s } = l.lora;
    const u = new Float64Array(r);
    const mask = drop?.mask(l.lora.name, l.inn);
    const keep = drop ? 1 / (1 - drop.p) : 1;
    const at = ((drop?.row0 ?? 0) + t) * l.inn;
    const xi = (i: number) => (mask ? (mask[at + i] ? x[t * l.inn + i] * keep : 0) : x[t * l.inn + i]);
    for (let k = 0; k < r; k++) for (let i = 0; i < l.inn; i++) u[k] += xi(i) * a[k * l.inn + i];
    for (let o = 0; o < l.out; o++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += b[o * r + k] * u[k];
      y[t * l.out + o] += s * d;
    }
  }
  return y;
}

function rms(x: Float64Array, rows: number, dim: number, w: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let t = 0; t < rows; t++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[t * dim + i] ** 2;
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) y[t * dim + i] = w[i] * x[t * dim + i] * inv;
  }
  return y;
}

function rotate(x: Float64Array, t: number, nHeads: number, D: number, pos: number, invFreq: Float32Array): void {
  const half = D / 2;
  for (let h = 0; h < nHeads; h++) {
    const o = (t * nHeads + h) * D;
    for (let i = 0; i < half; i++) {
      const ang = pos * invFreq[i];
      const a = x[o + i];
      const b = x[o + i + half];
      x[o + i] = a * Math.cos(ang) - b * Math.sin(ang);
      x[o + i + half] = b * Math.cos(ang) + a * Math.sin(ang);
    }
  }
}

/** Final hidden states of one row of the batch ([seq · hidden], causal attention over the row). */
function rowHidden(m: F64Model, ids: ArrayLike<number>, invFreq: Float32Array, drop?: RowDropout): Float64Array {
  const c = m.config;
  const T = ids.length;
  const { hidden: H, heads, kvHeads, headDim: D } = c;
  const group = heads / kvHeads;
  const scale = c.attentionMultiplier ?? 1 / Math.sqrt(D);
  let h = new Float64Array(T * H);
  for (let t = 0; t < T; t++) for (let i = 0; i < H; i++) h[t * H + i] = m.embed[ids[t] * H + i] * c.embeddingMultiplier;
  for (const layer of m.layers) {
    const xn = rms(h, T, H, layer.inNorm, c.rmsNormEps);
    const q = linear(layer.lin['self_attn.q_proj'], xn, T, drop);
    const k = linear(layer.lin['self_attn.k_proj'], xn, T, drop);
    const v = linear(layer.lin['self_attn.v_proj'], xn, T, drop);
    for (let t = 0; t < T; t++) {
      rotate(q, t, heads, D, t, invFreq);
      rotate(k, t, kvHeads, D, t, invFreq);
    }
    const att = new Float64Array(T * heads * D);
    for (let hd = 0; hd < heads; hd++) {
      const kv = Math.floor(hd / group);
      for (let t = 0; t < T; t++) {
        const sc: number[] = [];
        for (let j = 0; j <= t; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[(t * heads + hd) * D + d] * k[(j * kvHeads + kv) * D + d];
          sc.push(s * scale);
        }
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= t; j++) for (let d = 0; d < D; d++) att[(t * heads + hd) * D + d] += (e[j] / z) * v[(j * kvHeads + kv) * D + d];
      }
    }
    const o = linear(layer.lin['self_attn.o_proj'], att, T, drop);
    const h2 = h.map((x, i) => x + c.residualMultiplier * o[i]);
    const xn2 = rms(h2, T, H, layer.postNorm, c.rmsNormEps);
    const g = linear(layer.lin['mlp.gate_proj'], xn2, T, drop);
    const u = linear(layer.lin['mlp.up_proj'], xn2, T, drop);
    const a = g.map((z, i) => (z / (1 + Math.exp(-z))) * u[i]);
    const d = linear(layer.lin['mlp.down_proj'], a, T, drop);
    h = h2.map((x, i) => x + c.residualMultiplier * d[i]);
  }
  return h;
}

/** Logits [seq · vocab] of one sequence. */
export function f64Logits(m: F64Model, ids: ArrayLike<number>, invFreq: Float32Array, drop?: RowDropout): Float64Array {
  const c = m.config;
  const T = ids.length;
  const xn = rms(rowHidden(m, ids, invFreq, drop), T, c.hidden, m.norm, c.rmsNormEps);
  const z = linear({ w: m.lmHead, out: c.vocab, inn: c.hidden }, xn, T);
  return z.map((v) => v / c.logitsScaling);
}

/** Mean −log p(target) over the batch's trained targets (each row evaluated alone, padding never attended to). */
export function f64Loss(m: F64Model, batch: Batch, invFreq: Float32Array, dropout?: F64Dropout): number {
  const V = m.config.vocab;
  let sum = 0;
  let count = 0;
  for (let b = 0; b < batch.batch; b++) {
    const row = batch.ids.subarray(b * batch.seq, (b + 1) * batch.seq);
    const targets = batch.targets.subarray(b * batch.seq, (b + 1) * batch.seq);
    const logits = f64Logits(m, row, invFreq, dropout && { p: dropout.p, mask: (n, i) => dropout.mask(n, i), row0: b * batch.seq });
    for (let t = 0; t < batch.seq; t++) {
      if (targets[t] === ignoreIndex) continue;
      const z = logits.subarray(t * V, (t + 1) * V);
      let mx = -Infinity;
      for (const x of z) mx = Math.max(mx, x);
      let se = 0;
      for (const x of z) se += Math.exp(x - mx);
      sum += mx + Math.log(se) - z[targets[t]];
      count++;
    }
  }
  return sum / count;
}
