// Estimate before a run (`generate --estimate`): the same leaf selection, teacher health check and plans as the
// `generate` job, then a few calibration units run and thrown away, so an author sees "about N tokens, ~M minutes"
// before committing hours. Nothing is written: the run itself starts from scratch (its own calibration included).
import { estimateFigures, formatEstimate, type EstimateFigures } from '../generate';
import { isTeacherError } from '../teachers/errors';
import type { Teacher } from '../teachers/teacher';
import { LeafPlanError, planLeaf, type LeafPlan } from './plan';
import { LeafSelectionError, selectLeaves } from './selectLeaves';
import { openTeacher, type TeacherSettings } from './teacherSpec';
import { callsPerUnit, runUnit, type StepSettings, type UnitResult } from './units';

export interface EstimateOptions {
  taxonomy: string;
  /** Absolute leaf files or folders; empty: every leaf. */
  leaves: readonly string[];
  changed: boolean;
  gitBase?: string;
  perSeed: number;
  settings: TeacherSettings & { repoCache?: string; calibrate?: number };
  steps: StepSettings;
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface EstimateResult extends EstimateFigures {
  teacher: string;
  /** What the health check learned. */
  model: string;
  contextSize?: number;
  warnings: string[];
  /** Leaves the run would generate for, and the ones it would skip with the reason. */
  leaves: { leaf: string; pipeline: string; units: number }[];
  skipped: { leaf: string; reason: string }[];
  /** Teacher calls the whole run makes at most. */
  calls: number;
  line: string;
}

/** The estimate, or the problem that would stop the run (teacher down, no leaf). */
export async function estimateRun(options: EstimateOptions): Promise<EstimateResult | { problem: string }> {
  let teacher: Teacher | undefined;
  try {
    const selected = await selectLeaves({ taxonomy: options.taxonomy, leaves: options.leaves, changed: options.changed, gitBase: options.gitBase, repoCacheDir: options.settings.repoCache, signal: options.signal });
    const skipped: EstimateResult['skipped'] = [];
    const usable = [];
    for (const s of selected) {
      if (s.problem || !s.leaf) skipped.push({ leaf: s.leaf?.location.leafPath ?? s.file, reason: s.problem ?? 'the file cannot be read' });
      else usable.push(s.leaf);
    }
    teacher = await openTeacher(options.settings, options.cwd, options.env);
    const health = await teacher.health(options.signal);
    if (!health.ok) return { problem: `teacher: ${health.problem ?? 'it does not answer'}` };
    const plans: LeafPlan[] = [];
    for (const leaf of usable) {
      try {
        plans.push(
          await planLeaf(leaf, {
            perSeed: options.perSeed,
            contextTokens: health.contextSize ?? options.settings.contextSize,
            answerTokens: options.steps.maxTokens.answer,
            documents: { signal: options.signal, ...(options.settings.repoCache ? { repoCacheDir: options.settings.repoCache } : {}) },
          }),
        );
      } catch (err) {
        if (!(err instanceof LeafPlanError)) throw err;
        skipped.push({ leaf: leaf.location.leafPath ?? leaf.file ?? 'leaf', reason: err.message });
      }
    }
    if (plans.length === 0) return { problem: `no leaf to generate for${skipped.length ? `: ${skipped.map((s) => `${s.leaf}: ${s.reason}`).join('; ')}` : ''}` };
    const units = plans.reduce((n, p) => n + p.target, 0);
    const calls = plans.reduce((n, p) => n + p.target * callsPerUnit(p), 0);
    // The first units of the run, in the run's order, as its own calibration would take them.
    const width = Math.max(1, Math.min(units, options.settings.calibrate || options.settings.parallel));
    const work: { plan: LeafPlan; unit: number }[] = [];
    for (const plan of plans) for (let u = 0; u < plan.target && work.length < width; u++) work.push({ plan, unit: u });
    const started = performance.now();
    const results: UnitResult[] = await Promise.all(work.map((w) => runUnit(teacher!, w.plan, w.unit, options.steps, options.signal)));
    const seconds = (performance.now() - started) / 1000;
    const figures = estimateFigures(results, seconds, units, calls);
    return {
      teacher: teacher.description,
      model: health.model,
      ...(health.contextSize ? { contextSize: health.contextSize } : {}),
      warnings: health.warnings ?? [],
      leaves: plans.map((p) => ({ leaf: p.leaf, pipeline: p.pipeline, units: p.target })),
      skipped,
      calls,
      ...figures,
      line: formatEstimate(figures),
    };
  } catch (err) {
    if (err instanceof LeafSelectionError) return { problem: err.message };
    if (isTeacherError(err)) return { problem: `teacher: ${err.message}` };
    throw err;
  } finally {
    await teacher?.dispose();
  }
}
