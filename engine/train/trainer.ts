// The training loop: phases (LAB's knowledge phase, then skills with replay), each with its own epochs, a fresh
// AdamW and its own warmup + cosine schedule; micro-batches accumulated into optimizer steps (their losses
// normalized over all trained tokens of the step); clipping; held-out loss; a loss curve CSV; checkpoints after each
// epoch, every N steps and on cancel; resume from the newest checkpoint, bit for bit. A non-finite loss or gradient
// stops the run before the update and names the step, batch and samples; checkpoints already written stay.

import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from './batch';
import {
  fingerprintDifferences,
  latestCheckpoint,
  restoreCheckpoint,
  writeCheckpoint,
  type CheckpointState,
  type DataPosition,
} from './checkpoint';
import { batchOf, planEpoch, rngFor, trainedTargets, type BatchPlan, type Sample } from './data';
import { dropoutKey } from './dropout';
import type { LoraGrad, LoraWeights } from './lora';
import type { TrainModel } from './model';
import { AdamW, clipGradients, gradientNorm, learningRate } from './optim';
import { forwardBackward, forwardLoss, type StepOptions, type StepResult } from './step';
import { ResumeError, TrainingCancelledError, TrainingDivergedError } from './errors';

export { ResumeError, TrainingCancelledError, TrainingDivergedError };

export const lossCsvFile = 'loss.csv';
const csvHeader = 'step,phase,epoch,batch,loss,lr,grad_norm,tokens,eval_loss';

export interface TrainerSettings {
  lr: number;
  /** Share of each phase's steps spent warming up (default 0.03, as InstructLab's trainer). */
  warmupRatio?: number;
  minLrRatio?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this (default 1). */
  maxGradNorm?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Micro-batches per optimizer step (default 1). */
  accumulate?: number;
  batchTokens: number;
  maxSeqLen: number;
  packing?: boolean;
  seed: number;
  /** Also checkpoint every this many optimizer steps (default: only after each epoch). */
  checkpointEvery?: number;
  /** Checkpoints kept, newest first (default 3). */
  keepCheckpoints?: number;
  /** Evaluate the held-out loss every this many steps, besides before training and after each epoch. */
  evalEvery?: number;
}

export interface PhaseData {
  name: string;
  epochs: number;
  samples: readonly Sample[];
}

export interface StepProgress {
  step: number;
  totalSteps: number;
  phase: string;
  epoch: number;
  /** Micro-batches of the epoch done, and in all. */
  batch: number;
  batches: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  /** Seconds left at the current rate. */
  etaSeconds: number;
}

export interface TrainerEvents {
  onStep?(p: StepProgress): void;
  onEval?(e: { step: number; loss: number; tokens: number }): void;
  onCheckpoint?(c: { step: number; dir: string; reason: string }): void;
  onLog?(text: string): void;
}

/** forwardBackward's shape: what computes one micro-batch's loss and gradients (tests pass doubles). */
export type StepFunction = (model: TrainModel, lora: LoraWeights, batch: Batch, opts: StepOptions) => Promise<StepResult>;

export interface TrainerInput {
  model: TrainModel;
  /** Trained in place. */
  lora: LoraWeights;
  phases: readonly PhaseData[];
  heldOut: readonly Sample[];
  padId: number;
  settings: TrainerSettings;
  /** Holds checkpoints/ and loss.csv. */
  outDir: string;
  /** Continue from the newest checkpoint in outDir (refused when its fingerprint differs). */
  resume?: boolean;
  /** What must not change across a resume: settings, data hashes, model. */
  fingerprint: Record<string, unknown>;
  signal?: AbortSignal;
  events?: TrainerEvents;
  step?: StepFunction;
  /** Milliseconds clock for tokens/s and ETA (never affects results). */
  now?: () => number;
}

export interface TrainResult {
  steps: number;
  resumedFromStep: number;
  /** Held-out loss before training (undefined when resuming or without held-out data) and at the end. */
  initialEvalLoss?: number;
  finalEvalLoss?: number;
  lastLoss?: number;
  trainedTokens: number;
}

function addInto(sum: Map<string, LoraGrad>, g: ReadonlyMap<string, LoraGrad>): void {
  for (const [name, v] of g) {
    const s = sum.get(name);
    if (!s) {
      sum.set(name, { a: v.a.slice(), b: v.b.slice() });
      continue;
    }
    for (let i = 0; i < s.a.length; i++) s.a[i] += v.a[i];
    for (let i = 0; i < s.b.length; i++) s.b[i] += v.b[i];
  }
}

/** The micro-batches of epoch `epoch` of phase `phase`: a function of the seed only. */
export function epochPlan(phase: PhaseData, phaseIndex: number, epoch: number, settings: TrainerSettings): BatchPlan[] {
  const lengths = phase.samples.map((s) => s.ids.length);
  return planEpoch(lengths, { batchTokens: settings.batchTokens, maxSeqLen: settings.maxSeqLen, packing: settings.packing }, rngFor(settings.seed, `phase:${phaseIndex}:epoch:${epoch}`));
}

/** Held-out loss: the token-weighted mean over every held-out sample. */
export async function heldOutLoss(model: TrainModel, lora: LoraWeights, samples: readonly Sample[], padId: number, settings: TrainerSettings): Promise<{ loss: number; tokens: number }> {
  const plan = planEpoch(samples.map((s) => s.ids.length), { batchTokens: settings.batchTokens, maxSeqLen: settings.maxSeqLen }, rngFor(settings.seed, 'held-out-order'));
  let sum = 0;
  let tokens = 0;
  for (const p of plan) {
    const r = await forwardLoss(model, lora, batchOf(samples, p, padId), { normalizer: 1 });
    sum += r.loss;
    tokens += r.tokens;
  }
  return { loss: tokens ? sum / tokens : NaN, tokens };
}

/** Runs (or resumes) training; the LoRA in `input.lora` ends trained. */
export async function train(input: TrainerInput): Promise<TrainResult> {
  const { model, lora, phases, settings: s, outDir, events = {} } = input;
  const step = input.step ?? forwardBackward;
  const now = input.now ?? (() => performance.now());
  const accumulate = s.accumulate ?? 1;
  if (!Number.isInteger(accumulate) || accumulate < 1) throw new RangeError(`accumulate ${accumulate} is not a positive whole number`);
  const keep = s.keepCheckpoints ?? 3;
  const newOptimizer = () => new AdamW(lora, { betas: s.betas, eps: s.eps, weightDecay: s.weightDecay ?? 0 });
  await mkdir(outDir, { recursive: true });
  const csv = join(outDir, lossCsvFile);

  const stepsOfPhase = phases.map((p, i) => {
    let n = 0;
    for (let e = 0; e < p.epochs; e++) n += Math.ceil(epochPlan(p, i, e, s).length / accumulate);
    return n;
  });
  const totalSteps = stepsOfPhase.reduce((a, b) => a + b, 0);

  let position: DataPosition = { phase: 0, epoch: 0, batch: 0 };
  let stepNo = 0;
  let optimizer = newOptimizer();
  let lastCheckpoint: string | undefined;
  let resumedFromStep = 0;
  let initialEvalLoss: number | undefined;
  const result: TrainResult = { steps: 0, resumedFromStep: 0, trainedTokens: 0 };

  if (input.resume) {
    const cp = await latestCheckpoint(outDir);
    if (!cp) throw new ResumeError(`${join(outDir, 'checkpoints')}: no checkpoint to resume from (run without --resume to start)`);
    const diff = fingerprintDifferences(cp.state.fingerprint, input.fingerprint);
    if (diff.length) throw new ResumeError(`${cp.dir}: the run was started with other ${diff.join(', ')}; resume with the same settings and data, or start afresh in another --out folder`);
    await restoreCheckpoint(cp, lora, optimizer);
    position = cp.state.position;
    stepNo = resumedFromStep = cp.state.step;
    lastCheckpoint = cp.dir;
    // The curve keeps what the checkpoint had seen: rows after it are recomputed.
    const rows = (await readFile(csv, 'utf8').catch(() => `${csvHeader}\n`)).split('\n').filter((l) => l && l !== csvHeader);
    await writeFile(csv, [csvHeader, ...rows.filter((r) => Number(r.split(',')[0]) <= stepNo)].join('\n') + '\n');
    events.onLog?.(`resuming from ${cp.dir} (step ${stepNo}, phase ${phases[position.phase]?.name ?? 'done'}, epoch ${position.epoch + 1}, micro-batch ${position.batch + 1})`);
  } else {
    await writeFile(csv, `${csvHeader}\n`);
    if (input.heldOut.length) {
      const e = await heldOutLoss(model, lora, input.heldOut, input.padId, s);
      initialEvalLoss = e.loss;
      events.onEval?.({ step: 0, loss: e.loss, tokens: e.tokens });
      await appendFile(csv, `0,,,,,,,,${e.loss}\n`);
    }
  }

  const checkpoint = async (reason: string, next: DataPosition) => {
    const state: CheckpointState = {
      version: 1,
      step: stepNo,
      position: next,
      optimizerStep: optimizer.state.step,
      rng: { seed: s.seed, scheme: 'seed-phase-epoch' },
      fingerprint: input.fingerprint,
      reason,
    };
    lastCheckpoint = await writeCheckpoint(outDir, state, lora, optimizer, keep);
    events.onCheckpoint?.({ step: stepNo, dir: lastCheckpoint, reason });
  };

  const started = now();
  let tokensThisRun = 0;
  let stepsThisRun = 0;
  let finalEvalLoss: number | undefined;

  for (let p = position.phase; p < phases.length; p++) {
    const phase = phases[p];
    const firstEpoch = p === position.phase ? position.epoch : 0;
    // Each phase starts from a fresh optimizer (LAB trains its phases as separate runs), unless resuming inside it.
    if (!(p === position.phase && (position.epoch > 0 || position.batch > 0))) optimizer = newOptimizer();
    const schedule = {
      peakLr: s.lr,
      warmupSteps: Math.round((s.warmupRatio ?? 0.03) * stepsOfPhase[p]),
      totalSteps: stepsOfPhase[p],
      minLrRatio: s.minLrRatio,
    };
    let phaseStep = 0;
    for (let e = 0; e < firstEpoch; e++) phaseStep += Math.ceil(epochPlan(phase, p, e, s).length / accumulate);
    for (let e = firstEpoch; e < phase.epochs; e++) {
      const plan = epochPlan(phase, p, e, s);
      const firstBatch = p === position.phase && e === position.epoch ? position.batch : 0;
      phaseStep += Math.floor(firstBatch / accumulate);
      for (let b = firstBatch; b < plan.length; b += accumulate) {
        const group = plan.slice(b, b + accumulate);
        const batches = group.map((g) => batchOf(phase.samples, g, input.padId));
        const normalizer = batches.reduce((n, x) => n + trainedTargets(x), 0);
        const grads = new Map<string, LoraGrad>();
        let loss = 0;
        for (let k = 0; k < batches.length; k++) {
          // Dropout masks are keyed by the micro-batch's place in the run, so a resumed run draws the same ones.
          const r = await step(model, lora, batches[k], { normalizer, dropout: { seed: s.seed, key: dropoutKey(p, e, b + k) } });
          const norm = Number.isFinite(r.loss) ? gradientNorm(r.grads) : NaN;
          if (!Number.isFinite(r.loss) || !Number.isFinite(norm)) {
            const sources = group[k].flat().map((i) => phase.samples[i].source);
            const what = !Number.isFinite(r.loss) ? `loss is ${r.loss}` : `gradient norm is ${norm}`;
            throw new TrainingDivergedError(stepNo + 1, phase.name, e, b + k, sources, what, lastCheckpoint);
          }
          loss += r.loss;
          addInto(grads, r.grads);
        }
        const gradNorm = clipGradients(grads, s.maxGradNorm ?? 1);
        const lr = learningRate(phaseStep, schedule);
        optimizer.step(grads, lr);
        stepNo++;
        phaseStep++;
        stepsThisRun++;
        tokensThisRun += normalizer;
        result.trainedTokens += normalizer;
        result.lastLoss = loss;
        const next: DataPosition = b + accumulate < plan.length ? { phase: p, epoch: e, batch: b + accumulate } : e + 1 < phase.epochs ? { phase: p, epoch: e + 1, batch: 0 } : { phase: p + 1, epoch: 0, batch: 0 };
        const elapsed = (now() - started) / 1000;
        const rate = elapsed > 0 ? tokensThisRun / elapsed : 0;
        const perStep = stepsThisRun > 0 ? elapsed / stepsThisRun : 0;
        events.onStep?.({
          step: stepNo,
          totalSteps,
          phase: phase.name,
          epoch: e,
          batch: Math.min(b + accumulate, plan.length),
          batches: plan.length,
          loss,
          lr,
          gradNorm,
          tokens: normalizer,
          tokensPerSecond: rate,
          etaSeconds: perStep * (totalSteps - stepNo),
        });
        let evalLoss = '';
        const endOfEpoch = next.epoch !== e || next.phase !== p;
        if (input.heldOut.length && (endOfEpoch || (s.evalEvery && stepNo % s.evalEvery === 0))) {
          const ev = await heldOutLoss(model, lora, input.heldOut, input.padId, s);
          finalEvalLoss = ev.loss;
          evalLoss = String(ev.loss);
          events.onEval?.({ step: stepNo, loss: ev.loss, tokens: ev.tokens });
        }
        await appendFile(csv, `${stepNo},${phase.name},${e + 1},${b + group.length},${loss},${lr},${gradNorm},${normalizer},${evalLoss}\n`);
        if (endOfEpoch) await checkpoint('epoch', next);
        else if (s.checkpointEvery && stepNo % s.checkpointEvery === 0) await checkpoint('every', next);
        if (input.signal?.aborted) {
          if (!endOfEpoch && !(s.checkpointEvery && stepNo % s.checkpointEvery === 0)) await checkpoint('cancel', next);
          throw new TrainingCancelledError(stepNo, lastCheckpoint!);
        }
      }
    }
  }
  if (finalEvalLoss === undefined && input.heldOut.length) finalEvalLoss = (await heldOutLoss(model, lora, input.heldOut, input.padId, s)).loss;
  return { ...result, steps: stepNo, resumedFromStep, initialEvalLoss, finalEvalLoss };
}
