// The trainable LoRA matrices: A [r, in] and B [out, r] per adapted module, W' = W + scale · B A, initialised as PEFT
// does (A Kaiming-uniform with a = √5, i.e. U(±1/√in); B zero, so training starts from the base model).

import type { ModelConfig } from '../model/config';
import type { LoraAdapter } from '../model/lora';
import { layerTensor, linearModules, linearShape, type LinearModule } from '../model/weights';
import { streamOf, Xoshiro128 } from '../hf/random';

/** PEFT's target names of the seven per-layer Linear modules. */
export const loraTargetNames = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTargetName = (typeof loraTargetNames)[number];

export function moduleOfTarget(target: LoraTargetName): LinearModule {
  return linearModules[loraTargetNames.indexOf(target)];
}

export interface LoraModule {
  /** Module name as PEFT and transformers call it, e.g. model.layers.0.self_attn.q_proj. */
  name: string;
  layer: number;
  module: LinearModule;
  rank: number;
  inDim: number;
  outDim: number;
  scale: number;
  /** [rank, inDim] */
  a: Float32Array;
  /** [outDim, rank] */
  b: Float32Array;
}

export interface LoraSettings {
  targets: readonly LoraTargetName[];
  rank: number;
  alpha: number;
  /** scale alpha / √r instead of alpha / r. */
  rslora?: boolean;
  /** Layers to adapt (default all). */
  layers?: readonly number[];
}

export interface LoraGrad {
  a: Float32Array;
  b: Float32Array;
}

export class LoraWeights {
  readonly byName: ReadonlyMap<string, LoraModule>;

  constructor(readonly modules: readonly LoraModule[]) {
    this.byName = new Map(modules.map((m) => [m.name, m]));
  }

  ofLayer(layer: number): LoraModule[] {
    return this.modules.filter((m) => m.layer === layer);
  }

  /** engine/model's view (keyed by base weight name), sharing the arrays: for the reference forward pass. */
  toAdapter(): LoraAdapter {
    return {
      layers: new Map(
        this.modules.map((m) => [`${m.name}.weight`, { a: m.a, b: m.b, rank: m.rank, inDim: m.inDim, outDim: m.outDim, scale: m.scale }]),
      ),
    };
  }

  /** A deep copy (for finite differences and optimizer tests). */
  clone(): LoraWeights {
    return new LoraWeights(this.modules.map((m) => ({ ...m, a: m.a.slice(), b: m.b.slice() })));
  }

  parameterCount(): number {
    return this.modules.reduce((n, m) => n + m.a.length + m.b.length, 0);
  }
}

/** Fresh LoRA matrices for `settings`, seeded: A ~ U(±1/√in), B = 0 (PEFT's init_lora_weights=True). */
export function initLora(config: ModelConfig, settings: LoraSettings, seed: number): LoraWeights {
  if (!Number.isInteger(settings.rank) || settings.rank <= 0) throw new RangeError(`LoRA rank ${settings.rank} is not a positive integer`);
  const unknown = settings.targets.filter((t) => !loraTargetNames.includes(t));
  if (unknown.length) throw new RangeError(`unknown LoRA targets ${unknown.join(', ')}; choose from ${loraTargetNames.join(', ')}`);
  const scale = settings.rslora ? settings.alpha / Math.sqrt(settings.rank) : settings.alpha / settings.rank;
  const layers = settings.layers ?? Array.from({ length: config.layers }, (_, i) => i);
  const modules: LoraModule[] = [];
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= config.layers) throw new RangeError(`LoRA layer ${layer} is not in [0, ${config.layers})`);
    for (const target of loraTargetNames) {
      if (!settings.targets.includes(target)) continue;
      const module = moduleOfTarget(target);
      const [outDim, inDim] = linearShape(config, module);
      const name = layerTensor(layer, module);
      const a = new Float32Array(settings.rank * inDim);
      const rng = new Xoshiro128(seed, streamOf(name));
      const bound = 1 / Math.sqrt(inDim);
      for (let i = 0; i < a.length; i++) a[i] = (rng.nextOpenUnit() * 2 - 1) * bound;
      modules.push({ name, layer, module, rank: settings.rank, inDim, outDim, scale, a, b: new Float32Array(outDim * settings.rank) });
    }
  }
  return new LoraWeights(modules);
}

/** Trainable copies of an engine/model adapter (e.g. one read with loraFromPeft), to continue training it. */
export function loraFromAdapter(config: ModelConfig, adapter: LoraAdapter): LoraWeights {
  const modules: LoraModule[] = [];
  for (const [weight, l] of adapter.layers) {
    const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(weight);
    const module = m && (linearModules as readonly string[]).includes(m[2]) ? (m[2] as LinearModule) : undefined;
    if (!m || !module) throw new RangeError(`LoRA on ${weight} cannot be trained: only per-layer q/k/v/o/gate/up/down projections can`);
    const layer = Number(m[1]);
    const [outDim, inDim] = linearShape(config, module);
    if (layer >= config.layers || l.outDim !== outDim || l.inDim !== inDim) {
      throw new RangeError(`LoRA on ${weight} is [${l.outDim}, ${l.inDim}]; the model has ${layer < config.layers ? `[${outDim}, ${inDim}]` : `${config.layers} layers`}`);
    }
    modules.push({ name: weight.slice(0, -'.weight'.length), layer, module, rank: l.rank, inDim, outDim, scale: l.scale, a: l.a.slice(), b: l.b.slice() });
  }
  modules.sort((x, y) => x.layer - y.layer || linearModules.indexOf(x.module) - linearModules.indexOf(y.module));
  return new LoraWeights(modules);
}
