// The train job: runTraining under the job machinery (job/start from the editor, `taxonomy-studio job train …`).
// The run folder is the output folder (adapter/, checkpoints/, loss.csv, train.json beside job.json and the logs);
// a resumed attempt continues from the newest checkpoint. Progress counts optimizer steps.
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob } from '../jobs/job';
import { CheckpointError, listCheckpoints } from './checkpoint';
import { DataError } from './data';
import { loraTargetNames, type LoraTargetName } from './lora';
import { describeEstimate, MemoryLimitError } from './memory';
import { ResumeError, TrainingDivergedError } from './errors';
import { defaultRunSettings, type RunSettings } from './settings';
import { ModelFolderError, SafetensorsError } from '../hf/errors';

export interface TrainJobArgs {
  /** Hugging Face model folder. */
  model: string;
  /** Messages JSONL file or SDG run folder. */
  data: string;
}

export interface TrainJobSettings {
  run: RunSettings;
  strict: boolean;
  maxMemory?: number;
}

function text(raw: Record<string, unknown>, key: string): string {
  const v = raw[key];
  if (typeof v !== 'string' || !v) throw new JobArgsError(`${key}: required (a path)`);
  return v;
}

function number(raw: Record<string, unknown>, key: string, fallback: number): number {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new JobArgsError(`${key}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return v;
}

export const trainJob = defineJob({
  kind: 'train',
  title: 'Training',
  description:
    'train fine-tunes a LoRA adapter (args: model, a Hugging Face folder; data, a messages JSONL file or a run folder ' +
    'from generate) into the run folder: adapter/, checkpoints/, loss.csv, train.json. Settings: rank, alpha, targets, ' +
    'dropout, qlora, checkpointing (false keeps activations: faster, more memory), epochs, lr, batchTokens, maxSeqLen, accumulate, packing, evalFraction, checkpointEvery, seed, strict, ' +
    'maxMemory (bytes). A resumed run continues from the newest checkpoint.',
  unit: 'steps',
  parseArgs(raw): TrainJobArgs {
    onlyKnown(raw, ['model', 'data'], 'args');
    return { model: text(raw, 'model'), data: text(raw, 'data') };
  },
  parseSettings(raw): TrainJobSettings {
    const known = ['rank', 'alpha', 'dropout', 'targets', 'qlora', 'checkpointing', 'epochs', 'lr', 'batchTokens', 'maxSeqLen', 'accumulate', 'packing', 'evalFraction', 'checkpointEvery', 'seed', 'strict', 'maxMemory'];
    onlyKnown(raw, known, 'settings');
    const targets = raw.targets ?? [...loraTargetNames];
    if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => (loraTargetNames as readonly unknown[]).includes(t))) {
      throw new JobArgsError(`targets: expected a list of ${loraTargetNames.join(', ')}`);
    }
    const d = defaultRunSettings;
    const run: RunSettings = {
      ...d,
      rank: wholeNumber(raw, 'rank', { min: 1 }) ?? d.rank,
      alpha: number(raw, 'alpha', d.alpha),
      dropout: number(raw, 'dropout', d.dropout),
      targets: targets as LoraTargetName[],
      qlora: raw.qlora === true,
      checkpointing: raw.checkpointing !== false,
      epochs: wholeNumber(raw, 'epochs', { min: 1 }) ?? d.epochs,
      lr: number(raw, 'lr', d.lr),
      batchTokens: wholeNumber(raw, 'batchTokens', { min: 1 }) ?? d.batchTokens,
      maxSeqLen: wholeNumber(raw, 'maxSeqLen', { min: 2 }) ?? d.maxSeqLen,
      accumulate: wholeNumber(raw, 'accumulate', { min: 1 }) ?? d.accumulate,
      packing: raw.packing === true,
      evalFraction: number(raw, 'evalFraction', d.evalFraction),
      seed: wholeNumber(raw, 'seed') ?? d.seed,
      ...(raw.checkpointEvery !== undefined ? { checkpointEvery: wholeNumber(raw, 'checkpointEvery', { min: 1 }) } : {}),
    };
    if (run.dropout >= 1) throw new JobArgsError(`dropout: expected a probability below 1, got ${run.dropout}`);
    if (run.evalFraction >= 1) throw new JobArgsError(`evalFraction: expected a number below 1, got ${run.evalFraction}`);
    return { run, strict: raw.strict === true, maxMemory: wholeNumber(raw, 'maxMemory', { min: 1 }) };
  },
  async run(ctx) {
    const resume = ctx.resumed && (await listCheckpoints(ctx.run.dir)).length > 0;
    try {
      // Loaded on use: it brings onnxruntime's native binding, which other jobs should not pay for.
      const { runTraining } = await import('./run');
      const r = await runTraining({
        modelDir: ctx.args.model,
        data: ctx.args.data,
        outDir: ctx.run.dir,
        settings: ctx.settings.run,
        strict: ctx.settings.strict,
        maxMemory: ctx.settings.maxMemory,
        resume,
        signal: ctx.signal,
        events: {
          onEstimate: (e) => ctx.log('info', `memory: ${describeEstimate(e)}`),
          onProblem: (p) => ctx.log('warn', `${p.file}:${p.line}: skipped: ${p.reason}`),
          onLog: (t) => ctx.log('info', t),
          onEval: (e) => {
            ctx.log('info', `step ${e.step}: held-out loss ${e.loss.toFixed(4)}`);
            ctx.partial('eval', e);
          },
          onStep: (p) => {
            ctx.progress({ done: p.step, total: p.totalSteps, stage: `${p.phase} epoch ${p.epoch + 1}, loss ${p.loss.toFixed(4)}` });
            ctx.partial('step', p);
          },
          onCheckpoint: (c) => ctx.log('info', `checkpoint ${c.dir} (${c.reason})`),
        },
      });
      try {
        const { trainingProvenance } = await import('../provenance/training');
        const { writeAdapterProvenance } = await import('../provenance/sidecar');
        await writeAdapterProvenance(r.adapterDir, await trainingProvenance(ctx.args.model, ctx.args.data, { ...ctx.settings.run }));
      } catch (err) {
        // The adapter is trained and kept; only the record of what produced it is missing.
        ctx.log('warn', `provenance.json not written beside the adapter: ${(err as Error).message}`);
      }
      return { steps: r.steps, adapter: r.adapterDir, finalEvalLoss: r.finalEvalLoss ?? null, initialEvalLoss: r.initialEvalLoss ?? null, skippedLines: r.problems.length };
    } catch (err) {
      const known =
        err instanceof DataError ||
        err instanceof MemoryLimitError ||
        err instanceof TrainingDivergedError ||
        err instanceof ResumeError ||
        err instanceof CheckpointError ||
        err instanceof ModelFolderError ||
        err instanceof SafetensorsError;
      if (known) throw new JobFailure((err as Error).message, err instanceof DataError ? err.file : undefined);
      throw err;
    }
  },
  describe: (s) => `${s.steps} steps; adapter in ${s.adapter}${typeof s.finalEvalLoss === 'number' ? `, held-out loss ${s.finalEvalLoss.toFixed(4)}` : ''}`,
});
