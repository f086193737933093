// The `pipeline` job: the whole LAB loop in one run folder, one sub-folder per stage:
//
//   check/     which leaves (changed against the git base, --leaf paths, or all) and the editor's checks over them
//   generate/  synthetic data for those leaves with the teacher (the generate job)
//   train/     a LoRA adapter on the student (the train job)
//   export/    the adapter as a GGUF LoRA adapter, the student as GGUF unless one was given
//   evaluate/  the server started here with base + tuned, every seed question asked to both and scored
//   report.md  stages, timings, dataset counts, the loss curve (loss.png) and the evaluation table
//
// Every stage is a job run by the same runner (engine/jobs/runner.ts) in its sub-folder, with its own job.json and
// ledger, so it resumes inside itself; the pipeline's ledger commits a stage when its job has succeeded, so a
// resumed pipeline starts at the first stage it lacks. Progress is the running stage's own (done/total in its
// unit) with "k/n stage - what it does" as the stage text, so the Jobs view and the terminal show where it is.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob, type JobContext, type JobKind, type JobSummary } from '../jobs/job';
import { readRunRecord } from '../jobs/runDir';
import { defaultSystemPrompt, generateJob, type GenerateSummary } from '../sdg/generate';
import type { RunReport } from '../sdg/report';
import { trainJob } from '../train/job';
import { checkStageJob, type CheckStageSummary } from './checkStage';
import { evaluateStageJob, type EvaluateStageSummary } from './evaluateStage';
import { exportStageJob, type ExportStageSummary } from './exportStage';
import { bool, optionalText, record, requiredText, textList } from './fields';
import { writePipelineReport } from './report';

export interface PipelineArgs {
  /** Absolute path of the taxonomy root. */
  taxonomy: string;
  /** Hugging Face folder of the student. */
  student: string;
  /** A GGUF of the student to serve; without it the export stage converts the student. */
  studentGguf?: string;
  /** Leaf files or folders; empty: the leaves changed against gitBase (or all with `all`). */
  leaves: string[];
  all: boolean;
  gitBase?: string;
  allowErrors: boolean;
  /** Samples generated per seed example. */
  perSeed: number;
  seed: number;
  systemPrompt: string;
  epochs: number;
  rank: number;
  qlora: boolean;
  /** Most tokens of an answer in the evaluation. */
  evalMaxTokens: number;
}

export interface PipelineSettings {
  /** The generate stage's teacher: a GGUF file or OpenAI-compatible server URLs. */
  teacher: string;
  repoCache?: string;
  /** CPU threads for the local teacher, the conversion and the server. */
  threads?: number;
  gpu?: 'auto' | 'off';
  /** Extra settings of the generate job (parallel, contextSize, maxTokens, maxChars, calibrate, apiKeyEnv, ...). */
  generate: Record<string, unknown>;
  /** Extra settings of the train job (lr, batchTokens, maxSeqLen, evalFraction, ...); rank, epochs, qlora are args. */
  train: Record<string, unknown>;
  /** Settings of the evaluation (parallel, contextSize). */
  evaluate: Record<string, unknown>;
}

/** What a finished stage leaves in the pipeline's ledger (the unit `stage:<name>`). */
export interface StageRecord {
  summary: JobSummary;
  /** Seconds of the attempt that finished it. */
  seconds: number;
  /** Attempts the stage's job took (1 + resumes). */
  attempts: number;
  finishedAt: string;
}

export interface PipelineSummary extends Record<string, unknown> {
  report: string;
  plot?: string;
  leaves: number;
  kept: number;
  steps: number;
  base: number;
  tuned: number;
  seconds: number;
}

export const stageNames = ['check', 'generate', 'train', 'export', 'evaluate'] as const;
export type StageName = (typeof stageNames)[number];

/** The stage kinds, for the runner: the pipeline starts them from this table, not the engine's. */
export const stageKinds: readonly JobKind<any, any, any>[] = [checkStageJob, generateJob, trainJob, exportStageJob, evaluateStageJob];
const kindOf: Record<StageName, JobKind<any, any, any>> = { check: checkStageJob, generate: generateJob, train: trainJob, export: exportStageJob, evaluate: evaluateStageJob };

export function stageKey(name: StageName): string {
  return `stage:${name}`;
}

/** What the train job writes in its run folder (engine/train/run.ts, trainer.ts; not imported: they load onnxruntime). */
export const trainOutputs = { adapter: 'adapter', lossCsv: 'loss.csv', trainJson: 'train.json' } as const;

const trainArgsInSettings = ['rank', 'epochs', 'qlora', 'seed'];

/** The request of every stage, from the pipeline's args and settings and the summaries of the stages before it. */
export function stageRequest(
  name: StageName,
  args: PipelineArgs,
  settings: PipelineSettings,
  done: Partial<Record<StageName, JobSummary>>,
  runDir: string,
  /** What train reads: the generate folder, or its one non-empty mixed file (see trainData). */
  trainInput: string = join(runDir, 'generate'),
): { args: Record<string, unknown>; settings: Record<string, unknown> } {
  const common = { ...(settings.threads ? { threads: settings.threads } : {}), ...(settings.gpu ? { gpu: settings.gpu } : {}) };
  const usable = () => usableLeaves(done.check as CheckStageSummary);
  switch (name) {
    case 'check':
      return {
        args: { taxonomy: args.taxonomy, leaves: args.leaves, all: args.all, allowErrors: args.allowErrors, ...(args.gitBase ? { gitBase: args.gitBase } : {}) },
        settings: settings.repoCache ? { repoCache: settings.repoCache } : {},
      };
    case 'generate':
      return {
        args: { taxonomy: args.taxonomy, leaves: usable(), changed: false, perSeed: args.perSeed, strict: false, seed: args.seed, systemPrompt: args.systemPrompt },
        settings: { teacher: settings.teacher, ...common, ...(settings.repoCache ? { repoCache: settings.repoCache } : {}), ...settings.generate },
      };
    case 'train':
      return { args: { model: args.student, data: trainInput }, settings: { ...settings.train, rank: args.rank, epochs: args.epochs, qlora: args.qlora, seed: args.seed } };
    case 'export':
      return {
        args: {
          student: args.student,
          adapter: join(runDir, 'train', trainOutputs.adapter),
          ...(args.studentGguf ? { studentGguf: args.studentGguf } : {}),
          // What the adapter records it came from (engine/provenance): the export stage hashes these files.
          provenance: {
            taxonomy: args.taxonomy,
            leaves: usable(),
            dataset: trainInput,
            teacher: settings.teacher,
            settings: {
              perSeed: args.perSeed,
              seed: args.seed,
              rank: args.rank,
              epochs: args.epochs,
              qlora: args.qlora,
              ...Object.fromEntries(Object.entries(settings.train).map(([k, v]) => [`train.${k}`, v])),
              ...Object.fromEntries(Object.entries(settings.generate).map(([k, v]) => [`generate.${k}`, v])),
            },
          },
        },
        settings: settings.threads ? { threads: settings.threads } : {},
      };
    case 'evaluate': {
      const exported = done.export as ExportStageSummary;
      return {
        args: { model: exported.base.file, adapter: exported.adapter.file, leaves: usable(), systemPrompt: args.systemPrompt, maxTokens: args.evalMaxTokens, seed: args.seed },
        settings: { ...common, ...settings.evaluate },
      };
    }
  }
}

/** The selected leaves generate and evaluate work on: those without errors (with allowErrors, the rest are left out). */
export function usableLeaves(check: CheckStageSummary): string[] {
  return check.leaves.filter((l) => l.errors === 0).map((l) => l.file);
}

/**
 * The train stage's data: the generate folder (knowledge phase, then skills), or, when one mixed file came out empty
 * (every sample of a knowledge leaf dropped, say), the other file alone: train refuses an empty phase.
 */
export async function trainData(runDir: string): Promise<string> {
  const folder = join(runDir, 'generate');
  let report: RunReport | undefined;
  try {
    report = JSON.parse(await readFile(join(folder, 'report.json'), 'utf8')) as RunReport;
  } catch {
    return folder;
  }
  const mixed = report.mixed ?? [];
  const filled = mixed.filter((m) => m.lines > 0);
  return filled.length === 1 && mixed.length > 1 ? join(folder, filled[0].file) : folder;
}

function whole(raw: Record<string, unknown>, key: string, fallback: number, range: { min?: number; max?: number } = { min: 1 }): number {
  return wholeNumber(raw, key, range) ?? fallback;
}

export const pipelineJob = defineJob({
  kind: 'pipeline',
  title: 'Running the whole loop',
  description:
    'pipeline runs check -> generate -> train -> export -> serve + evaluate in one run folder, one sub-folder per stage, ' +
    'and writes report.md with loss.png (args: taxonomy, student, studentGguf, leaves, all, gitBase, allowErrors, perSeed, ' +
    'seed, systemPrompt, epochs, rank, qlora, evalMaxTokens; settings: teacher, repoCache, threads, gpu, and objects ' +
    'generate, train, evaluate passed to those stages). A resumed pipeline starts at the first unfinished stage.',
  unit: 'stages',
  parseArgs(raw): PipelineArgs {
    onlyKnown(raw, ['taxonomy', 'student', 'studentGguf', 'leaves', 'all', 'gitBase', 'allowErrors', 'perSeed', 'seed', 'systemPrompt', 'epochs', 'rank', 'qlora', 'evalMaxTokens'], 'args');
    const studentGguf = optionalText(raw, 'studentGguf');
    const gitBase = optionalText(raw, 'gitBase');
    const args: PipelineArgs = {
      taxonomy: requiredText(raw, 'taxonomy', 'the taxonomy folder'),
      student: requiredText(raw, 'student', 'the Hugging Face folder of the student model'),
      ...(studentGguf ? { studentGguf } : {}),
      leaves: textList(raw, 'leaves'),
      all: bool(raw, 'all'),
      ...(gitBase ? { gitBase } : {}),
      allowErrors: bool(raw, 'allowErrors'),
      perSeed: whole(raw, 'perSeed', 30, { min: 1, max: 100_000 }),
      seed: whole(raw, 'seed', 42, { min: 0 }),
      systemPrompt: optionalText(raw, 'systemPrompt') ?? defaultSystemPrompt,
      epochs: whole(raw, 'epochs', 1, { min: 1, max: 10_000 }),
      rank: whole(raw, 'rank', 8, { min: 1, max: 4096 }),
      qlora: bool(raw, 'qlora'),
      evalMaxTokens: whole(raw, 'evalMaxTokens', 256, { min: 1, max: 1 << 20 }),
    };
    if (args.all && args.leaves.length) throw new JobArgsError('all: give either leaves or all, not both');
    return args;
  },
  parseSettings(raw): PipelineSettings {
    onlyKnown(raw, ['teacher', 'repoCache', 'threads', 'gpu', 'generate', 'train', 'evaluate'], 'settings');
    const teacher = requiredText(raw, 'teacher', 'a GGUF model file, or the URL of an OpenAI-compatible server');
    const gpu = raw.gpu;
    if (gpu !== undefined && gpu !== 'auto' && gpu !== 'off') throw new JobArgsError(`gpu: expected "auto" or "off", got ${JSON.stringify(gpu)}`);
    const threads = wholeNumber(raw, 'threads', { min: 1, max: 1024 });
    const repoCache = optionalText(raw, 'repoCache');
    const s: PipelineSettings = {
      teacher,
      ...(repoCache ? { repoCache } : {}),
      ...(threads ? { threads } : {}),
      ...(gpu ? { gpu } : {}),
      generate: record(raw, 'generate') ?? {},
      train: record(raw, 'train') ?? {},
      evaluate: record(raw, 'evaluate') ?? {},
    };
    const inTrain = trainArgsInSettings.filter((k) => k in s.train);
    if (inTrain.length) throw new JobArgsError(`train.${inTrain[0]}: give it as the pipeline's ${inTrain[0]} argument, not a train setting`);
    if ('teacher' in s.generate) throw new JobArgsError('generate.teacher: give the teacher as the pipeline\'s teacher setting');
    // Check each stage's settings now, so a typo fails at the start rather than after an hour of generation.
    const prefix = (stage: string, f: () => unknown) => {
      try {
        f();
      } catch (err) {
        if (err instanceof JobArgsError) throw new JobArgsError(`${stage}.${err.message}`);
        throw err;
      }
    };
    const common = { ...(threads ? { threads } : {}), ...(gpu ? { gpu } : {}) };
    prefix('generate', () => generateJob.parseSettings({ teacher, ...common, ...(repoCache ? { repoCache } : {}), ...s.generate }));
    prefix('train', () => trainJob.parseSettings(s.train));
    prefix('evaluate', () => evaluateStageJob.parseSettings({ ...common, ...s.evaluate }));
    return s;
  },
  run: (ctx) => runPipeline(ctx),
  describe: (s) => `report ${s.report}: tuned ${Number(s.tuned).toFixed(3)} vs base ${Number(s.base).toFixed(3)} (token-set F1) on ${s.leaves} ${s.leaves === 1 ? 'leaf' : 'leaves'}`,
});

async function runPipeline(ctx: JobContext<PipelineArgs, PipelineSettings>): Promise<PipelineSummary> {
  const { args, settings, run } = ctx;
  const done: Partial<Record<StageName, JobSummary>> = {};
  const records: Partial<Record<StageName, StageRecord>> = {};
  for (const [i, name] of stageNames.entries()) {
    ctx.signal.throwIfAborted();
    // Train reads it; export records it as the adapter's dataset.
    const input = name === 'train' || name === 'export' ? await trainData(run.dir) : undefined;
    const rec = await runStage(ctx, i, name, stageRequest(name, args, settings, done, run.dir, input));
    records[name] = rec;
    done[name] = rec.summary;
    if (name === 'check' && usableLeaves(rec.summary as CheckStageSummary).length === 0) {
      throw new JobFailure('every selected leaf has errors: nothing to generate for; fix them and start a new run', args.taxonomy);
    }
    if (name === 'generate' && Number((rec.summary as GenerateSummary).kept) === 0) {
      throw new JobFailure(
        `generate kept no sample (${run.path('generate/report.json')} says why each was dropped): nothing to train on; raise --samples-per-seed or use a stronger teacher in a new run`,
        run.path('generate/report.json'),
      );
    }
  }
  // Counted from 0 again, so the rate of the last stage's questions is not shown as a rate of report files.
  ctx.progress({ done: 0, total: 1, unit: 'files', stage: 'writing the report' });
  const written = await writePipelineReport(run, args, settings, records as Record<StageName, StageRecord>);
  ctx.progress({ done: 1, total: 1, unit: 'files', stage: 'writing the report' });
  const evaluation = done.evaluate as EvaluateStageSummary;
  const seconds = stageNames.reduce((s, n) => s + (records[n]?.seconds ?? 0), 0);
  ctx.log('info', `report: ${written.report}`);
  return {
    report: written.report,
    ...(written.plot ? { plot: written.plot } : {}),
    leaves: evaluation.leaves.length,
    kept: Number((done.generate as GenerateSummary).kept),
    steps: Number(done.train?.steps ?? 0),
    base: evaluation.base,
    tuned: evaluation.tuned,
    seconds,
  };
}

/**
 * Runs one stage as a job in its sub-folder (resuming it when an earlier attempt started it) and commits it to the
 * pipeline's ledger; a stage the ledger has is not run again.
 */
async function runStage(ctx: JobContext<PipelineArgs, PipelineSettings>, index: number, name: StageName, request: { args: Record<string, unknown>; settings: Record<string, unknown> }): Promise<StageRecord> {
  const { run } = ctx;
  const key = stageKey(name);
  const label = `${index + 1}/${stageNames.length} ${name}`;
  if (run.isDone(key)) {
    ctx.log('info', `${name}: finished in an earlier attempt`);
    return run.completedMeta(key) as StageRecord;
  }
  const dir = run.path(name);
  const kind = kindOf[name];
  const args = request.args;
  const previous = await readRunRecord(dir);
  if (previous && previous.kind !== kind.kind) throw new JobFailure(`${dir}: holds a ${previous.kind} run, not the ${kind.kind} stage; the pipeline folder was changed outside the pipeline`, dir);
  const started = performance.now();
  let summary: JobSummary;
  let attempts: number;
  if (previous?.status === 'succeeded' && previous.summary) {
    // The stage ended but the pipeline was stopped before it could record that.
    summary = previous.summary;
    attempts = previous.attempts;
  } else {
    ctx.progress({ done: 0, stage: `${label}${previous ? ' - resuming' : ''}`, unit: kind.unit });
    // Imported here: the runner imports the job table, which imports this module.
    const { startJob } = await import('../jobs/runner');
    const job = await startJob(
      { kind: kind.kind, runDir: dir, args, settings: request.settings, resume: previous !== undefined },
      {
        progress: (p) => ctx.progress({ done: p.done, ...(p.total !== undefined ? { total: p.total } : {}), unit: p.unit, stage: p.stage ? `${label} - ${p.stage}` : label }),
        log: (level, text) => ctx.log(level, `${name}: ${text}`),
        partial: (partName, data) => ctx.partial(`${name}.${partName}`, data),
      },
      // Unthrottled: the pipeline's own job throttles what reaches the user; a second throttle here only delays the
      // stage's counts (a question answered in 30 ms was reported 100 ms late, after the stage had ended).
      { table: stageKinds, progressIntervalMs: 0 },
    );
    const cancel = () => job.cancel();
    ctx.signal.addEventListener('abort', cancel, { once: true });
    if (ctx.signal.aborted) cancel();
    const outcome = await job.outcome.finally(() => ctx.signal.removeEventListener('abort', cancel));
    if (outcome.status === 'cancelled') throw ctx.signal.reason ?? new JobFailure(`${name}: cancelled`);
    if (outcome.status === 'failed') throw new JobFailure(`${name}: ${outcome.error?.message ?? 'the stage failed'} (the stage's run folder: ${dir})`, outcome.error?.file ?? dir);
    summary = outcome.summary;
    attempts = job.run.info.attempts;
  }
  const rec: StageRecord = { summary, seconds: (performance.now() - started) / 1000, attempts, finishedAt: new Date().toISOString() };
  await run.commit(key, {}, rec);
  ctx.log('info', `${name} finished in ${rec.seconds.toFixed(1)} s: ${kind.describe(summary)}`);
  return rec;
}
