// An independent, deliberately naive llama forward pass written straight from the equations (nested number[][]
// arrays, a full T×T masked attention matrix, key/value heads repeated as transformers' repeat_kv does, RoPE as a
// 2×2 rotation per pair). It shares no code with engine/model beyond reading the config and tensor names, so the
// tests compare two implementations rather than one with itself.

import type { ModelConfig } from '../../../engine/model/config';
import type { WeightSource } from '../../../engine/model/weights';

type Matrix = number[][];

function matrix(weights: WeightSource, name: string): Matrix {
  const [rows, cols] = weights.shape(name);
  const flat = weights.get(name);
  const m: Matrix = [];
  for (let r = 0; r < rows; r++) m.push(Array.from(flat.slice(r * cols, (r + 1) * cols)));
  return m;
}

function vector(weights: WeightSource, name: string): number[] {
  return Array.from(weights.get(name));
}

/** y_o = Σ_i W[o][i] x_i + b_o */
function project(W: Matrix, x: number[], b?: number[]): number[] {
  return W.map((row, o) => row.reduce((s, w, i) => s + w * x[i], 0) + (b ? b[o] : 0));
}

function rms(x: number[], w: number[], eps: number): number[] {
  const meanSquare = x.reduce((s, v) => s + v * v, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(meanSquare + eps)) * w[i]);
}

/** The rotation frequency of pair i, with rope scaling written out from its definition. */
export function naiveFrequency(config: ModelConfig, i: number): number {
  const base = Math.pow(config.ropeTheta, -(2 * i) / config.headDim);
  const s = config.ropeScaling;
  if (!s) return base;
  if (s.type === 'linear') return base / s.factor;
  const wavelength = (2 * Math.PI) / base;
  const longest = s.originalMaxPositions / s.lowFreqFactor;
  const shortest = s.originalMaxPositions / s.highFreqFactor;
  if (wavelength < shortest) return base;
  if (wavelength > longest) return base / s.factor;
  const t = (s.originalMaxPositions / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return t * base + (1 - t) * (base / s.factor);
}

/** Rotates pair (i, i + d/2) of one head by position · frequency(i). */
export function naiveRope(config: ModelConfig, head: number[], position: number): number[] {
  const d = head.length;
  const out = head.slice();
  for (let i = 0; i < d / 2; i++) {
    const angle = position * naiveFrequency(config, i);
    const [x, y] = [head[i], head[i + d / 2]];
    out[i] = Math.cos(angle) * x - Math.sin(angle) * y;
    out[i + d / 2] = Math.sin(angle) * x + Math.cos(angle) * y;
  }
  return out;
}

function split(x: number[], parts: number): number[][] {
  const size = x.length / parts;
  return Array.from({ length: parts }, (_, p) => x.slice(p * size, (p + 1) * size));
}

/** Logits of every position, [T][vocab]; biases are used wherever the weights have them. */
export function naiveForward(config: ModelConfig, weights: WeightSource, tokens: number[]): number[][] {
  const bias = (name: string) => (weights.has(name) ? vector(weights, name) : undefined);
  const embed = matrix(weights, 'model.embed_tokens.weight');
  let hs: number[][] = tokens.map((t) => embed[t].map((v) => v * config.embeddingMultiplier));
  const T = tokens.length;

  for (let l = 0; l < config.layers; l++) {
    const p = `model.layers.${l}.`;
    const normed = hs.map((x) => rms(x, vector(weights, p + 'input_layernorm.weight'), config.rmsNormEps));
    const [Wq, Wk, Wv, Wo, Wg, Wu, Wd] = [
      'self_attn.q_proj',
      'self_attn.k_proj',
      'self_attn.v_proj',
      'self_attn.o_proj',
      'mlp.gate_proj',
      'mlp.up_proj',
      'mlp.down_proj',
    ].map((m) => ({ W: matrix(weights, `${p}${m}.weight`), b: bias(`${p}${m}.bias`) }));
    const qs = normed.map((x) => project(Wq.W, x, Wq.b));
    const ks = normed.map((x) => project(Wk.W, x, Wk.b));
    const vs = normed.map((x) => project(Wv.W, x, Wv.b));
    // [T][heads][headDim], RoPE applied; key/value heads repeated so that head h uses kv head floor(h / group).
    const qHeads = qs.map((q, t) => split(q, config.heads).map((h) => naiveRope(config, h, t)));
    const kHeadsRaw = ks.map((k, t) => split(k, config.kvHeads).map((h) => naiveRope(config, h, t)));
    const vHeadsRaw = vs.map((v) => split(v, config.kvHeads));
    const group = config.heads / config.kvHeads;
    const kHeads = kHeadsRaw.map((hs2) => Array.from({ length: config.heads }, (_, h) => hs2[Math.floor(h / group)]));
    const vHeads = vHeadsRaw.map((hs2) => Array.from({ length: config.heads }, (_, h) => hs2[Math.floor(h / group)]));
    const scale = config.attentionMultiplier ?? 1 / Math.sqrt(config.headDim);

    const attended: number[][] = [];
    for (let t = 0; t < T; t++) {
      const row: number[] = [];
      for (let h = 0; h < config.heads; h++) {
        const scores: number[] = [];
        for (let j = 0; j < T; j++) {
          const visible = j <= t && (config.slidingWindow === null || t - j < config.slidingWindow);
          const dot = qHeads[t][h].reduce((s, v, d) => s + v * kHeads[j][h][d], 0);
          scores.push(visible ? dot * scale : -Infinity);
        }
        const top = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - top));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let d = 0; d < config.headDim; d++) {
          let v = 0;
          for (let j = 0; j < T; j++) v += (exps[j] / total) * vHeads[j][h][d];
          row.push(v);
        }
      }
      attended.push(row);
    }
    const o = attended.map((a) => project(Wo.W, a, Wo.b));
    hs = hs.map((x, t) => x.map((v, i) => v + o[t][i] * config.residualMultiplier));

    const normed2 = hs.map((x) => rms(x, vector(weights, p + 'post_attention_layernorm.weight'), config.rmsNormEps));
    const mlp = normed2.map((x) => {
      const g = project(Wg.W, x, Wg.b);
      const u = project(Wu.W, x, Wu.b);
      const act = g.map((z, i) => z * (1 / (1 + Math.exp(-z))) * u[i]);
      return project(Wd.W, act, Wd.b);
    });
    hs = hs.map((x, t) => x.map((v, i) => v + mlp[t][i] * config.residualMultiplier));
  }

  const head = matrix(weights, config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return hs.map((x) =>
    project(head, rms(x, vector(weights, 'model.norm.weight'), config.rmsNormEps)).map((v) => v / config.logitsScaling),
  );
}
