// Models for the reference-forward tests, built in memory from a seeded PRNG (no files, no other engine module).

import { defineConfig, type ModelConfig } from '../../../engine/model/config';
import { peftTensorNames, type PeftLoraConfig } from '../../../engine/model/lora';
import { expectedTensors, weightSourceFromMap, type Tensor, type WeightSource } from '../../../engine/model/weights';

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(rand: () => number, shape: number[], amplitude: number, center = 0): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = center + (rand() * 2 - 1) * amplitude;
  return { data, shape };
}

/**
 * Random weights for every tensor the config needs: norms near 1, matrices uniform with amplitude ~1/sqrt(in)
 * (times `gain`) so activations neither vanish nor explode and logits differ visibly between tokens.
 */
export function randomWeights(config: ModelConfig, seed: number, gain = 1): Map<string, Tensor> {
  const rand = prng(seed);
  const map = new Map<string, Tensor>();
  for (const { name, shape } of expectedTensors(config)) {
    if (name.endsWith('norm.weight')) map.set(name, randomTensor(rand, shape, 0.2, 1));
    else if (name.endsWith('.bias')) map.set(name, randomTensor(rand, shape, 0.5));
    else if (name === 'model.embed_tokens.weight') map.set(name, randomTensor(rand, shape, 1));
    else map.set(name, randomTensor(rand, shape, (gain * 1.7) / Math.sqrt(shape[1])));
  }
  return map;
}

export function randomModel(config: ModelConfig, seed: number, gain = 1): WeightSource {
  return weightSourceFromMap(randomWeights(config, seed, gain));
}

/** hidden 64, 2 layers, vocab 512, 4 heads over 2 key/value heads. */
export const tinyConfig = defineConfig({ hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 160, vocab: 512 });

/** A PEFT adapter (config + tensors under PEFT's names) with random A and B for the given modules of every layer. */
export function randomPeftAdapter(
  config: ModelConfig,
  modules: string[],
  rank: number,
  alpha: number,
  seed: number,
): { adapterConfig: PeftLoraConfig; tensors: WeightSource } {
  const rand = prng(seed);
  const shapes = new Map(expectedTensors(config).map((t) => [t.name, t.shape]));
  const tensors = new Map<string, Tensor>();
  for (const [weight, shape] of shapes) {
    const module = weight.replace(/\.weight$/, '');
    if (!modules.some((m) => module.endsWith(`.${m}`) || module === m)) continue;
    const names = peftTensorNames(module);
    tensors.set(names.a, randomTensor(rand, [rank, shape[1]], 1 / Math.sqrt(shape[1])));
    // PEFT initialises B to zero; a trained adapter has it non-zero, which is what the tests need.
    tensors.set(names.b, randomTensor(rand, [shape[0], rank], 0.5 / Math.sqrt(rank)));
  }
  return {
    adapterConfig: { r: rank, lora_alpha: alpha, target_modules: modules, peft_type: 'LORA' },
    tensors: weightSourceFromMap(tensors),
  };
}

/** Row `row` of a [rows × width] matrix stored flat. */
export function rowOf(m: Float32Array, row: number, width: number): Float32Array {
  return m.subarray(row * width, (row + 1) * width);
}
