// The pipeline's answer score: the token-set F1 of engine/eval/similarity.ts (the chat panel's Ask this leaf uses the
// same measure, so the report and the panel agree), as one number per answer.
import { tokenSetF1 as similarity } from '../eval/similarity';

/** Token-set F1 of `answer` against `expected`, from 0 (no word in common) to 1 (the same words). */
export function tokenSetF1(answer: string, expected: string): number {
  return similarity(answer, expected).f1;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}
