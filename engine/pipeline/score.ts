// How close an answer is to the expected one: token-set F1, the overlap measure SQuAD-style evaluations use for
// short answers. Words are lower-cased runs of letters and digits (any script), so punctuation and case do not count;
// each distinct word counts once, so repeating a right word earns nothing.

/** The distinct words of a text. */
export function wordSet(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

/**
 * Token-set F1 of `answer` against `expected`, from 0 (no word in common) to 1 (the same words). Two texts without
 * words agree (1); one side without words scores 0.
 */
export function tokenSetF1(answer: string, expected: string): number {
  const a = wordSet(answer);
  const e = wordSet(expected);
  if (a.size === 0 && e.size === 0) return 1;
  if (a.size === 0 || e.size === 0) return 0;
  let common = 0;
  for (const w of a) if (e.has(w)) common++;
  if (common === 0) return 0;
  const precision = common / a.size;
  const recall = common / e.size;
  return (2 * precision * recall) / (precision + recall);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}
