// Applying an author's review to a finished generate run (`generate --apply-review --out RUN`): each leaf's kept
// samples, minus the rejected, with the edits, are written again as InstructLab's lines under reviewed/ (the run's
// own node_datasets_* files stay as generated, so a later review can take a rejection back), and the mixed knowledge
// and skills files are made again from the reviewed files, under the same names. The trainer reads those mixed
// files (engine/train/run.ts dataFiles), so a rejected sample never reaches training.
import { join } from 'node:path';
import { readJsonl, writeJsonlAtomic } from './jsonl';
import { readRunRecord } from '../jobs/runDir';
import { dateSuffix, knowledgePhaseLine, runFileNames, skillLine, skillsPhaseLines, type KnowledgeSample } from './datasets';
import { generateJob } from './generate';
import { writeMixedDatasets, type LeafFiles } from './mixer';
import { leafSamples, readReview, readRunReport, reviewedSample, ReviewError } from './review';
import { reviewedFolder, reviewFile } from './runLayout';

export interface ApplyReviewSummary {
  leaves: number;
  /** Samples left out and samples changed, over all leaves. */
  rejected: number;
  edited: number;
  /** Samples training gets from the leaves' files. */
  kept: number;
  mixed: { file: string; lines: number }[];
}

function suffixOf(files: readonly string[]): string | undefined {
  for (const f of files) {
    const m = /^node_datasets_([^/]+)\//.exec(f);
    if (m) return m[1];
  }
  return undefined;
}

async function domainOf(file: string): Promise<string> {
  for await (const { value } of readJsonl<{ metadata?: unknown }>(file)) {
    const meta = typeof value.metadata === 'string' ? (JSON.parse(value.metadata) as { domain?: unknown }) : undefined;
    if (typeof meta?.domain === 'string') return meta.domain;
  }
  return '';
}

export async function applyReview(runDir: string): Promise<ApplyReviewSummary> {
  const record = await readRunRecord(runDir);
  if (!record) throw new ReviewError(runDir, 'no job.json', 'give the run folder of a generate run');
  if (record.kind !== 'generate') throw new ReviewError(runDir, `holds a ${record.kind} run`, 'only generate runs have samples to review');
  const args = generateJob.parseArgs(record.args);
  const report = await readRunReport(runDir);
  const review = await readReview(runDir);
  const ran = report.leaves.filter((l) => !l.skipped && l.files.length > 0);
  const names = runFileNames(suffixOf(ran.flatMap((l) => l.files)) ?? dateSuffix(new Date(record.createdAt)));
  const files: LeafFiles = { knowledge: [], skills: [] };
  const summary: ApplyReviewSummary = { leaves: ran.length, rejected: 0, edited: 0, kept: 0, mixed: [] };
  for (const leaf of ran) {
    const r = review.leaves[leaf.leaf];
    const samples = await leafSamples(runDir, leaf, review);
    const kept = samples.flatMap((s) => {
      const out = reviewedSample(s, r);
      if (!out) summary.rejected++;
      else if (s.edit) summary.edited++;
      return out ? [out] : [];
    });
    summary.kept += kept.length;
    const reviewed = (f: string) => `${reviewedFolder}/${f}`;
    const mark = (unit: number) => (r?.edited[String(unit)] ? { reviewed: 'edited' } : {});
    if (leaf.pipeline === 'knowledge') {
      const [p07, p10] = leaf.files;
      const domain = await domainOf(join(runDir, p07));
      const ks: KnowledgeSample[] = kept.map((s) => ({
        leaf: leaf.leaf,
        question: s.question,
        answer: s.answer,
        document: s.document ?? '',
        domain,
        metadata: { unit: s.unit, document_file: s.documentFile, scores: s.scores, ...mark(s.unit) },
      }));
      await writeJsonlAtomic(join(runDir, reviewed(p07)), ks.map(knowledgePhaseLine));
      // The same RAFT seed as the run, over the reviewed samples.
      await writeJsonlAtomic(join(runDir, reviewed(p10)), skillsPhaseLines(ks, `${args.seed}\u241e${leaf.leaf}`));
      files.knowledge.push({ p07: reviewed(p07), p10: reviewed(p10) });
    } else {
      const lines = kept.map((s) =>
        skillLine({ leaf: leaf.leaf, question: s.question, answer: s.answer, ...(s.context ? { context: s.context } : {}), metadata: { unit: s.unit, scores: s.scores, ...mark(s.unit) } }, args.systemPrompt),
      );
      await writeJsonlAtomic(join(runDir, reviewed(leaf.files[0])), lines);
      files.skills.push(reviewed(leaf.files[0]));
    }
  }
  const mixed = ran.length ? await writeMixedDatasets(runDir, names, files, { systemPrompt: args.systemPrompt, seed: args.seed }) : {};
  summary.mixed = [mixed.knowledge, mixed.skills].filter((m) => m !== undefined).map((m) => ({ file: m.file, lines: m.lines }));
  return summary;
}

export function formatApplyReview(s: ApplyReviewSummary): string {
  const mixed = s.mixed.map((m) => `${m.file} ${m.lines.toLocaleString('en-US')} lines`).join(', ');
  return `review applied (${reviewFile}): ${s.rejected} rejected, ${s.edited} edited, ${s.kept} samples kept over ${s.leaves} leaves; ${mixed || 'no mixed file'}`;
}
