// The training benchmark's batch and LoRA settings, the same for our trainer and the PyTorch reference: seeded token
// ids, every position but the last of a row trained (a pre-training-like batch, so both sides do the same work).
import { Xoshiro128 } from '../../engine/hf/random';
import type { Batch } from '../../engine/train/batch';

export const benchLora = { rank: 8, alpha: 16, seed: 42 } as const;

/** Token ids [rows × seq] drawn from the vocabulary with a fixed seed. */
export function benchIds(vocab: number, rows: number, seq: number): Int32Array {
  const rng = new Xoshiro128(2024, 0);
  const ids = new Int32Array(rows * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = (rng.nextI32() >>> 0) % vocab;
  return ids;
}

export function benchBatch(vocab: number, rows: number, seq: number): Batch {
  const ids = benchIds(vocab, rows, seq);
  const targets = new Int32Array(rows * seq).fill(-100);
  for (let b = 0; b < rows; b++) for (let t = 0; t + 1 < seq; t++) targets[b * seq + t] = ids[b * seq + t + 1];
  return { batch: rows, seq, ids, targets };
}
