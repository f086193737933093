// Writes trained LoRA matrices as a PEFT adapter folder: adapter_config.json (the fields peft's LoraConfig saves)
// and adapter_model.safetensors with PEFT's tensor names (base_model.model.<module>.lora_A.weight / lora_B.weight),
// which Hugging Face PEFT loads and engine/gguf/lora's export-adapter and merge take.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../hf/safetensorsWriter';
import { loraTargetNames, type LoraWeights } from './lora';
import { linearModules } from '../model/weights';

export const adapterConfigFile = 'adapter_config.json';
export const adapterWeightsFile = 'adapter_model.safetensors';

export interface SavePeftOptions {
  /** base_model_name_or_path: the Hugging Face folder or hub id the adapter was trained on. */
  baseModel: string;
  /** lora_dropout to record (training setting; it does not change what the adapter computes). */
  dropout?: number;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Saves `lora` into `dir` (created if needed). Ranks may differ per module (rank_pattern); lora_alpha is written so
 * that alpha / r reproduces each module's scale (alpha_pattern where a module differs), with use_rslora off.
 */
export async function savePeftAdapter(dir: string, lora: LoraWeights, options: SavePeftOptions): Promise<string[]> {
  if (lora.modules.length === 0) throw new RangeError('the adapter has no LoRA modules to save');
  const first = lora.modules[0];
  const r = first.rank;
  const alpha = first.scale * r;
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const m of lora.modules) {
    if (m.rank !== r) rankPattern[m.name] = m.rank;
    if (m.scale * m.rank !== alpha) alphaPattern[m.name] = m.scale * m.rank;
  }
  const targets = loraTargetNames.filter((_, i) => lora.modules.some((m) => m.module === linearModules[i]));
  const dtype = options.dtype ?? 'F32';
  const tensors = lora.modules.flatMap((m) => [
    { name: `base_model.model.${m.name}.lora_A.weight`, dtype, shape: [m.rank, m.inDim], data: m.a },
    { name: `base_model.model.${m.name}.lora_B.weight`, dtype, shape: [m.outDim, m.rank], data: m.b },
  ]);
  // The keys peft's LoraConfig.save_pretrained writes for a causal-LM LoRA.
  const config = {
    alpha_pattern: alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: options.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: options.dropout ?? 0,
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: targets,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  await mkdir(dir, { recursive: true });
  // Each file appears complete or not at all: written beside, then renamed.
  const tmpWeights = join(dir, `.${adapterWeightsFile}.tmp`);
  const tmpConfig = join(dir, `.${adapterConfigFile}.tmp`);
  try {
    await writeSafetensors(tmpWeights, tensors, { metadata: { format: 'pt' } });
    await writeFile(tmpConfig, `${JSON.stringify(config, null, 2)}\n`);
    await rename(tmpWeights, join(dir, adapterWeightsFile));
    await rename(tmpConfig, join(dir, adapterConfigFile));
  } catch (err) {
    await rm(tmpWeights, { force: true });
    await rm(tmpConfig, { force: true });
    throw err;
  }
  return tensors.map((t) => t.name);
}
