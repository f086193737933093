// Preview: a handful of units of one leaf, run with the real teacher and filters but written nowhere, so an author
// sees in seconds what the seeds lead to (the CLI prints it, the editor shows it in a document).
import { isTeacherError } from '../teachers/errors';
import type { Teacher } from '../teachers/teacher';
import { finishLeaf } from './finalize';
import { LeafPlanError, planLeaf } from './plan';
import { LeafSelectionError, selectLeaves } from './selectLeaves';
import { openTeacher, type TeacherSettings } from './teacherSpec';
import { runUnit, type StepSettings } from './units';

export interface PreviewSample {
  unit: number;
  question: string;
  answer: string;
  context?: string;
  document?: string;
}

export interface PreviewResult {
  leaf: string;
  pipeline: string;
  tried: number;
  samples: PreviewSample[];
  dropped: Record<string, number>;
}

export interface PreviewOptions {
  taxonomy: string;
  /** The leaf's qna.yaml or its folder (absolute). */
  leaf: string;
  count: number;
  settings: TeacherSettings & { repoCache?: string };
  steps: StepSettings;
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export async function previewLeaf(options: PreviewOptions): Promise<PreviewResult | { problem: string }> {
  let teacher: Teacher | undefined;
  try {
    const selected = await selectLeaves({ taxonomy: options.taxonomy, leaves: [options.leaf], changed: false, repoCacheDir: options.settings.repoCache, signal: options.signal });
    if (selected.length !== 1) return { problem: `${options.leaf}: names ${selected.length} leaves; --preview takes one leaf` };
    const [s] = selected;
    if (s.problem || !s.leaf) return { problem: `${s.file}: ${s.problem ?? 'cannot be read'} (fix the leaf first)` };
    teacher = await openTeacher(options.settings, options.cwd, options.env);
    const health = await teacher.health(options.signal);
    if (!health.ok) return { problem: `teacher: ${health.problem ?? 'it does not answer'}` };
    const plan = await planLeaf(s.leaf, {
      perSeed: 1,
      contextTokens: health.contextSize ?? options.settings.contextSize,
      answerTokens: options.steps.maxTokens.answer,
      documents: { signal: options.signal, ...(options.settings.repoCache ? { repoCacheDir: options.settings.repoCache } : {}) },
    });
    const units = Array.from({ length: options.count }, (_, i) => i);
    const results = await Promise.all(units.map((u) => runUnit(teacher!, plan, u, options.steps, options.signal)));
    const dropped: Record<string, number> = {};
    for (const r of results) if (r.dropped) dropped[r.dropped] = (dropped[r.dropped] ?? 0) + 1;
    // The same dedup as a run, so the preview shows what a run would keep.
    const finished = finishLeaf(plan, results.flatMap((r) => (r.sample ? [r.sample] : [])), { systemPrompt: '', seed: 0 });
    for (const [reason, n] of Object.entries(finished.dropped)) dropped[reason] = (dropped[reason] ?? 0) + n;
    const samples: PreviewSample[] = finished.kept.map((s) => ({
      unit: s.unit,
      question: s.question,
      answer: s.answer,
      ...(s.context ? { context: s.context } : {}),
      ...(s.document ? { document: s.document } : {}),
    }));
    return { leaf: plan.leaf, pipeline: plan.pipeline, tried: units.length, samples, dropped };
  } catch (err) {
    if (err instanceof LeafSelectionError || err instanceof LeafPlanError) return { problem: err.message };
    if (isTeacherError(err)) return { problem: `teacher: ${err.message}` };
    throw err;
  } finally {
    await teacher?.dispose();
  }
}

function quote(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
}

export function formatPreviewMarkdown(r: PreviewResult): string {
  const out = [`# Preview: ${r.leaf}`, '', `${r.pipeline}: ${r.samples.length} of ${r.tried} tried passed the filters.`, ''];
  r.samples.forEach((s, i) => {
    out.push(`## Sample ${i + 1}`, '');
    if (s.context) out.push('**Context**', '', quote(s.context), '');
    if (s.document) out.push('**Document chunk**', '', quote(s.document.length > 600 ? `${s.document.slice(0, 600)}…` : s.document), '');
    out.push('**Question**', '', quote(s.question), '', '**Answer**', '', quote(s.answer), '');
  });
  const reasons = Object.entries(r.dropped);
  if (reasons.length) {
    out.push('## Dropped', '');
    for (const [reason, n] of reasons) out.push(`- ${n} × ${reason}`);
    out.push('');
  }
  return out.join('\n');
}
