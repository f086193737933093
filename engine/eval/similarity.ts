// How close a model's answer is to the leaf's expected answer: token-set F1, as reading-comprehension benchmarks
// score answers (SQuAD's F1, here over sets rather than bags). Text is NFKC-normalised and lower-cased, and split
// into runs of letters or digits (any script), so punctuation, markup and spacing do not count; each distinct token
// counts once. precision = shared / answer tokens, recall = shared / expected tokens, F1 their harmonic mean, in
// [0, 1]. It rewards the right words, not their order: a cheap, explainable signal of what training changed, not a
// judge of correctness.

export function tokenSet(text: string): Set<string> {
  return new Set(text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

export interface Similarity {
  precision: number;
  recall: number;
  f1: number;
}

/** Token-set F1 of `answer` against `expected`; two texts without tokens are equal (1), one without is 0. */
export function tokenSetF1(answer: string, expected: string): Similarity {
  const a = tokenSet(answer);
  const e = tokenSet(expected);
  if (a.size === 0 && e.size === 0) return { precision: 1, recall: 1, f1: 1 };
  let shared = 0;
  for (const t of a) if (e.has(t)) shared++;
  if (shared === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = shared / a.size;
  const recall = shared / e.size;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}
