// The review document of one leaf of a generate run: a YAML file in the run folder (review/<leaf>.yaml) listing the
// leaf's samples with `keep`, the question and the answer, which the author edits in an ordinary editor and applies.
// The file is only a view: review.json (engine/sdg/review.ts) is what the engine reads, made from it by applying.
// No vscode import.
import { basename, dirname, join } from 'node:path';
import YAML from 'yaml';
import { leafNodePath } from '../../engine/sdg/datasets';
import type { ReviewSample, SampleDecision } from '../../engine/sdg/review';

export const reviewDocsFolder = 'review';

export function reviewDocumentPath(runDir: string, leaf: string): string {
  return join(runDir, reviewDocsFolder, `${leafNodePath(leaf)}.yaml`);
}

/** The run folder of a review document path, or undefined when the path is not one. */
export function runOfReviewDocument(file: string): string | undefined {
  const folder = dirname(file);
  return basename(folder) === reviewDocsFolder && file.endsWith('.yaml') ? dirname(folder) : undefined;
}

export function reviewDocumentText(runDir: string, leaf: string, samples: readonly ReviewSample[]): string {
  const header = [
    `# Review of ${leaf}, run ${basename(runDir)}: ${samples.length} samples.`,
    '# keep: false leaves a sample out of training; edit a question or an answer to change it (context and document',
    '# are shown as generated). Save, then run "Taxonomy Studio: Apply Review" (editor title button) to rewrite the',
    "# run's training files. The run's own datasets stay as generated: set keep back to true to take a rejection back.",
  ];
  const body = {
    run: runDir,
    leaf,
    samples: samples.map((s) => ({
      unit: s.unit,
      keep: !s.rejected,
      ...(s.context ? { context: s.context } : {}),
      ...(s.document ? { document: s.document } : {}),
      question: s.edit?.question ?? s.question,
      answer: s.edit?.answer ?? s.answer,
    })),
  };
  return `${header.join('\n')}\n${YAML.stringify(body, { blockQuote: 'literal', lineWidth: 0 })}`;
}

export class ReviewDocumentError extends Error {
  override readonly name = 'ReviewDocumentError';
}

export interface ParsedReviewDocument {
  run: string;
  leaf: string;
  decisions: SampleDecision[];
}

/** The author's decisions; an error names the file, the sample and what is wrong. */
export function parseReviewDocument(text: string, file: string): ParsedReviewDocument {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? `${e.linePos[0].line}:${e.linePos[0].col}` : '1:1';
    throw new ReviewDocumentError(`${file}:${where}: ${e.message.split('\n')[0]} (fix the YAML, or run Review Generated Data again to start over)`);
  }
  const o = doc.toJS() as { run?: unknown; leaf?: unknown; samples?: unknown } | null;
  if (!o || typeof o.run !== 'string' || typeof o.leaf !== 'string' || !Array.isArray(o.samples)) {
    throw new ReviewDocumentError(`${file}: expected run, leaf and samples (run Review Generated Data again to start over)`);
  }
  const decisions = o.samples.map((raw, i): SampleDecision => {
    const s = raw as { unit?: unknown; keep?: unknown; question?: unknown; answer?: unknown } | null;
    const what = `${file}: samples[${i}]`;
    if (!s || !Number.isInteger(s.unit)) throw new ReviewDocumentError(`${what}: unit must stay the number it was`);
    if (typeof s.keep !== 'boolean') throw new ReviewDocumentError(`${what} (unit ${s.unit as number}): keep must be true or false`);
    if (typeof s.question !== 'string' || !s.question.trim()) throw new ReviewDocumentError(`${what} (unit ${s.unit as number}): question must be text (set keep: false to drop the sample)`);
    if (typeof s.answer !== 'string' || !s.answer.trim()) throw new ReviewDocumentError(`${what} (unit ${s.unit as number}): answer must be text (set keep: false to drop the sample)`);
    return { unit: s.unit as number, keep: s.keep, question: s.question, answer: s.answer };
  });
  return { run: o.run, leaf: o.leaf, decisions };
}
