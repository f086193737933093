// PEFT LoRA adapters for the reference model: W' = W + scale · B A with A [r, in], B [out, r] and
// scale = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora), applied on the fly by the forward pass
// (ForwardOptions.lora) or merged into a copy of the weights.

import { LoraError } from './errors';
import { elementCount, type WeightSource } from './weights';

export interface LoraLayer {
  /** [rank, inDim] */
  a: Float32Array;
  /** [outDim, rank] */
  b: Float32Array;
  rank: number;
  inDim: number;
  outDim: number;
  scale: number;
}

export interface LoraAdapter {
  /** Keyed by the base weight it adapts, e.g. model.layers.0.self_attn.q_proj.weight. */
  readonly layers: ReadonlyMap<string, LoraLayer>;
}

/** The adapter_config.json keys this reference reads (PEFT's LoraConfig). */
export interface PeftLoraConfig {
  r: number;
  lora_alpha: number;
  target_modules?: string[] | string | null;
  use_rslora?: boolean;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  bias?: string;
  peft_type?: string;
}

const peftPrefix = 'base_model.model.';
const loraTensor = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;

/** PEFT's names for the A and B tensors adapting a module (e.g. model.layers.0.self_attn.q_proj). */
export function peftTensorNames(module: string): { a: string; b: string } {
  return { a: `${peftPrefix}${module}.lora_A.weight`, b: `${peftPrefix}${module}.lora_B.weight` };
}

/**
 * Reads a PEFT LoRA from its adapter_config.json (parsed) and the tensors of adapter_model.safetensors. Ranks come
 * from the tensor shapes and must agree with r (or rank_pattern); alpha_pattern / rank_pattern keys match a module
 * name exactly or as its dotted suffix (PEFT's rule).
 */
export function loraFromPeft(config: PeftLoraConfig, tensors: WeightSource): LoraAdapter {
  if (config.peft_type !== undefined && config.peft_type !== 'LORA') {
    throw new LoraError(
      `adapter_config.json peft_type is ${JSON.stringify(config.peft_type)}; only LORA adapters are supported`,
    );
  }
  if (config.use_dora) throw new LoraError('adapter_config.json use_dora: DoRA adapters are not supported');
  if (config.fan_in_fan_out) {
    throw new LoraError(
      'adapter_config.json fan_in_fan_out: llama-family Linear layers store [out, in]; set it to false',
    );
  }
  if (config.bias !== undefined && config.bias !== 'none') {
    throw new LoraError(`adapter_config.json bias is ${JSON.stringify(config.bias)}; only "none" is supported`);
  }
  if (!(typeof config.r === 'number' && config.r > 0) || typeof config.lora_alpha !== 'number') {
    throw new LoraError('adapter_config.json needs a positive r and a numeric lora_alpha');
  }

  const modules = new Map<string, { a?: string; b?: string }>();
  for (const name of tensors.names()) {
    const m = loraTensor.exec(name);
    if (!m) {
      const why = name.includes('lora_embedding_')
        ? 'LoRA on embeddings is not supported'
        : 'only lora_A / lora_B tensors of Linear layers are supported (modules_to_save is not)';
      throw new LoraError(`adapter tensor ${name}: ${why}`);
    }
    const entry = modules.get(m[1]) ?? {};
    if (m[2] === 'A') entry.a = name;
    else entry.b = name;
    modules.set(m[1], entry);
  }
  if (modules.size === 0) throw new LoraError('adapter has no lora_A / lora_B tensors');

  const layers = new Map<string, LoraLayer>();
  for (const [module, { a, b }] of modules) {
    if (!a || !b)
      throw new LoraError(`adapter module ${module} has lora_${a ? 'A' : 'B'} but no lora_${a ? 'B' : 'A'}`);
    if (!isTargeted(module, config.target_modules)) {
      throw new LoraError(
        `adapter module ${module} is not named by target_modules ${JSON.stringify(config.target_modules)}`,
      );
    }
    const aShape = tensors.shape(a);
    const bShape = tensors.shape(b);
    if (aShape.length !== 2 || bShape.length !== 2 || aShape[0] !== bShape[1]) {
      throw new LoraError(
        `adapter module ${module}: lora_A [${aShape.join(', ')}] and lora_B [${bShape.join(', ')}] do not form [r, in] and [out, r]`,
      );
    }
    const rank = aShape[0];
    const r = patternValue(config.rank_pattern, module) ?? config.r;
    const alpha = patternValue(config.alpha_pattern, module) ?? config.lora_alpha;
    if (rank !== r)
      throw new LoraError(`adapter module ${module}: tensors have rank ${rank}, adapter_config.json says r = ${r}`);
    const data = (name: string, shape: readonly number[]) => {
      const d = tensors.get(name);
      if (d.length !== elementCount(shape))
        throw new LoraError(`adapter tensor ${name}: ${d.length} values for shape [${shape.join(', ')}]`);
      return d;
    };
    layers.set(`${module}.weight`, {
      a: data(a, aShape),
      b: data(b, bShape),
      rank,
      inDim: aShape[1],
      outDim: bShape[0],
      scale: config.use_rslora ? alpha / Math.sqrt(r) : alpha / r,
    });
  }
  return { layers };
}

function isTargeted(module: string, targets: PeftLoraConfig['target_modules']): boolean {
  if (targets === undefined || targets === null) return true;
  if (typeof targets === 'string') {
    // A string is a regular expression PEFT matches against the whole module name (or 'all-linear').
    if (targets === 'all-linear') return true;
    return new RegExp(`^(?:${targets})$`).test(module);
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

function patternValue(patterns: Record<string, number> | undefined, module: string): number | undefined {
  if (!patterns) return undefined;
  for (const [key, value] of Object.entries(patterns)) {
    if (module === key || new RegExp(`^(?:.*\\.)?(?:${key})$`).test(module)) return value;
  }
  return undefined;
}

/** W + scale · B A for one layer, as a new array ([out, in] row-major). */
export function mergedWeight(w: Float32Array, layer: LoraLayer): Float32Array {
  const { a, b, rank, inDim, outDim, scale } = layer;
  if (w.length !== inDim * outDim) {
    throw new LoraError(`LoRA of shape [${outDim}, ${inDim}] does not fit a weight of ${w.length} values`);
  }
  const out = new Float32Array(w.length);
  const row = new Float64Array(inDim);
  for (let o = 0; o < outDim; o++) {
    row.fill(0);
    for (let k = 0; k < rank; k++) {
      const bk = b[o * rank + k];
      if (bk === 0) continue;
      const ak = k * inDim;
      for (let i = 0; i < inDim; i++) row[i] += bk * a[ak + i];
    }
    const wo = o * inDim;
    for (let i = 0; i < inDim; i++) out[wo + i] = w[wo + i] + scale * row[i];
  }
  return out;
}

/**
 * A WeightSource whose adapted weights are merged (W + scale · B A), computed once on first read; every other
 * tensor is the base's. Throws when the adapter names a weight the base does not have or one of another shape.
 */
export function mergeLora(weights: WeightSource, lora: LoraAdapter): WeightSource {
  for (const [name, layer] of lora.layers) {
    if (!weights.has(name)) throw new LoraError(`LoRA adapts ${name}, which the base model does not have`);
    const shape = weights.shape(name);
    if (shape.length !== 2 || shape[0] !== layer.outDim || shape[1] !== layer.inDim) {
      throw new LoraError(`LoRA for ${name} is [${layer.outDim}, ${layer.inDim}], the weight is [${shape.join(', ')}]`);
    }
  }
  const merged = new Map<string, Float32Array>();
  return {
    has: (name) => weights.has(name),
    shape: (name) => weights.shape(name),
    names: () => weights.names(),
    get: (name) => {
      const layer = lora.layers.get(name);
      if (!layer) return weights.get(name);
      let m = merged.get(name);
      if (!m) {
        m = mergedWeight(weights.get(name), layer);
        merged.set(name, m);
      }
      return m;
    },
  };
}
