// LoRA dropout as PEFT applies it: each adapted module drops elements of its own input to the LoRA path (x → A),
// independently of the other modules, and scales the kept ones by 1/(1 − p); the frozen base sees x unchanged.
// Masks are drawn in JavaScript from a counter-based generator keyed by (seed, phase, epoch, micro-batch, module), so
// the backward graph's recompute sees the same mask as the forward, and a resumed run draws the masks it would have
// drawn uninterrupted. They enter the graphs as bool inputs; evaluation feeds a broadcast [1, 1] "keep" and scale 1.

import { streamOf, Xoshiro128 } from '../hf/random';

/** Where a micro-batch's masks come from: the run's seed and the micro-batch's place in the run. */
export interface DropoutDraw {
  seed: number;
  key: string;
}

/** The key of micro-batch `batch` of epoch `epoch` of phase `phase`. */
export function dropoutKey(phase: number, epoch: number, batch: number): string {
  return `${phase}:${epoch}:${batch}`;
}

export function checkDropout(p: number): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`LoRA dropout ${p} is not in [0, 1)`);
}

/**
 * The keep mask (1 keep, 0 drop) of one module's LoRA input, [rows, inDim]: element dropped when a uniform 32-bit draw
 * falls below p · 2³².
 */
export function dropoutMask(draw: DropoutDraw, moduleName: string, rows: number, inDim: number, p: number): Uint8Array {
  checkDropout(p);
  const mask = new Uint8Array(rows * inDim);
  const threshold = Math.round(p * 4294967296);
  const rng = new Xoshiro128(draw.seed, streamOf(`lora-dropout:${draw.key}:${moduleName}`));
  for (let i = 0; i < mask.length; i++) mask[i] = rng.nextI32() >>> 0 >= threshold ? 1 : 0;
  return mask;
}
