// Fixture LoRA adapters: a PEFT adapter folder (adapter_config.json + adapter_model.safetensors, laid out and named as
// peft saves them) with seeded random A and B for a given Hugging Face base folder, for tests of export-adapter and
// merge. PEFT starts B at zero; a trained adapter has it non-zero, and so does this one, so applying it changes the
// model's outputs. Every byte is a function of (base config, rank, alpha, targets, seed, dtype, std).
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readModelConfig } from '../../hf/config';
import { streamOf, Xoshiro128 } from '../../hf/random';
import { writeSafetensors } from '../../hf/safetensorsWriter';
import { AdapterError } from './errors';
import { adapterConfigFile, adapterWeightsFile, baseWeightShape, loraTargets, moduleName, type LoraTarget } from './peft';

export interface FixtureAdapterOptions {
  /** LoRA rank r (default 8). */
  rank?: number;
  /** lora_alpha (default 16, so the update is scaled by 2). */
  alpha?: number;
  /** Modules adapted in every layer (default all seven Linear layers). */
  targetModules?: readonly LoraTarget[];
  seed?: number;
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Standard deviation of B (default 0.02, the fixture base's own weight scale); A has 1/sqrt(in). */
  std?: number;
  /** Extra adapter_config.json fields (use_rslora, rank_pattern, ...), written as given. */
  extraConfig?: Record<string, unknown>;
  /** Overwrite adapter files already in the folder. */
  force?: boolean;
}

export interface FixtureAdapter {
  dir: string;
  /** adapter_config.json as written. */
  config: Record<string, unknown>;
  /** PEFT tensor names, in the order written. */
  tensors: string[];
}

/** Writes a fixture adapter for the model in `baseDir` into `dir` (created if needed). */
export async function writeFixtureAdapter(dir: string, baseDir: string, options: FixtureAdapterOptions = {}): Promise<FixtureAdapter> {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 16;
  const seed = options.seed ?? 0;
  const dtype = options.dtype ?? 'F32';
  const std = options.std ?? 0.02;
  const targets = options.targetModules ?? loraTargets;
  if (!Number.isSafeInteger(rank) || rank <= 0) throw new RangeError(`rank ${rank} is not a positive integer`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed ${seed} is not an integer from 0 to 4294967295`);

  const base = await readModelConfig(baseDir);
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (!options.force && (present.includes(adapterConfigFile) || present.includes(adapterWeightsFile))) {
    throw new AdapterError(dir, 'already holds an adapter', { hint: 'pick another folder, or force to overwrite it' });
  }

  const modules: { module: string; shape: [number, number] }[] = [];
  for (let layer = 0; layer < base.numHiddenLayers; layer++) {
    for (const t of loraTargets) {
      if (targets.includes(t)) modules.push({ module: moduleName(layer, t), shape: baseWeightShape(base, t) });
    }
  }
  if (targets.includes('lm_head')) modules.push({ module: 'lm_head', shape: baseWeightShape(base, 'lm_head') });

  const tensors: { name: string; dtype: typeof dtype; shape: number[]; data: Float32Array }[] = [];
  for (const { module, shape } of modules) {
    const [out, inn] = shape;
    const a = `base_model.model.${module}.lora_A.weight`;
    const b = `base_model.model.${module}.lora_B.weight`;
    tensors.push({ name: a, dtype, shape: [rank, inn], data: new Xoshiro128(seed, streamOf(a)).fillNormal(new Float32Array(rank * inn), 0, 1 / Math.sqrt(inn)) });
    tensors.push({ name: b, dtype, shape: [out, rank], data: new Xoshiro128(seed, streamOf(b)).fillNormal(new Float32Array(out * rank), 0, std) });
  }

  // The fields peft's LoraConfig.save_pretrained writes for a causal-LM LoRA, in its key order.
  const config: Record<string, unknown> = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseDir,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: 0,
    modules_to_save: null,
    peft_type: 'LORA',
    r: rank,
    rank_pattern: {},
    revision: null,
    target_modules: [...targets],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
    ...options.extraConfig,
  };
  await writeSafetensors(join(dir, adapterWeightsFile), tensors, { metadata: { format: 'pt' } });
  await writeFile(join(dir, adapterConfigFile), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, config, tensors: tensors.map((t) => t.name) };
}
