// The author's review of a generate run: per leaf, the samples it rejected and the ones it edited, kept in the run
// folder's review.json by unit number (a sample's identity in a run: the ledger, the staging files and every dataset
// line's metadata carry it). The generated datasets stay as the run wrote them; applying the review
// (engine/sdg/applyReview.ts) writes reviewed copies and makes the mixed training files from those, so the trainer,
// which reads the mixed files, only ever sees what the author kept. No teacher code here: the editor imports this.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTextAtomic, readJsonl } from './jsonl';
import type { LeafReport, RunReport } from './report';
import { reportFile, reviewFile, stagingFile } from './runLayout';
import type { StagedSample } from './pipelines/units';

export interface SampleEdit {
  question?: string;
  answer?: string;
}

export interface LeafReview {
  /** Units whose sample is left out of training. */
  rejected: number[];
  /** Unit → the author's text in place of the generated one. */
  edited: Record<string, SampleEdit>;
}

export interface RunReview {
  version: 1;
  leaves: Record<string, LeafReview>;
}

export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  constructor(
    readonly file: string,
    problem: string,
    hint: string,
  ) {
    super(`${file}: ${problem} (${hint})`);
  }
}

export function emptyReview(): RunReview {
  return { version: 1, leaves: {} };
}

function isUnitList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((u) => Number.isInteger(u) && (u as number) >= 0);
}

/** review.json of a run; an empty review when there is none yet. */
export async function readReview(runDir: string): Promise<RunReview> {
  const file = join(runDir, reviewFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyReview();
    throw err;
  }
  const fix = 'fix it by hand or delete it to start the review again';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReviewError(file, `not JSON (${(err as Error).message})`, fix);
  }
  const o = raw as Partial<RunReview> | null;
  if (!o || o.version !== 1 || !o.leaves || typeof o.leaves !== 'object') throw new ReviewError(file, 'expected {"version": 1, "leaves": {...}}', fix);
  for (const [leaf, r] of Object.entries(o.leaves)) {
    if (!r || !isUnitList(r.rejected)) throw new ReviewError(file, `leaves["${leaf}"].rejected: expected a list of unit numbers`, fix);
    if (!r.edited || typeof r.edited !== 'object') throw new ReviewError(file, `leaves["${leaf}"].edited: expected an object of unit → {question, answer}`, fix);
    for (const [unit, e] of Object.entries(r.edited)) {
      if (!/^\d+$/.test(unit) || !e || typeof e !== 'object' || Object.values(e).some((v) => typeof v !== 'string')) {
        throw new ReviewError(file, `leaves["${leaf}"].edited["${unit}"]: expected a unit number → {question?, answer?} texts`, fix);
      }
    }
  }
  return o as RunReview;
}

export async function writeReview(runDir: string, review: RunReview): Promise<void> {
  await writeTextAtomic(join(runDir, reviewFile), `${JSON.stringify(review, null, 2)}\n`);
}

/** report.json of a finished generate run. */
export async function readRunReport(runDir: string): Promise<RunReport> {
  const file = join(runDir, reportFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ReviewError(file, 'missing', 'only a finished generate run can be reviewed: resume the run first');
    throw err;
  }
  const report = JSON.parse(text) as RunReport;
  if (report.version !== 1 || !Array.isArray(report.leaves)) throw new ReviewError(file, 'not a generate report', 'is this a generate run folder?');
  return report;
}

/** A kept sample of a leaf as generated, and what the review says of it. */
export interface ReviewSample extends StagedSample {
  rejected: boolean;
  edit?: SampleEdit;
}

/** Units of the lines in a dataset file, in file order (their metadata's "unit"). */
async function unitsOf(file: string): Promise<number[]> {
  const units: number[] = [];
  for await (const { value } of readJsonl<{ metadata?: unknown }>(file)) {
    const meta = typeof value.metadata === 'string' ? (JSON.parse(value.metadata) as { unit?: unknown }) : undefined;
    if (typeof meta?.unit === 'number') units.push(meta.unit);
  }
  return units;
}

/**
 * The samples a leaf's dataset holds (after the filters and dedup), in dataset order, as staged (the structured
 * question, answer, context, chunk), with the review's verdicts.
 */
export async function leafSamples(runDir: string, leaf: LeafReport, review: RunReview = emptyReview()): Promise<ReviewSample[]> {
  if (leaf.skipped || leaf.files.length === 0) return [];
  const units = await unitsOf(join(runDir, leaf.files[0]));
  const staged = new Map<number, StagedSample>();
  for await (const { value } of readJsonl<StagedSample>(join(runDir, stagingFile(leaf.leaf)))) staged.set(value.unit, value);
  const r = review.leaves[leaf.leaf];
  const rejected = new Set(r?.rejected ?? []);
  return units.flatMap((unit) => {
    const s = staged.get(unit);
    if (!s) return [];
    const edit = r?.edited[String(unit)];
    return [{ ...s, rejected: rejected.has(unit), ...(edit ? { edit } : {}) }];
  });
}

/** The sample as training gets it: undefined when rejected, the edited texts where edited. */
export function reviewedSample<S extends StagedSample>(s: S, review: LeafReview | undefined): S | undefined {
  if (review?.rejected.includes(s.unit)) return undefined;
  const e = review?.edited[String(s.unit)];
  if (!e) return s;
  return { ...s, ...(e.question !== undefined ? { question: e.question } : {}), ...(e.answer !== undefined ? { answer: e.answer } : {}) };
}

export interface SampleDecision {
  unit: number;
  keep: boolean;
  question: string;
  answer: string;
}

/**
 * The review with a leaf's verdicts replaced by `decisions` (one per sample the author saw): rejected where not kept,
 * edited where a text differs from the generated one (surrounding whitespace aside). Units unknown to `originals`
 * are refused, so a hand-made slip cannot reject another leaf's sample.
 */
export function withLeafDecisions(review: RunReview, leaf: string, originals: readonly StagedSample[], decisions: readonly SampleDecision[]): RunReview {
  const byUnit = new Map(originals.map((s) => [s.unit, s]));
  const next: LeafReview = { rejected: [], edited: {} };
  for (const d of decisions) {
    const s = byUnit.get(d.unit);
    if (!s) throw new RangeError(`unit ${d.unit} is not a sample of ${leaf}`);
    if (!d.keep) next.rejected.push(d.unit);
    const edit: SampleEdit = {};
    if (d.question.trim() !== s.question.trim()) edit.question = d.question.trim();
    if (d.answer.trim() !== s.answer.trim()) edit.answer = d.answer.trim();
    if (Object.keys(edit).length) next.edited[String(d.unit)] = edit;
  }
  next.rejected.sort((a, b) => a - b);
  const leaves = { ...review.leaves };
  if (next.rejected.length || Object.keys(next.edited).length) leaves[leaf] = next;
  else delete leaves[leaf];
  return { version: 1, leaves };
}
