// What a leaf's generation needs, read once from the parsed leaf: which pipeline (knowledge, grounded or freeform
// skill), the task or domain, the seed examples as plain pairs, the document chunks (knowledge), and how many units
// make the leaf's target (units × 1 candidate each). Units are numbered 0..target-1 and each names its inputs by
// its number (the seed example it starts from, the chunk it is about), so any attempt of a run works on the same
// unit the same way and a resumed run redoes exactly the units the ledger lacks.
import { chunkDocuments, chunkWithHeadings, chunkWordsForContext, tokensPerWord } from '../chunking';
import { loadLeafDocuments, type LoadDocumentOptions } from '../documents';
import type { LeafPipeline } from '../report';
import { seedExamples } from '../../taxonomy/seeds';
import type { ParsedLeaf } from '../../taxonomy/leaf';
import { countWords } from '../../taxonomy/words';
import type { SeedPair } from '../prompts/leafPrompts';

/** InstructLab's default: synthetic samples per seed example. */
export const defaultPerSeed = 30;

export interface LeafChunk {
  /** Document file in the repository. */
  file: string;
  /** The chunk with the headings it sits under, as prompts and datasets show it. */
  text: string;
}

export interface LeafPlan {
  /** Path from the kind folder ("compositional_skills/writing/freeform/haiku"). */
  leaf: string;
  file: string;
  pipeline: LeafPipeline;
  /** Skills: task_description; knowledge: the domain. */
  task: string;
  /** Knowledge: document_outline. */
  outline: string;
  /** One entry per seed example: its pairs (skills have one pair per seed; knowledge v3 several about one context). */
  seeds: SeedPair[][];
  /** Knowledge only. */
  chunks: LeafChunk[];
  documents: number;
  /** Documents the leaf names that could not be read, with the reason. */
  unreadable: { file: string; reason: string }[];
  /** Units (candidates) to generate: perSeed × seed examples. */
  target: number;
}

export class LeafPlanError extends Error {
  override readonly name = 'LeafPlanError';
}

function stringOf(value: unknown, key: string): string {
  const v = (value as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' ? v : '';
}

/** The seed examples as plain pairs; seeds without a question and an answer are left out. */
export function seedPairs(leaf: ParsedLeaf): SeedPair[][] {
  return seedExamples(leaf)
    .map((seed) =>
      seed.qas
        .filter((qa) => qa.question?.value.trim() && qa.answer?.value.trim())
        .map((qa) => ({ question: qa.question!.value.trim(), answer: qa.answer!.value.trim(), ...(seed.context?.value.trim() ? { context: seed.context.value.trim() } : {}) })),
    )
    .filter((pairs) => pairs.length > 0);
}

export interface PlanOptions {
  perSeed: number;
  /** Teacher context in tokens, to size knowledge chunks so prompt, chunk and answer fit (default 4096). */
  contextTokens?: number;
  /** Tokens the answer of a knowledge step may take (kept free in the context). */
  answerTokens?: number;
  documents?: LoadDocumentOptions;
}

export async function planLeaf(leaf: ParsedLeaf, options: PlanOptions): Promise<LeafPlan> {
  const path = leaf.location.leafPath ?? leaf.file ?? 'leaf';
  const seeds = seedPairs(leaf);
  if (seeds.length === 0) throw new LeafPlanError('no seed example with both a question and an answer');
  const knowledge = leaf.kind === 'knowledge';
  const grounded = !knowledge && seeds.some((pairs) => pairs.some((p) => p.context));
  const plan: LeafPlan = {
    leaf: path,
    file: leaf.file ?? path,
    pipeline: knowledge ? 'knowledge' : grounded ? 'grounded_skill' : 'freeform_skill',
    task: knowledge ? stringOf(leaf.value, 'domain') : stringOf(leaf.value, 'task_description'),
    outline: stringOf(leaf.value, 'document_outline'),
    seeds,
    chunks: [],
    documents: 0,
    unreadable: [],
    target: options.perSeed * seeds.length,
  };
  if (!plan.task.trim()) plan.task = knowledge ? 'general knowledge' : path.split('/').pop()!.replace(/_/g, ' ');
  if (!knowledge) return plan;

  let loaded;
  try {
    loaded = await loadLeafDocuments(leaf, options.documents);
  } catch (err) {
    if (options.documents?.signal?.aborted) throw err;
    throw new LeafPlanError(`its documents cannot be read: ${(err as Error).message}`);
  }
  plan.documents = loaded.documents.length;
  plan.unreadable = loaded.skipped;
  // Room for the prompt's instructions and its longest example, and the answer.
  const exampleWords = Math.max(...seeds.map((pairs) => countWords([pairs[0].context ?? '', ...pairs.flatMap((p) => [p.question, p.answer])].join(' '))));
  const reserved = Math.ceil(exampleWords * tokensPerWord) + (options.answerTokens ?? 1024) + 300;
  const maxWords = chunkWordsForContext(options.contextTokens ?? 4096, reserved);
  plan.chunks = chunkDocuments(loaded.documents, { maxWords }).map((c) => ({ file: c.file ?? '', text: chunkWithHeadings(c) }));
  if (plan.chunks.length === 0) {
    const why = loaded.skipped.length ? `: ${loaded.skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}` : '';
    throw new LeafPlanError(`its documents hold no text to generate from${why}`);
  }
  return plan;
}

/** The seed example a unit starts from, and the other seeds shown with it (at most `shown` in all). */
export function unitSeeds(plan: LeafPlan, unit: number, shown = 3): { focus: number; examples: SeedPair[] } {
  const n = plan.seeds.length;
  const focus = unit % n;
  const examples: SeedPair[] = [];
  for (let k = 0; k < Math.min(shown, n); k++) examples.push(plan.seeds[(focus + k) % n][0]);
  return { focus, examples };
}

/** The chunk a knowledge unit is about: units go round the chunks, so a partial run still covers every chunk. */
export function unitChunk(plan: LeafPlan, unit: number): number {
  return unit % plan.chunks.length;
}
