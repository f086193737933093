// The settings of a training run as the CLI and the train job take them, with their defaults.
import { loraTargetNames, type LoraTargetName } from './lora';
import type { OverlongPolicy } from './data';

export interface RunSettings {
  rank: number;
  alpha: number;
  /** LoRA dropout probability on each adapted module's input while training (PEFT's lora_dropout). */
  dropout: number;
  targets: readonly LoraTargetName[];
  qlora: boolean;
  /** Recompute each layer's forward in its backward (gradient checkpointing); false keeps the activations instead. */
  checkpointing: boolean;
  epochs: number;
  lr: number;
  batchTokens: number;
  maxSeqLen: number;
  seed: number;
  accumulate: number;
  packing: boolean;
  overlong: OverlongPolicy;
  /** Share of samples held out for the evaluation loss. */
  evalFraction: number;
  /** Skills phase: add this share of the knowledge phase's samples again (LAB's replay), on top of what the file holds. */
  replay: number;
  weightDecay: number;
  warmupRatio: number;
  maxGradNorm: number;
  checkpointEvery?: number;
  evalEvery?: number;
}

export const defaultRunSettings: RunSettings = {
  rank: 8,
  alpha: 16,
  dropout: 0,
  targets: loraTargetNames,
  qlora: false,
  checkpointing: true,
  epochs: 1,
  lr: 2e-4,
  batchTokens: 4096,
  maxSeqLen: 1024,
  seed: 42,
  accumulate: 1,
  packing: false,
  overlong: 'truncate',
  evalFraction: 0.05,
  replay: 0,
  weightDecay: 0,
  warmupRatio: 0.03,
  maxGradNorm: 1,
};
