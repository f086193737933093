// What "Train on Generated Data" asks the engine for: the `train` job request (engine/train/job.ts reads it) and the
// memory estimate shown before a run starts, computed here from the model's config.json with the trainer's own
// formula (engine/train/memory.ts), so the editor never loads onnxruntime to answer it. No vscode import.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { configFromHf } from '../../engine/model/config';
import { linearShape } from '../../engine/model/weights';
import { loraTargetNames, moduleOfTarget } from '../../engine/train/lora';
import { describeEstimate, estimateMemory, formatMiB, type MemoryEstimate } from '../../engine/train/memory';
import { defaultRunSettings } from '../../engine/train/settings';

export interface TrainChoices {
  /** Hugging Face folder of the base model. */
  model: string;
  /** A generate run folder or a messages JSONL file. */
  data: string;
  qlora: boolean;
  rank: number;
  epochs: number;
}

export function trainJobRequest(c: TrainChoices): { kind: 'train'; args: Record<string, unknown>; settings: Record<string, unknown> } {
  for (const p of [c.model, c.data]) if (!isAbsolute(p)) throw new RangeError(`training takes absolute paths, not ${p}`);
  return { kind: 'train', args: { model: c.model, data: c.data }, settings: { qlora: c.qlora, rank: c.rank, epochs: c.epochs } };
}

/** The estimate the trainer will print for these choices (default targets, batch and sequence length). */
export async function trainMemoryEstimate(c: Pick<TrainChoices, 'model' | 'qlora' | 'rank'>): Promise<MemoryEstimate> {
  const file = join(c.model, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message} (pick a Hugging Face model folder)`);
  }
  const config = configFromHf(json as Record<string, unknown>);
  const perLayer = loraTargetNames.reduce((n, t) => {
    const [out, inDim] = linearShape(config, moduleOfTarget(t));
    return n + c.rank * (out + inDim);
  }, 0);
  const d = defaultRunSettings;
  return estimateMemory({ config, qlora: c.qlora, loraParameters: perLayer * config.layers, batchTokens: d.batchTokens, maxSeqLen: d.maxSeqLen });
}

/** The modal's question: the estimate against the memory free now, and whether it fits. */
export function memoryQuestion(e: MemoryEstimate, free: number): { message: string; detail: string; fits: boolean } {
  const fits = e.total <= free;
  return {
    message: fits
      ? `Training needs ${formatMiB(e.total)}; ${formatMiB(free)} is free. Start?`
      : `Training needs ${formatMiB(e.total)} but only ${formatMiB(free)} is free.`,
    detail: `${describeEstimate(e)}.${fits ? '' : ' Close other programs, choose QLoRA or a lower rank, or train on a machine with more memory (taxonomy-studio export-training).'}`,
    fits,
  };
}
