// Where the forward pass gets its tensors: a WeightSource keyed by Hugging Face tensor names, float32, row-major in
// the shapes transformers stores (a Linear weight is [out, in]).

import type { ModelConfig } from './config';
import { MissingTensorError, TensorShapeError } from './errors';

export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface WeightSource {
  has(name: string): boolean;
  /** Throws MissingTensorError when absent. */
  shape(name: string): readonly number[];
  /** Float32, row-major. Throws MissingTensorError when absent. Callers must not write into it. */
  get(name: string): Float32Array;
  names(): string[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A WeightSource over tensors already in memory; each tensor's length must match its shape. */
export function weightSourceFromMap(map: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>): WeightSource {
  const tensors = new Map<string, Tensor>(map instanceof Map ? map : Object.entries(map));
  for (const [name, t] of tensors) {
    if (t.data.length !== elementCount(t.shape)) {
      throw new TensorShapeError(name, [elementCount(t.shape)], [t.data.length], 'element count');
    }
  }
  const tensor = (name: string): Tensor => {
    const t = tensors.get(name);
    if (!t) throw new MissingTensorError(name);
    return t;
  };
  return {
    has: (name) => tensors.has(name),
    shape: (name) => tensor(name).shape,
    get: (name) => tensor(name).data,
    names: () => [...tensors.keys()],
  };
}

/** Hugging Face name of a per-layer tensor, e.g. layerTensor(0, 'self_attn.q_proj.weight'). */
export function layerTensor(layer: number, suffix: string): string {
  return `model.layers.${layer}.${suffix}`;
}

export const linearModules = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
] as const;
export type LinearModule = (typeof linearModules)[number];

/** [out, in] of each per-layer Linear for this config. */
export function linearShape(config: ModelConfig, module: LinearModule): [number, number] {
  const { hidden, heads, kvHeads, headDim, intermediate } = config;
  switch (module) {
    case 'self_attn.q_proj':
      return [heads * headDim, hidden];
    case 'self_attn.k_proj':
    case 'self_attn.v_proj':
      return [kvHeads * headDim, hidden];
    case 'self_attn.o_proj':
      return [hidden, heads * headDim];
    case 'mlp.gate_proj':
    case 'mlp.up_proj':
      return [intermediate, hidden];
    case 'mlp.down_proj':
      return [hidden, intermediate];
  }
}

export function hasBias(config: ModelConfig, module: LinearModule): boolean {
  if (module === 'self_attn.o_proj') return config.oBias;
  if (module.startsWith('self_attn.')) return config.qkvBias;
  return config.mlpBias;
}

/** Every tensor the forward pass reads for this config, with its shape, in file order. */
export function expectedTensors(config: ModelConfig): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [
    { name: 'model.embed_tokens.weight', shape: [config.vocab, config.hidden] },
  ];
  for (let i = 0; i < config.layers; i++) {
    out.push({ name: layerTensor(i, 'input_layernorm.weight'), shape: [config.hidden] });
    for (const m of linearModules) {
      const shape = linearShape(config, m);
      out.push({ name: layerTensor(i, `${m}.weight`), shape });
      if (hasBias(config, m)) out.push({ name: layerTensor(i, `${m}.bias`), shape: [shape[0]] });
      if (m === 'self_attn.o_proj') {
        out.push({ name: layerTensor(i, 'post_attention_layernorm.weight'), shape: [config.hidden] });
      }
    }
  }
  out.push({ name: 'model.norm.weight', shape: [config.hidden] });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [config.vocab, config.hidden] });
  return out;
}

/** The tensor, checked against the expected shape. */
export function requireTensor(weights: WeightSource, name: string, shape: readonly number[]): Float32Array {
  if (!weights.has(name)) {
    const hint = name === 'lm_head.weight' ? 'set tie_word_embeddings to share model.embed_tokens.weight' : undefined;
    throw new MissingTensorError(name, hint);
  }
  const found = weights.shape(name);
  if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
    throw new TensorShapeError(name, shape, found);
  }
  const data = weights.get(name);
  if (data.length !== elementCount(shape))
    throw new TensorShapeError(name, [elementCount(shape)], [data.length], 'element count');
  return data;
}

/** The part of a tensor file reader (e.g. a safetensors file or a sharded folder) that loading needs. */
export interface Float32TensorReader {
  readonly names: readonly string[];
  info(name: string): { shape: readonly number[] };
  readFloat32(name: string): Promise<Float32Array>;
}

/** Reads every tensor (or those `keep` selects) into memory as float32, one at a time, as a WeightSource. */
export async function loadWeightSource(
  reader: Float32TensorReader,
  keep: (name: string) => boolean = () => true,
): Promise<WeightSource> {
  const tensors = new Map<string, Tensor>();
  for (const name of reader.names) {
    if (!keep(name)) continue;
    tensors.set(name, { data: await reader.readFloat32(name), shape: [...reader.info(name).shape] });
  }
  return weightSourceFromMap(tensors);
}
