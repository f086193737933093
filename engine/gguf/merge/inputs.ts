// What both merges start from: the base folder's config and weights and the PEFT adapter, opened and checked against
// each other before anything is written, and the merged view of the weights.
import { join } from 'node:path';
import { readModelConfig, type LlamaFamilyConfig } from '../../hf/config';
import { openModelWeights, type ModelWeights } from '../../hf/modelWeights';
import { floatDtypes } from '../../hf/safetensors';
import { AdapterError } from '../lora/errors';
import { checkAdapterFitsBase, openPeftAdapter, type PeftAdapter } from '../lora/peft';
import { mergedWeights, type MergedWeights } from './mergedWeights';

export interface MergeInputs {
  config: LlamaFamilyConfig;
  weights: ModelWeights;
  adapter: PeftAdapter;
  merged: MergedWeights;
  /** Closes the weights and the adapter. */
  close(): Promise<void>;
}

/** Opens the base and the adapter and checks that every adapted weight exists in the base, with its shape, as floats. */
export async function openMergeInputs(baseDir: string, peftDir: string): Promise<MergeInputs> {
  const config = await readModelConfig(baseDir);
  const adapter = await openPeftAdapter(peftDir);
  let weights: ModelWeights | undefined;
  try {
    weights = await openModelWeights(baseDir);
    const opened = weights;
    checkAdapterFitsBase(adapter, config, join(baseDir, 'config.json'), (w) => (opened.has(w) ? opened.info(w).shape : undefined));
    for (const m of adapter.modules) {
      if (!opened.has(m.weight)) {
        throw new AdapterError(adapter.weightsPath, `tensor '${m.a}' adapts ${m.weight}, which the base weights in ${baseDir} do not have`, {
          tensor: m.a,
          hint: 'the adapter was trained on another base model; pass the folder it was trained on',
        });
      }
      const { dtype, file } = opened.info(m.weight);
      if (!floatDtypes.includes(dtype)) {
        throw new AdapterError(file, `base weight ${m.weight} is ${dtype}; a LoRA merges into float weights only`, {
          tensor: m.weight,
          hint: 'merge into the unquantized (F32, F16 or BF16) base model',
        });
      }
    }
    return {
      config,
      weights,
      adapter,
      merged: mergedWeights(weights, adapter),
      close: async () => {
        await opened.close();
        await adapter.close();
      },
    };
  } catch (err) {
    await weights?.close();
    await adapter.close();
    throw err;
  }
}
