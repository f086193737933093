// A phase's held-out split and LAB replay, the one rule runTraining trains by and export-training writes out, so a
// cluster's data is the trainer's to the sample.
import { DataError, rngFor, shuffledIndices, splitHeldOut, type Sample } from './data';
import type { RunSettings } from './settings';

export interface PhaseSplit {
  /** This phase's own training samples, then the replayed ones. */
  train: Sample[];
  heldOut: Sample[];
  /** Indices into the previous phase's training samples that are replayed (LAB), in replay order. */
  replayed: number[];
}

/**
 * Splits `samples` (phase `phase`, read from `file`) into training and held-out, and adds a seeded draw of the previous
 * phase's training samples (`--replay` of them). Throws DataError when nothing is left to train.
 */
export function splitPhase(
  samples: readonly Sample[],
  previousTrain: readonly Sample[] | undefined,
  st: Pick<RunSettings, 'evalFraction' | 'seed' | 'replay'>,
  phase: string,
  file: string,
  skippedLines: number,
): PhaseSplit {
  const split = splitHeldOut(samples, st.evalFraction, st.seed);
  let train = split.train;
  let replayed: number[] = [];
  if (previousTrain && st.replay > 0) {
    const n = Math.round(previousTrain.length * st.replay);
    replayed = shuffledIndices(previousTrain.length, rngFor(st.seed, `replay:${phase}`)).slice(0, n);
    train = [...train, ...replayed.map((i) => previousTrain[i])];
  }
  if (train.length === 0) throw new DataError(file, undefined, 'no trainable samples', skippedLines ? `${skippedLines} lines were skipped; see above` : 'the file is empty');
  return { train, heldOut: split.heldOut, replayed };
}
