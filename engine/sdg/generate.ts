// The `generate` job: synthetic training data for a taxonomy's leaves with a teacher model, in a run folder.
//
//   1. leaves: selected (all, --leaf paths, --changed) and checked; a leaf with errors is skipped with the reason,
//      or stops the run with --strict
//   2. teacher: opened and health-checked (loads, answers, context size) before any work
//   3. plans: seed examples per leaf, documents read and chunked for knowledge leaves
//   4. calibration: the first units run alone, and their time and tokens give an estimate for the rest
//   5. units: every (leaf, unit) the ledger lacks, `parallel` at once; each unit's sample (if it passed the filters)
//      is appended to staging/<leaf>.jsonl and the unit to the ledger in one commit, so a cancelled or killed run
//      resumes with exactly the missing units
//   6. the end: per leaf, staged samples deduplicated and written as InstructLab writes them (node_datasets_*/…),
//      the mixed knowledge and skills files with their recipes, and report.json (per leaf: generated, kept, dropped
//      per reason, teacher tokens and time)
//
// A teacher that stops answering (dead endpoint, refused key, model that does not load) fails the job with its
// message; everything committed stays, and `--resume` goes on from there.
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob, type JobContext } from '../jobs/job';
import { dateSuffix, runFileNames } from './datasets';
import type { LoadDocumentOptions } from './documents';
import { writeMixedDatasets, type LeafFiles } from './mixer';
import { finishLeaf, jsonlText } from './pipelines/finalize';
import { LeafPlanError, defaultPerSeed, planLeaf, type LeafPlan } from './pipelines/plan';
import { LeafSelectionError, selectLeaves } from './pipelines/selectLeaves';
import { openTeacher, type TeacherSettings } from './pipelines/teacherSpec';
import { callsPerUnit, defaultStepSettings, runUnit, type StagedSample, type StepSettings, type UnitResult } from './pipelines/units';
import { countDrop, formatRunReport, newLeafReport, runTotals, type LeafReport, type RunReport, type TeacherUsage } from './report';
import { reportFile, stagingFile } from './runLayout';
import { isTeacherError } from './teachers/errors';
import type { Teacher } from './teachers/teacher';

/** The system prompt the datasets carry when none is given. */
export const defaultSystemPrompt = 'You are a helpful, accurate assistant. Answer the user clearly and follow the format they ask for.';

export interface GenerateArgs {
  /** Absolute path of the taxonomy root. */
  taxonomy: string;
  /** Absolute leaf files or folders; empty: every leaf. */
  leaves: string[];
  changed: boolean;
  gitBase?: string;
  perSeed: number;
  strict: boolean;
  seed: number;
  systemPrompt: string;
}

export interface GenerateSettings extends TeacherSettings {
  /** Units run alone first, to estimate the rest (0: none; default the parallel count). */
  calibrate?: number;
  repoCache?: string;
  /** Most tokens per answer of a generating step (question, context, answer); judges take a quarter. */
  maxTokens?: number;
  /** Most characters of a generated text (the schemas' maxLength; default 600 for questions, 2,400 for answers). */
  maxChars?: number;
}

export { reportFile, stagingFile } from './runLayout';

export function unitKey(leaf: string, unit: number): string {
  return `${leaf}#${unit}`;
}

/** What a ledger line records about a unit, so reports add up across attempts. */
interface UnitMeta {
  dropped?: string;
  usage: TeacherUsage;
}

function stringList(raw: Record<string, unknown>, key: string): string[] {
  const v = raw[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new JobArgsError(`${key}: expected a list of paths`);
  return v as string[];
}

function optionalString(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new JobArgsError(`${key}: expected text, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string): boolean {
  const v = raw[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new JobArgsError(`${key}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function stepSettingsFor(args: GenerateArgs, settings: GenerateSettings): StepSettings {
  const steps: StepSettings = { ...defaultStepSettings, seed: args.seed };
  const max = settings.maxTokens;
  if (max) {
    const judge = Math.max(32, Math.floor(max / 4));
    steps.maxTokens = { question: Math.min(max, defaultStepSettings.maxTokens.question), answer: max, context: max, judge };
  }
  const chars = settings.maxChars;
  if (chars) {
    const d = defaultStepSettings.limits;
    steps.limits = { question: Math.min(d.question, chars), answer: chars, context: chars, explanation: Math.max(1, Math.min(d.explanation, Math.floor(chars / 2))) };
  }
  return steps;
}

export const generateJob = defineJob({
  kind: 'generate',
  title: 'Generating data',
  description:
    'generate writes synthetic training data for a taxonomy with a teacher model (args: taxonomy, leaves, changed, ' +
    'gitBase, perSeed, strict, seed, systemPrompt; settings: teacher (GGUF file or URLs), parallel, apiKeyEnv, model, ' +
    'contextSize, threads, gpu, retries, retryBaseMs, timeoutMs, calibrate, repoCache, maxTokens, maxChars). ' +
    'Use `taxonomy-studio generate` for the options in words.',
  unit: 'units',
  parseArgs(raw): GenerateArgs {
    onlyKnown(raw, ['taxonomy', 'leaves', 'changed', 'gitBase', 'perSeed', 'strict', 'seed', 'systemPrompt'], 'args');
    const taxonomy = optionalString(raw, 'taxonomy');
    if (!taxonomy) throw new JobArgsError('taxonomy: required (the taxonomy folder)');
    return {
      taxonomy,
      leaves: stringList(raw, 'leaves'),
      changed: bool(raw, 'changed'),
      ...(optionalString(raw, 'gitBase') ? { gitBase: optionalString(raw, 'gitBase') } : {}),
      perSeed: wholeNumber(raw, 'perSeed', { min: 1, max: 100_000 }) ?? defaultPerSeed,
      strict: bool(raw, 'strict'),
      seed: wholeNumber(raw, 'seed') ?? 42,
      systemPrompt: optionalString(raw, 'systemPrompt') ?? defaultSystemPrompt,
    };
  },
  parseSettings(raw): GenerateSettings {
    onlyKnown(raw, ['teacher', 'parallel', 'apiKeyEnv', 'model', 'contextSize', 'threads', 'gpu', 'retries', 'retryBaseMs', 'timeoutMs', 'calibrate', 'repoCache', 'maxTokens', 'maxChars'], 'settings');
    const teacher = optionalString(raw, 'teacher');
    if (!teacher) throw new JobArgsError('teacher: required (a GGUF model file, or the URL of an OpenAI-compatible server)');
    const gpu = raw.gpu;
    if (gpu !== undefined && gpu !== 'auto' && gpu !== 'off') throw new JobArgsError(`gpu: expected "auto" or "off", got ${JSON.stringify(gpu)}`);
    const s: GenerateSettings = { teacher, parallel: wholeNumber(raw, 'parallel', { min: 1, max: 512 }) ?? 4 };
    for (const k of ['apiKeyEnv', 'model', 'repoCache'] as const) {
      const v = optionalString(raw, k);
      if (v) s[k] = v;
    }
    for (const k of ['contextSize', 'threads', 'retries', 'retryBaseMs', 'timeoutMs', 'calibrate', 'maxTokens', 'maxChars'] as const) {
      const v = wholeNumber(raw, k, { min: k === 'calibrate' || k === 'retryBaseMs' ? 0 : 1 });
      if (v !== undefined) s[k] = v;
    }
    if (gpu) s.gpu = gpu;
    return s;
  },
  run: (ctx) => runGenerate(ctx),
  describe: (s) =>
    `${s.kept} samples kept of ${s.generated} generated for ${s.leaves} leaves${s.skipped ? ` (${s.skipped} skipped)` : ''}${s.resumedUnits ? `, ${s.resumedUnits} units from an earlier attempt` : ''}; ${reportFile}`,
});

export interface GenerateSummary extends Record<string, unknown> {
  leaves: number;
  skipped: number;
  generated: number;
  kept: number;
  dropped: Record<string, number>;
  resumedUnits: number;
  report: string;
  mixed: string[];
}

interface PlannedLeaf {
  plan: LeafPlan;
  report: LeafReport;
}

async function runGenerate(ctx: JobContext<GenerateArgs, GenerateSettings>): Promise<GenerateSummary> {
  const { args, settings, run } = ctx;
  const startedAt = new Date().toISOString();
  const steps = stepSettingsFor(args, settings);
  const resumedUnits = run.completedKeys().size;

  // 1. Leaves.
  ctx.progress({ done: 0, stage: 'checking the taxonomy' });
  let selected;
  try {
    selected = await selectLeaves({ taxonomy: args.taxonomy, leaves: args.leaves, changed: args.changed, gitBase: args.gitBase, repoCacheDir: settings.repoCache, signal: ctx.signal });
  } catch (err) {
    if (err instanceof LeafSelectionError) throw new JobFailure(err.message, args.taxonomy);
    throw err;
  }
  const reports: LeafReport[] = [];
  const skip = (file: string, leaf: string, pipeline: LeafReport['pipeline'], reason: string) => {
    if (args.strict) throw new JobFailure(`${file}: ${reason} (--strict stops the run; fix the leaf or run without --strict to skip it)`, file);
    ctx.log('warn', `skipping ${leaf}: ${reason}`);
    reports.push({ ...newLeafReport(leaf, pipeline), skipped: reason });
  };
  const usable = [];
  const planned: PlannedLeaf[] = [];
  let description = settings.teacher;
  for (const s of selected) {
    const leafPath = s.leaf?.location.leafPath ?? s.file;
    if (s.problem || !s.leaf) skip(s.file, leafPath, s.leaf?.kind === 'knowledge' ? 'knowledge' : 'freeform_skill', s.problem ?? 'the file cannot be read');
    else usable.push(s.leaf);
  }

  // 2. Teacher.
  ctx.progress({ done: 0, stage: 'starting the teacher' });
  let teacher: Teacher;
  try {
    teacher = await openTeacher(settings);
  } catch (err) {
    if (isTeacherError(err)) throw new JobFailure(`teacher: ${err.message}`, settings.teacher);
    throw err;
  }
  description = teacher.description;
  try {
    const health = await teacher.health(ctx.signal);
    if (!health.ok) throw new JobFailure(`teacher: ${health.problem ?? 'it does not answer'}`, settings.teacher);
    ctx.log('info', `teacher ${teacher.description}: ${health.model || 'model'} answers${health.contextSize ? `, context ${health.contextSize} tokens` : ''}`);
    for (const w of health.warnings ?? []) ctx.log('warn', `teacher: ${w}`);

    // 3. Plans.
    ctx.progress({ done: 0, stage: 'reading seeds and documents' });
    const documents: LoadDocumentOptions = { signal: ctx.signal, ...(settings.repoCache ? { repoCacheDir: settings.repoCache } : {}) };
    for (const leaf of usable) {
      const leafPath = leaf.location.leafPath ?? leaf.file ?? 'leaf';
      try {
        const plan = await planLeaf(leaf, { perSeed: args.perSeed, contextTokens: health.contextSize ?? settings.contextSize, answerTokens: steps.maxTokens.answer, documents });
        for (const u of plan.unreadable) ctx.log('warn', `${leafPath}: ${u.file} is left out: ${u.reason}`);
        const report = newLeafReport(plan.leaf, plan.pipeline);
        if (plan.pipeline === 'knowledge') Object.assign(report, { documents: plan.documents, chunks: plan.chunks.length });
        planned.push({ plan, report });
      } catch (err) {
        if (!(err instanceof LeafPlanError)) throw err;
        skip(leaf.file ?? leafPath, leafPath, leaf.kind === 'knowledge' ? 'knowledge' : 'freeform_skill', err.message);
      }
    }

    // 4 and 5. Units.
    await generateUnits(ctx, teacher, planned, steps);
  } finally {
    await teacher.dispose();
  }
  return finish(ctx, description, planned, reports, startedAt, resumedUnits);
}

interface Work {
  p: PlannedLeaf;
  unit: number;
}

async function generateUnits(ctx: JobContext<GenerateArgs, GenerateSettings>, teacher: Teacher, planned: PlannedLeaf[], steps: StepSettings): Promise<void> {
  const { run, settings } = ctx;
  const total = planned.reduce((n, p) => n + p.plan.target, 0);
  const todo: Work[] = [];
  for (const p of planned) for (let u = 0; u < p.plan.target; u++) if (!run.isDone(unitKey(p.plan.leaf, u))) todo.push({ p, unit: u });
  let done = total - todo.length;
  ctx.progress({ done, total, stage: 'generating' });
  if (todo.length === 0) return;

  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let fatal: unknown;
  const doOne = async (w: Work): Promise<UnitResult> => {
    const result = await runUnit(teacher, w.p.plan, w.unit, steps, signal);
    const meta: UnitMeta = { usage: result.usage, ...(result.dropped ? { dropped: result.dropped } : {}) };
    await run.commit(unitKey(w.p.plan.leaf, w.unit), result.sample ? { [stagingFile(w.p.plan.leaf)]: [result.sample] } : {}, meta);
    if (result.sample) ctx.partial('sample', { leaf: result.sample.leaf, question: result.sample.question, answer: result.sample.answer });
    ctx.progress({ done: ++done, total, stage: w.p.plan.leaf });
    return result;
  };
  const pool = async (items: Work[], width: number): Promise<UnitResult[]> => {
    const results: UnitResult[] = [];
    let next = 0;
    const worker = async () => {
      while (next < items.length && !signal.aborted) {
        const w = items[next++];
        try {
          results.push(await doOne(w));
        } catch (err) {
          if (!signal.aborted) {
            fatal ??= err;
            stop.abort();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
    ctx.signal.throwIfAborted();
    if (fatal !== undefined) {
      if (isTeacherError(fatal)) throw new JobFailure(`teacher: ${fatal.message}; the ${run.completedKeys().size} finished units are kept, --resume goes on from there`, settings.teacher);
      throw fatal;
    }
    return results;
  };

  const calibrate = Math.min(settings.calibrate ?? settings.parallel, todo.length);
  let rest = todo;
  if (calibrate > 0 && todo.length > calibrate) {
    ctx.progress({ done, total, stage: 'calibrating' });
    const started = performance.now();
    const first = await pool(todo.slice(0, calibrate), settings.parallel);
    const seconds = (performance.now() - started) / 1000;
    rest = todo.slice(calibrate);
    ctx.log('info', estimateLine(first, seconds, rest));
  }
  await pool(rest, settings.parallel);
}

/** What a calibration says about the rest of a run. */
export interface EstimateFigures {
  /** Units the estimate covers. */
  units: number;
  seconds: number;
  tokensIn: number;
  tokensOut: number;
  /** Calibration units and how long they took. */
  calibrationUnits: number;
  calibrationSeconds: number;
}

/** Figures for `restCalls` teacher calls over `restUnits` units, from calibration units that took `seconds`. */
export function estimateFigures(calibration: readonly UnitResult[], seconds: number, restUnits: number, restCalls: number): EstimateFigures {
  const n = Math.max(1, calibration.length);
  const usage = calibration.reduce((u, r) => ({ in: u.in + r.usage.promptTokens, out: u.out + r.usage.completionTokens, calls: u.calls + r.usage.calls + r.usage.failed }), { in: 0, out: 0, calls: 0 });
  const perCall = { in: usage.in / Math.max(1, usage.calls), out: usage.out / Math.max(1, usage.calls) };
  return {
    units: restUnits,
    seconds: (seconds / n) * restUnits,
    tokensIn: Math.round(perCall.in * restCalls),
    tokensOut: Math.round(perCall.out * restCalls),
    calibrationUnits: n,
    calibrationSeconds: seconds,
  };
}

/** "estimate: 146 units left, about 2 min, ~120,000 teacher tokens (80,000 in, 40,000 out), from 4 units in 3.1 s". */
export function estimateLine(calibration: readonly UnitResult[], seconds: number, rest: readonly Work[] | readonly { p: { plan: LeafPlan } }[]): string {
  // Units dropped early make fewer calls; scale by the calls a full unit makes, the most the rest can cost.
  const calls = rest.reduce((c, w) => c + callsPerUnit(w.p.plan), 0);
  return formatEstimate(estimateFigures(calibration, seconds, rest.length, calls));
}

export function formatEstimate(f: EstimateFigures): string {
  const fmt = (x: number) => x.toLocaleString('en-US');
  const n = f.calibrationUnits;
  return (
    `estimate: ${fmt(f.units)} units left, about ${formatMinutes(f.seconds)} and at most ~${fmt(f.tokensIn + f.tokensOut)} teacher tokens ` +
    `(${fmt(f.tokensIn)} in, ${fmt(f.tokensOut)} out), from ${n} calibration unit${n === 1 ? '' : 's'} in ${f.calibrationSeconds.toFixed(1)} s`
  );
}

export function formatMinutes(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function finish(
  ctx: JobContext<GenerateArgs, GenerateSettings>,
  teacher: string,
  planned: readonly PlannedLeaf[],
  skipped: readonly LeafReport[],
  startedAt: string,
  resumedUnits: number,
): Promise<GenerateSummary> {
  const { run, args } = ctx;
  ctx.progress({ done: 0, total: planned.length, unit: 'leaves', stage: 'writing datasets' });
  // The run's file names come from when it was first started, so every attempt writes the same files.
  const names = runFileNames(dateSuffix(new Date(run.info.createdAt)));
  const files: LeafFiles = { knowledge: [], skills: [] };
  let written = 0;
  for (const { plan, report } of planned) {
    for (let u = 0; u < plan.target; u++) {
      const meta = run.completedMeta(unitKey(plan.leaf, u)) as UnitMeta | undefined;
      if (!meta) continue;
      report.generated++;
      addUsage(report.teacher, meta.usage);
      if (meta.dropped) countDrop(report, meta.dropped);
    }
    const staged = (await run.readJsonl(stagingFile(plan.leaf))) as StagedSample[];
    const data = finishLeaf(plan, staged, { systemPrompt: args.systemPrompt, seed: args.seed });
    for (const [reason, n] of Object.entries(data.dropped)) countDrop(report, reason, n);
    report.kept = data.kept.length;
    if (plan.pipeline === 'knowledge') {
      const k = names.knowledgeLeaf(plan.leaf);
      await run.writeAtomic(k.p07, jsonlText(data.p07 ?? []));
      await run.writeAtomic(k.p10, jsonlText(data.p10 ?? []));
      files.knowledge.push(k);
      report.files = [k.p07, k.p10];
    } else {
      const f = names.skillLeaf(plan.leaf);
      await run.writeAtomic(f, jsonlText(data.skill ?? []));
      files.skills.push(f);
      report.files = [f];
    }
    ctx.progress({ done: ++written, total: planned.length, unit: 'leaves', stage: 'writing datasets' });
  }
  const mixed = planned.length ? await writeMixedDatasets(run.dir, names, files, { systemPrompt: args.systemPrompt, seed: args.seed }) : {};
  const leaves = [...planned.map((p) => p.report), ...skipped].sort((a, b) => (a.leaf < b.leaf ? -1 : a.leaf > b.leaf ? 1 : 0));
  const report: RunReport = {
    version: 1,
    teacher,
    startedAt,
    finishedAt: new Date().toISOString(),
    leaves,
    mixed: [mixed.knowledge, mixed.skills].filter((m) => m !== undefined).map((m) => ({ file: m.file, lines: m.lines })),
  };
  await run.writeAtomic(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  ctx.log('info', formatRunReport(report));
  const totals = runTotals(leaves);
  return {
    leaves: totals.leaves,
    skipped: totals.skipped,
    generated: totals.generated,
    kept: totals.kept,
    dropped: totals.dropped,
    resumedUnits,
    report: reportFile,
    mixed: report.mixed!.map((m) => m.file),
  };
}

function addUsage(into: TeacherUsage, u: TeacherUsage): void {
  into.calls += u.calls;
  into.failed += u.failed;
  into.promptTokens += u.promptTokens;
  into.completionTokens += u.completionTokens;
  into.ms += u.ms;
}
