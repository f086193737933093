// The base tensors a LoRA adapts as our HF → GGUF converter (engine/gguf/convert) writes them, so an adapter's names,
// architecture and q/k row order match the base GGUF it is loaded with: the GGUF architecture of each model_type,
// the GGUF name of each adapted weight, and the q_proj / k_proj row permutation for archs whose RoPE pairs adjacent
// values.
import type { ModelType } from '../../hf/config';
import { ggufArchitectures, ggufTensorName, needsRopePermutation } from '../convert/index';
import type { LoraModule, LoraTarget } from './peft';

/** general.architecture of the GGUF the converter makes of a model_type (llama.cpp refuses an adapter of another). */
export function ggufArchitectureOf(modelType: ModelType): string {
  return ggufArchitectures[modelType];
}

/** The GGUF name the converter gives the base weight a module adapts: blk.0.attn_q.weight, output.weight. */
export function ggufWeightName(m: Pick<LoraModule, 'weight'>): string {
  const mapped = ggufTensorName(m.weight);
  if (!mapped) throw new RangeError(`${m.weight} has no GGUF name`);
  return mapped.gguf;
}

/**
 * The head size in rows the converter reorders a target's output rows by (permuteRopeRows), or undefined when it
 * leaves them alone: q_proj and k_proj of the archs whose llama.cpp RoPE pairs adjacent values. A LoRA's B carries
 * those output rows, so its rows get the same reorder; A (the input side) is unchanged.
 */
export function ropeRowsHeadDim(modelType: ModelType, target: LoraTarget, headDim: number): number | undefined {
  if (!needsRopePermutation(ggufArchitectures[modelType])) return undefined;
  return target === 'q_proj' || target === 'k_proj' ? headDim : undefined;
}
