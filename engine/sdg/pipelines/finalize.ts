// The end of a leaf: its staged samples (every unit that passed its filters, in unit order) are deduplicated, exact
// and near, against each other and the leaf's own seed questions (a copy of a seed teaches nothing new), and turned
// into the lines InstructLab writes for the leaf: one skills file, or a knowledge leaf's p07 and p10 files.
import { knowledgePhaseLine, skillLine, skillsPhaseLines, type KnowledgeSample, type MessagesLine, type SkillSample } from '../datasets';
import { Deduper } from '../dedup';
import type { LeafPlan } from './plan';
import type { StagedSample } from './units';

export interface LeafDatasets {
  kept: StagedSample[];
  /** Reason → samples dedup dropped. */
  dropped: Record<string, number>;
  /** Skill leaves: the leaf file's lines. */
  skill?: MessagesLine[];
  /** Knowledge leaves. */
  p07?: MessagesLine[];
  p10?: MessagesLine[];
}

/** What dedup compares: the question, under its context for grounded skills (same question, other context is new). */
function dedupText(s: { question: string; context?: string }): string {
  return s.context ? `${s.context}\n${s.question}` : s.question;
}

export function finishLeaf(plan: LeafPlan, staged: readonly StagedSample[], options: { systemPrompt: string; seed: number | string }): LeafDatasets {
  const ordered = [...staged].sort((a, b) => a.unit - b.unit);
  const deduper = new Deduper<number>();
  let seedId = -1;
  for (const pairs of plan.seeds) for (const p of pairs) deduper.offer(seedId--, dedupText(plan.pipeline === 'grounded_skill' ? p : { question: p.question }));
  const kept: StagedSample[] = [];
  const dropped: Record<string, number> = {};
  for (const s of ordered) {
    const d = deduper.offer(s.unit, dedupText(s));
    if (d.duplicate) dropped[d.reason] = (dropped[d.reason] ?? 0) + 1;
    else kept.push(s);
  }
  const out: LeafDatasets = { kept, dropped };
  if (plan.pipeline === 'knowledge') {
    const samples: KnowledgeSample[] = kept.map((s) => ({
      leaf: plan.leaf,
      question: s.question,
      answer: s.answer,
      document: s.document ?? '',
      domain: plan.task,
      metadata: { unit: s.unit, document_file: s.documentFile, scores: s.scores },
    }));
    out.p07 = samples.map(knowledgePhaseLine);
    out.p10 = skillsPhaseLines(samples, `${options.seed}\u241e${plan.leaf}`);
  } else {
    out.skill = kept.map((s) => {
      const sample: SkillSample = { leaf: plan.leaf, question: s.question, answer: s.answer, ...(s.context ? { context: s.context } : {}), metadata: { unit: s.unit, scores: s.scores } };
      return skillLine(sample, options.systemPrompt);
    });
  }
  return out;
}

/** JSON Lines text of some lines. */
export function jsonlText(lines: readonly unknown[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}
