// The reference forward pass of the llama family, following transformers' LlamaForCausalLM (and its mistral, qwen2
// and granite variants) step by step in float32: the numerical ground truth the GGUF conversion and the trainer are
// checked against. A session keeps the key/value cache so tokens can be fed incrementally.

import type { ModelConfig } from './config';
import { validateConfig } from './config';
import { LoraError } from './errors';
import { linear, rmsNorm, swiglu } from './kernels';
import type { LoraAdapter, LoraLayer } from './lora';
import { ropeAngles, ropeInvFreq, rotateHeads, type RopeAngles } from './rope';
import {
  hasBias,
  layerTensor,
  linearModules,
  linearShape,
  requireTensor,
  type LinearModule,
  type WeightSource,
} from './weights';

export interface ModelOptions {
  /** A LoRA applied on the fly: y = x Wᵀ + scale · (x Aᵀ) Bᵀ, the base weights untouched. */
  lora?: LoraAdapter;
}

export interface ForwardOptions extends ModelOptions {
  /** Return only the last token's logits ([vocab]) instead of [tokens × vocab]. */
  lastOnly?: boolean;
}

interface Linear {
  w: Float32Array;
  inDim: number;
  outDim: number;
  bias?: Float32Array;
  lora?: LoraLayer;
}

interface Layer {
  inputNorm: Float32Array;
  postNorm: Float32Array;
  linears: Record<LinearModule, Linear>;
}

/** Tensors resolved and checked against the config once, so evaluation never looks a name up. */
export interface PreparedModel {
  readonly config: ModelConfig;
  readonly embed: Float32Array;
  readonly layers: readonly Layer[];
  readonly norm: Float32Array;
  readonly lmHead: Linear;
  readonly invFreq: Float32Array;
}

export function prepareModel(config: ModelConfig, weights: WeightSource, opts: ModelOptions = {}): PreparedModel {
  validateConfig(config);
  const { hidden, vocab } = config;
  const adapted = new Set<string>();
  const linearOf = (name: string, shape: [number, number], withBias: boolean, biasName?: string): Linear => {
    const l: Linear = { w: requireTensor(weights, name, shape), outDim: shape[0], inDim: shape[1] };
    if (withBias && biasName) l.bias = requireTensor(weights, biasName, [shape[0]]);
    const lora = opts.lora?.layers.get(name);
    if (lora) {
      if (lora.outDim !== shape[0] || lora.inDim !== shape[1]) {
        throw new LoraError(`LoRA for ${name} is [${lora.outDim}, ${lora.inDim}], the weight is [${shape.join(', ')}]`);
      }
      l.lora = lora;
      adapted.add(name);
    }
    return l;
  };

  const layers: Layer[] = [];
  for (let i = 0; i < config.layers; i++) {
    const linears = {} as Record<LinearModule, Linear>;
    for (const m of linearModules) {
      const name = layerTensor(i, `${m}.weight`);
      linears[m] = linearOf(name, linearShape(config, m), hasBias(config, m), layerTensor(i, `${m}.bias`));
    }
    layers.push({
      inputNorm: requireTensor(weights, layerTensor(i, 'input_layernorm.weight'), [hidden]),
      postNorm: requireTensor(weights, layerTensor(i, 'post_attention_layernorm.weight'), [hidden]),
      linears,
    });
  }
  const embed = requireTensor(weights, 'model.embed_tokens.weight', [vocab, hidden]);
  const lmHead = config.tieWordEmbeddings
    ? { w: embed, inDim: hidden, outDim: vocab }
    : linearOf('lm_head.weight', [vocab, hidden], false);
  for (const name of opts.lora?.layers.keys() ?? []) {
    if (!adapted.has(name)) {
      throw new LoraError(
        `LoRA adapts ${name}, which this model does not use${name === 'lm_head.weight' ? ' (tie_word_embeddings)' : ''}`,
      );
    }
  }
  return {
    config,
    embed,
    layers,
    norm: requireTensor(weights, 'model.norm.weight', [hidden]),
    lmHead,
    invFreq: ropeInvFreq(config),
  };
}

/** Logits for `tokenIds` evaluated from position 0: [tokens × vocab] row-major, or [vocab] with lastOnly. */
export function forward(
  config: ModelConfig,
  weights: WeightSource,
  tokenIds: readonly number[],
  opts: ForwardOptions = {},
): Float32Array {
  const session = createSession(config, weights, opts);
  return opts.lastOnly ? session.eval(tokenIds) : session.evalAll(tokenIds);
}

export interface ModelSession {
  readonly model: PreparedModel;
  /** Tokens evaluated so far (the position the next token takes). */
  readonly position: number;
  /** Feeds tokens after those already seen; the last token's logits [vocab]. */
  eval(tokenIds: readonly number[]): Float32Array;
  /** Feeds tokens after those already seen; logits of each [tokens × vocab]. */
  evalAll(tokenIds: readonly number[]): Float32Array;
  /** Forgets every token from `position` on (the cache keeps the earlier ones). */
  rewind(position: number): void;
}

export function createSession(config: ModelConfig, weights: WeightSource, opts: ModelOptions = {}): ModelSession {
  return sessionOf(prepareModel(config, weights, opts));
}

/** A session over an already prepared model (several sessions can share one). */
export function sessionOf(model: PreparedModel): ModelSession {
  const { config } = model;
  const kvDim = config.kvHeads * config.headDim;
  let capacity = 0;
  let keys: Float32Array[] = [];
  let values: Float32Array[] = [];
  let position = 0;

  const reserve = (needed: number) => {
    if (needed <= capacity) return;
    const next = Math.max(needed, capacity * 2, 16);
    const grow = (old: Float32Array) => {
      const a = new Float32Array(next * kvDim);
      a.set(old.subarray(0, position * kvDim));
      return a;
    };
    keys = model.layers.map((_, i) => grow(keys[i] ?? new Float32Array(0)));
    values = model.layers.map((_, i) => grow(values[i] ?? new Float32Array(0)));
    capacity = next;
  };

  const run = (tokenIds: readonly number[], all: boolean): Float32Array => {
    for (const [i, t] of tokenIds.entries()) {
      if (!Number.isInteger(t) || t < 0 || t >= config.vocab) {
        throw new RangeError(`token ${i} is ${t}; token ids must be integers in [0, ${config.vocab})`);
      }
    }
    if (tokenIds.length === 0) return new Float32Array(0);
    reserve(position + tokenIds.length);
    const logits = evaluate(model, tokenIds, position, keys, values, all);
    position += tokenIds.length;
    return logits;
  };

  return {
    model,
    get position() {
      return position;
    },
    eval: (tokenIds) => {
      if (tokenIds.length === 0) throw new RangeError('eval needs at least one token');
      return run(tokenIds, false);
    },
    evalAll: (tokenIds) => run(tokenIds, true),
    rewind: (to) => {
      if (!Number.isInteger(to) || to < 0 || to > position) {
        throw new RangeError(`rewind to ${to}: expected an integer in [0, ${position}]`);
      }
      position = to;
    },
  };
}

/** y = x Wᵀ + b (+ scale · (x Aᵀ) Bᵀ) for `rows` rows. */
function applyLinear(l: Linear, x: Float32Array, rows: number, out: Float32Array): void {
  linear(x, rows, l.inDim, l.w, l.outDim, out, l.bias);
  const lora = l.lora;
  if (!lora) return;
  const down = new Float32Array(rows * lora.rank);
  linear(x, rows, l.inDim, lora.a, lora.rank, down);
  const up = new Float32Array(rows * l.outDim);
  linear(down, rows, lora.rank, lora.b, l.outDim, up);
  for (let i = 0; i < rows * l.outDim; i++) out[i] += lora.scale * up[i];
}

function evaluate(
  model: PreparedModel,
  tokenIds: readonly number[],
  start: number,
  keys: Float32Array[],
  values: Float32Array[],
  all: boolean,
): Float32Array {
  const c = model.config;
  const T = tokenIds.length;
  const { hidden, heads, kvHeads, headDim, intermediate, vocab } = c;
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  const group = heads / kvHeads;
  const scale = c.attentionMultiplier ?? 1 / Math.sqrt(headDim);
  const resMul = c.residualMultiplier;

  const h = new Float32Array(T * hidden);
  for (let t = 0; t < T; t++) {
    const row = tokenIds[t] * hidden;
    for (let i = 0; i < hidden; i++) h[t * hidden + i] = model.embed[row + i] * c.embeddingMultiplier;
  }
  const xn = new Float32Array(T * hidden);
  const q = new Float32Array(T * qDim);
  const k = new Float32Array(T * kvDim);
  const v = new Float32Array(T * kvDim);
  const att = new Float32Array(T * qDim);
  const proj = new Float32Array(T * hidden);
  const gate = new Float32Array(T * intermediate);
  const up = new Float32Array(T * intermediate);
  const angles: RopeAngles[] = [];
  for (let t = 0; t < T; t++) angles.push(ropeAngles(model.invFreq, start + t));
  const scores = new Float64Array(start + T);
  const acc = new Float64Array(headDim);

  for (let l = 0; l < model.layers.length; l++) {
    const layer = model.layers[l];
    const L = layer.linears;
    const K = keys[l];
    const V = values[l];

    rmsNorm(h, T, hidden, layer.inputNorm, c.rmsNormEps, xn);
    applyLinear(L['self_attn.q_proj'], xn, T, q);
    applyLinear(L['self_attn.k_proj'], xn, T, k);
    applyLinear(L['self_attn.v_proj'], xn, T, v);
    for (let t = 0; t < T; t++) {
      rotateHeads(q, t * qDim, heads, angles[t]);
      rotateHeads(k, t * kvDim, kvHeads, angles[t]);
    }
    K.set(k, start * kvDim);
    V.set(v, start * kvDim);

    // Causal (and, for mistral, windowed) softmax attention; query head hd reads key/value head hd / group.
    for (let t = 0; t < T; t++) {
      const pos = start + t;
      const lo = c.slidingWindow === null ? 0 : Math.max(0, pos - c.slidingWindow + 1);
      for (let hd = 0; hd < heads; hd++) {
        const qo = t * qDim + hd * headDim;
        const kvo = Math.floor(hd / group) * headDim;
        let max = -Infinity;
        for (let j = lo; j <= pos; j++) {
          const ko = j * kvDim + kvo;
          let s = 0;
          for (let d = 0; d < headDim; d++) s += q[qo + d] * K[ko + d];
          s *= scale;
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = lo; j <= pos; j++) {
          const e = Math.exp(scores[j] - max);
          scores[j] = e;
          sum += e;
        }
        acc.fill(0);
        for (let j = lo; j <= pos; j++) {
          const p = scores[j] / sum;
          const vo = j * kvDim + kvo;
          for (let d = 0; d < headDim; d++) acc[d] += p * V[vo + d];
        }
        for (let d = 0; d < headDim; d++) att[qo + d] = acc[d];
      }
    }
    applyLinear(L['self_attn.o_proj'], att, T, proj);
    for (let i = 0; i < T * hidden; i++) h[i] += proj[i] * resMul;

    rmsNorm(h, T, hidden, layer.postNorm, c.rmsNormEps, xn);
    applyLinear(L['mlp.gate_proj'], xn, T, gate);
    applyLinear(L['mlp.up_proj'], xn, T, up);
    swiglu(gate, up, T * intermediate);
    applyLinear(L['mlp.down_proj'], gate, T, proj);
    for (let i = 0; i < T * hidden; i++) h[i] += proj[i] * resMul;
  }

  const rows = all ? T : 1;
  const last = all ? h : h.subarray((T - 1) * hidden);
  const normed = new Float32Array(rows * hidden);
  rmsNorm(last, rows, hidden, model.norm, c.rmsNormEps, normed);
  const logits = new Float32Array(rows * vocab);
  applyLinear(model.lmHead, normed, rows, logits);
  if (c.logitsScaling !== 1) for (let i = 0; i < logits.length; i++) logits[i] /= c.logitsScaling;
  return logits;
}
