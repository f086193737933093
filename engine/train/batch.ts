// A training batch and the per-batch tensors computed in JS: the embedding lookup (the embeddings are frozen, so no
// gradient flows into them), RoPE cos/sin tables, the additive attention mask and the loss weights.

import type { ModelConfig } from '../model/config';
import { ropeInvFreq } from '../model/rope';

/** Target id of a position that is not trained on (PyTorch's ignore_index). */
export const ignoreIndex = -100;

export interface Batch {
  batch: number;
  seq: number;
  /** Input token ids [batch · seq]. */
  ids: Int32Array;
  /** Next-token targets [batch · seq]; ignoreIndex where there is no loss (prompt, padding). */
  targets: Int32Array;
  /** Positions [batch · seq] (default 0..seq-1 in every row). */
  positions?: Int32Array;
  /** Segment of each token [batch · seq] for packed rows: a token attends only within its segment (default one). */
  segments?: Int32Array;
}

export interface Sequence {
  ids: ArrayLike<number>;
  /** 1 where the token is trained on (assistant tokens), per token of ids. */
  lossMask: ArrayLike<number>;
}

/**
 * Right-padded causal-LM batch: position t predicts ids[t+1] when the mask marks token t+1, so the loss covers exactly
 * the marked tokens. Padding uses `padId` and is never a target.
 */
export function causalLmBatch(sequences: readonly Sequence[], padId: number, seq?: number): Batch {
  const T = seq ?? Math.max(...sequences.map((s) => s.ids.length));
  const B = sequences.length;
  const ids = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(ignoreIndex);
  sequences.forEach((s, b) => {
    if (s.ids.length > T) throw new RangeError(`sequence ${b} has ${s.ids.length} tokens, more than the batch length ${T}`);
    if (s.lossMask.length !== s.ids.length) throw new RangeError(`sequence ${b}: ${s.lossMask.length} mask entries for ${s.ids.length} tokens`);
    for (let t = 0; t < s.ids.length; t++) {
      ids[b * T + t] = s.ids[t];
      if (t + 1 < s.ids.length && s.lossMask[t + 1]) targets[b * T + t] = s.ids[t + 1];
    }
  });
  return { batch: B, seq: T, ids, targets };
}

export function checkBatch(config: ModelConfig, batch: Batch): void {
  const n = batch.batch * batch.seq;
  if (!(batch.batch > 0 && batch.seq > 0) || batch.ids.length !== n || batch.targets.length !== n) {
    throw new RangeError(`batch of ${batch.batch}×${batch.seq} needs ${n} ids and targets, found ${batch.ids.length} and ${batch.targets.length}`);
  }
  for (let i = 0; i < n; i++) {
    const id = batch.ids[i];
    const t = batch.targets[i];
    if (id < 0 || id >= config.vocab) throw new RangeError(`token ${i} is ${id}; ids must be in [0, ${config.vocab})`);
    if (t !== ignoreIndex && (t < 0 || t >= config.vocab)) throw new RangeError(`target ${i} is ${t}; targets must be in [0, ${config.vocab}) or ${ignoreIndex}`);
  }
}

/** Embedding rows of the batch's ids, times the embedding multiplier (granite): [batch · seq · hidden]. */
export function embed(config: ModelConfig, table: Float32Array, batch: Batch): Float32Array {
  const { hidden } = config;
  const out = new Float32Array(batch.ids.length * hidden);
  for (let i = 0; i < batch.ids.length; i++) {
    const row = table.subarray(batch.ids[i] * hidden, (batch.ids[i] + 1) * hidden);
    if (config.embeddingMultiplier === 1) out.set(row, i * hidden);
    else for (let j = 0; j < hidden; j++) out[i * hidden + j] = row[j] * config.embeddingMultiplier;
  }
  return out;
}

/** cos and sin [batch, seq, 1, headDim] (each half repeated, transformers' layout), angles in float64. */
export function ropeTables(config: ModelConfig, batch: Batch): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreq(config);
  const D = config.headDim;
  const half = D / 2;
  const n = batch.batch * batch.seq;
  const cos = new Float32Array(n * D);
  const sin = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const pos = batch.positions ? batch.positions[i] : i % batch.seq;
    for (let j = 0; j < half; j++) {
      const a = pos * inv[j];
      cos[i * D + j] = cos[i * D + j + half] = Math.cos(a);
      sin[i * D + j] = sin[i * D + j + half] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** A large negative rather than −∞, so a fully masked (padding) row still gives a finite softmax. */
export const maskedScore = -1e9;

/** Additive attention mask [batch, 1, seq, seq]: causal, within a segment, and mistral's sliding window. */
export function attentionMask(config: ModelConfig, batch: Batch): Float32Array {
  const T = batch.seq;
  const mask = new Float32Array(batch.batch * T * T);
  for (let b = 0; b < batch.batch; b++) {
    for (let i = 0; i < T; i++) {
      const pi = batch.positions ? batch.positions[b * T + i] : i;
      for (let j = 0; j < T; j++) {
        const pj = batch.positions ? batch.positions[b * T + j] : j;
        const sameSegment = !batch.segments || batch.segments[b * T + i] === batch.segments[b * T + j];
        const inWindow = config.slidingWindow === null || pi - pj < config.slidingWindow;
        if (j > i || !sameSegment || !inWindow) mask[(b * T + i) * T + j] = maskedScore;
      }
    }
  }
  return mask;
}

/**
 * Loss weights [batch · seq]: 1 / normalizer for trained targets, 0 elsewhere; and the targets with ignored ones
 * replaced by 0 (the graph gathers at every position). The normalizer defaults to the batch's trained-token count.
 */
export function lossInputs(batch: Batch, normalizer?: number): { targets: BigInt64Array; weights: Float32Array; count: number } {
  let count = 0;
  for (const t of batch.targets) if (t !== ignoreIndex) count++;
  const norm = normalizer ?? count;
  const targets = new BigInt64Array(batch.targets.length);
  const weights = new Float32Array(batch.targets.length);
  batch.targets.forEach((t, i) => {
    if (t === ignoreIndex) return;
    targets[i] = BigInt(t);
    weights[i] = 1 / norm;
  });
  return { targets, weights, count };
}
