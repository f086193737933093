// Base Hugging Face model + PEFT LoRA adapter → a merged GGUF, in one pass: the converter (engine/gguf/convert) plans
// and writes the base folder as usual, reading its weights through the merged view, so each adapted weight is merged
// slice by slice as the converter reads it, and no merged copy of the model is ever written or held. The result is the
// file `convert` would make of the folder `merge --format hf` writes.
import { planConversion, writePlan, type ConvertProgress } from '../convert/index';
import { ggmlTypeName } from '../ggmlTypes';
import type { QuantMix } from '../quant/mixes';
import { readModelFolder } from '../../hf/modelFolder';
import { openMergeInputs } from './inputs';

export interface MergeToGgufOptions {
  baseDir: string;
  peftDir: string;
  /** The .gguf file to write; it appears only when complete. */
  out: string;
  /** Quantization mix (f32, f16, q8_0, q4_k_m, ...). */
  type: QuantMix;
  /** general.name (default: the base folder's name). */
  name?: string;
  /** Worker threads for quantizing (default: the machine's parallelism). */
  threads?: number;
  onProgress?(progress: ConvertProgress): void;
  onWarning?(warning: string): void;
  signal?: AbortSignal;
}

export interface MergeToGgufResult {
  path: string;
  size: number;
  arch: string;
  /** Tensor count by type name. */
  types: Record<string, number>;
  /** Base weights (Hugging Face names) that took the adapter's update. */
  merged: string[];
  warnings: string[];
}

/** Writes the merged model as GGUF. */
export async function mergeAdapterToGguf(options: MergeToGgufOptions): Promise<MergeToGgufResult> {
  const folder = await readModelFolder(options.baseDir);
  const inputs = await openMergeInputs(options.baseDir, options.peftDir);
  try {
    const plan = planConversion(folder, inputs.merged, options.type, options.name === undefined ? {} : { name: options.name });
    for (const w of plan.warnings) options.onWarning?.(w);
    const { size } = await writePlan(plan, inputs.merged, options.out, {
      ...(options.threads !== undefined && { threads: options.threads }),
      ...(options.onProgress && { onProgress: options.onProgress }),
      ...(options.signal && { signal: options.signal }),
    });
    const types: Record<string, number> = {};
    for (const t of plan.tensors) types[ggmlTypeName(t.type)] = (types[ggmlTypeName(t.type)] ?? 0) + 1;
    return { path: options.out, size, arch: plan.arch, types, merged: [...inputs.merged.adapted], warnings: plan.warnings };
  } finally {
    await inputs.close();
  }
}
