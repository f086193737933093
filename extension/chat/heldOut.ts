// "Ask this leaf" for a knowledge leaf also asks generated questions the tuned model never trained on. Which those are
// is the trainer's business: it holds out a seeded share of each phase (--eval-fraction) after tokenizing with the
// base model's tokenizer, so the split is computed by the engine, not guessed here: `taxonomy-studio export-training`
// runs the trainer's own reading and split (engine/train/export/phases.ts) and writes the held-out samples and each
// phase's trained samples, with the file:line they came from. From those, this module picks the leaf's generated
// question–answer pairs that were held out and that no trained sample carries (a knowledge pair appears in both
// phases, in different contexts, and each phase is split on its own). No vscode import.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provenance } from '../../engine/provenance/record';

/** What decides the split: the training data, the model whose tokenizer reads it, and the split's settings. */
export interface TrainingSource {
  /** The base model's Hugging Face folder. */
  modelDir: string;
  /** A generate run folder or a messages JSONL file. */
  data: string;
  evalFraction: number;
  seed: number;
  maxSeqLen: number;
  dropLong: boolean;
}

// The trainer's defaults (engine/train/settings.ts defaultRunSettings), for records that leave a setting out. Not
// imported: that module brings the LoRA code into the extension.
const defaults = { evalFraction: 0.05, seed: 42, maxSeqLen: 1024 };

/**
 * The training behind a model, from its provenance record: a train job's record (settings as the trainer took them)
 * or a pipeline's (train settings under "train.", the seed at the top). Undefined when the record names no dataset or
 * no base model folder.
 */
export function trainingOf(prov: Provenance | undefined): TrainingSource | undefined {
  if (!prov?.dataset?.path || !prov.baseModel?.path) return undefined;
  const s = prov.settings ?? {};
  const num = (key: string, fallback: number): number => {
    const v = s[key] ?? s[`train.${key}`];
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  };
  const overlong = s.overlong ?? s['train.overlong'];
  return {
    modelDir: prov.baseModel.path,
    data: prov.dataset.path,
    evalFraction: num('evalFraction', defaults.evalFraction),
    seed: num('seed', defaults.seed),
    maxSeqLen: num('maxSeqLen', defaults.maxSeqLen),
    dropLong: overlong === 'drop',
  };
}

/** The engine command that writes the trainer's split of `src` into `outDir`. */
export function exportTrainingArgs(src: TrainingSource, outDir: string): string[] {
  return [
    'export-training',
    src.data,
    '--for',
    'trl',
    '--model',
    src.modelDir,
    '--out',
    outDir,
    '--force',
    '--eval-fraction',
    String(src.evalFraction),
    '--seed',
    String(src.seed),
    '--max-seq-len',
    String(src.maxSeqLen),
    ...(src.dropLong ? ['--drop-long'] : []),
  ];
}

/** The samples of the split, by where they came from ("<file>:<line>" of the training data). */
export interface TrainingSplit {
  heldOut: string[];
  trained: string[];
}

async function sourcesOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { source: string }).source);
}

/** Reads the split from an export-training folder (settings.json names the phase files and the held-out file). */
export async function readTrainingSplit(exportDir: string): Promise<TrainingSplit> {
  const settings = JSON.parse(await readFile(join(exportDir, 'settings.json'), 'utf8')) as { phases: { file: string }[]; eval: { file: string } | null };
  const trained: string[] = [];
  for (const p of settings.phases) trained.push(...(await sourcesOf(join(exportDir, p.file))));
  return { heldOut: settings.eval ? await sourcesOf(join(exportDir, settings.eval.file)) : [], trained };
}

/** A line of the training data as generate wrote it (engine/sdg/datasets.ts). */
export interface DataLine {
  messages: { role: string; content: string }[];
  /** JSON text (InstructLab's way) or an object. */
  metadata?: unknown;
}

/** "<file>:<line>" into its parts; the file may hold colons (Windows drives), the line number never does. */
export function parseSource(source: string): { file: string; line: number } | undefined {
  const at = source.lastIndexOf(':');
  const line = Number(source.slice(at + 1));
  return at > 0 && Number.isInteger(line) && line > 0 ? { file: source.slice(0, at), line } : undefined;
}

/** Every line of the files the sources name, by source; unreadable lines are absent. */
export async function readSourceLines(sources: Iterable<string>): Promise<Map<string, DataLine>> {
  const files = new Set<string>();
  for (const s of sources) {
    const p = parseSource(s);
    if (p) files.add(p.file);
  }
  const out = new Map<string, DataLine>();
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((text, i) => {
      if (!text.trim()) return;
      try {
        out.set(`${file}:${i + 1}`, JSON.parse(text) as DataLine);
      } catch {
        // The trainer skipped it too.
      }
    });
  }
  return out;
}

export interface KnowledgePair {
  leaf: string;
  question: string;
  answer: string;
}

function metadataOf(line: DataLine): Record<string, unknown> {
  const m = line.metadata;
  if (typeof m === 'string') {
    try {
      const parsed = JSON.parse(m) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
}

/**
 * The generated question and answer of a knowledge line. The user turn is the document chunk, a blank line and the
 * question (knowledge phase), or chunks each as "Document:\n<chunk>\n\n" joined by a newline, a blank line and the
 * question (skills phase, RAFT); the chunk is in the metadata as sdg_document. Undefined for other lines.
 */
export function knowledgePair(line: DataLine): KnowledgePair | undefined {
  const meta = metadataOf(line);
  if (typeof meta.leaf !== 'string' || typeof meta.dataset !== 'string' || !meta.dataset.startsWith('document_knowledge_qa')) return undefined;
  const user = line.messages.find((m) => m.role === 'user')?.content;
  const answer = line.messages.find((m) => m.role === 'assistant')?.content.trim();
  if (user === undefined || !answer) return undefined;
  let question: string | undefined;
  const document = typeof meta.sdg_document === 'string' ? meta.sdg_document : undefined;
  if (document !== undefined && user.startsWith(`${document}\n\n`)) question = user.slice(document.length + 2);
  else if (user.startsWith('Document:\n')) {
    const end = user.lastIndexOf('\n\n\n\n');
    if (end >= 0) question = user.slice(end + 4);
  }
  question = question?.trim();
  return question ? { leaf: meta.leaf, question, answer } : undefined;
}

const pairKey = (question: string, answer: string) => JSON.stringify([question.trim(), answer.trim()]);
const questionKey = (question: string) => question.trim().replace(/\s+/g, ' ').toLowerCase();

export interface HeldOutQuestion {
  question: string;
  expected: string;
  /** "<file>:<line>" of the held-out sample. */
  source: string;
}

export interface SelectOptions {
  /** The leaf's path from its kind folder, as generate records it ("knowledge/science/astronomy"). */
  leaf: string;
  /** At most this many (default 5). */
  limit?: number;
  /** Questions already in the table (the seed questions): not asked twice. */
  skipQuestions?: readonly string[];
}

export interface Selection {
  questions: HeldOutQuestion[];
  /** Knowledge pairs of the leaf in the training data, seen or not. */
  leafPairs: number;
  /** The leaf's held-out pairs left out because a trained sample carries the same question and answer. */
  seenElsewhere: number;
}

/**
 * The leaf's held-out question–answer pairs that training did not see, in the order the held-out set lists them,
 * each pair once. `lines` holds every line the split's sources name.
 */
export function selectHeldOut(split: TrainingSplit, lines: ReadonlyMap<string, DataLine>, o: SelectOptions): Selection {
  const pairOf = (source: string) => {
    const line = lines.get(source);
    const pair = line && knowledgePair(line);
    return pair?.leaf === o.leaf ? pair : undefined;
  };
  const seen = new Set<string>();
  const all = new Set<string>();
  for (const s of split.trained) {
    const p = pairOf(s);
    if (!p) continue;
    seen.add(pairKey(p.question, p.answer));
    all.add(pairKey(p.question, p.answer));
  }
  const asked = new Set((o.skipQuestions ?? []).map(questionKey));
  const limit = o.limit ?? 5;
  const questions: HeldOutQuestion[] = [];
  const counted = new Set<string>();
  let seenElsewhere = 0;
  for (const s of split.heldOut) {
    const p = pairOf(s);
    if (!p) continue;
    const key = pairKey(p.question, p.answer);
    all.add(key);
    if (counted.has(key)) continue;
    counted.add(key);
    if (seen.has(key)) {
      seenElsewhere++;
      continue;
    }
    if (asked.has(questionKey(p.question)) || questions.length >= limit) continue;
    asked.add(questionKey(p.question));
    questions.push({ question: p.question, expected: p.answer, source: s });
  }
  return { questions, leafPairs: all.size, seenElsewhere };
}

/** Runs the engine CLI with these arguments (the extension: runEngine; tests: runCli in process). */
export type EngineRunner = (args: string[], signal?: AbortSignal) => Promise<{ code: number | null; stderr: string }>;

export class HeldOutError extends Error {
  override name = 'HeldOutError';
}

/** The trainer's split of `src`, computed by the engine in a temporary folder that is removed afterwards. */
export async function computeTrainingSplit(run: EngineRunner, src: TrainingSource, signal?: AbortSignal): Promise<TrainingSplit> {
  const missing = async (path: string) => !(await stat(path).catch(() => undefined));
  if (await missing(src.data)) throw new HeldOutError(`the training data ${src.data} (named in the tuned model's provenance) is gone`);
  if (await missing(src.modelDir)) throw new HeldOutError(`the base model folder ${src.modelDir} (named in the tuned model's provenance) is gone; its tokenizer decides the split`);
  const out = await mkdtemp(join(tmpdir(), 'taxonomy-studio-split-'));
  try {
    const r = await run(exportTrainingArgs(src, out), signal);
    if (r.code !== 0) {
      const said = r.stderr.trim().split(/\r?\n/).filter(Boolean).at(-1) ?? `exit code ${r.code}`;
      throw new HeldOutError(`the engine could not recompute the training split: ${said}`);
    }
    return await readTrainingSplit(out);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The leaf's held-out questions from a split: reads the data lines the split names and selects. */
export async function heldOutQuestions(split: TrainingSplit, o: SelectOptions): Promise<Selection> {
  return selectHeldOut(split, await readSourceLines([...split.heldOut, ...split.trained]), o);
}
