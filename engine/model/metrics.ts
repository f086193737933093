// Comparing next-token distributions: softmax, log-softmax and KL divergence over raw logits (computed in float64,
// max-subtracted so large logits do not overflow), plus the worst-element difference of two logit vectors.

export type Logits = ArrayLike<number>;

export function logSoftmax(logits: Logits): Float64Array {
  const n = logits.length;
  if (n === 0) throw new RangeError('logSoftmax of an empty vector');
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i] - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = logits[i] - logZ;
  return out;
}

export function softmax(logits: Logits): Float64Array {
  const out = logSoftmax(logits);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]);
  return out;
}

/** KL(P ‖ Q) = Σ p · (log p − log q) in nats, P and Q given as logits over the same vocabulary. */
export function klDivergence(pLogits: Logits, qLogits: Logits): number {
  if (pLogits.length !== qLogits.length) {
    throw new RangeError(`klDivergence: vocabularies differ (${pLogits.length} vs ${qLogits.length} logits)`);
  }
  const lp = logSoftmax(pLogits);
  const lq = logSoftmax(qLogits);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const p = Math.exp(lp[i]);
    if (p > 0) kl += p * (lp[i] - lq[i]);
  }
  // Rounding can leave a tiny negative value for identical distributions; KL is never negative.
  return Math.max(0, kl);
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: Logits): number {
  if (values.length === 0) throw new RangeError('argmax of an empty vector');
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Largest |a[i] − b[i]| and where it is, to report the worst element rather than a bare pass/fail. */
export function maxAbsDiff(a: Logits, b: Logits): { max: number; index: number } {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let max = 0;
  let index = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max || Number.isNaN(d) || index < 0) {
      max = Number.isNaN(d) ? NaN : d;
      index = i;
      if (Number.isNaN(d)) break;
    }
  }
  return { max, index };
}
