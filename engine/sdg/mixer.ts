// The mixed training files, as InstructLab's data mixing makes them: a recipe per phase (YAML: datasets with a path and
// a sampling_size, and the system prompt) and the file the recipe describes, every line with the system prompt set
// and only id/messages/metadata/unmask kept. Knowledge phase: each knowledge leaf's _p07 file whole. Skills phase:
// 30 lines from each skill leaf (InstructLab's default) and each knowledge leaf's _p10 file whole. A replay buffer
// (existing data, such as a community dataset or a previous run's mix) is one more input with its own sampling.
//
// Sampling is deterministic: a seed and the input's path choose the lines. Taking n of m lines takes n distinct
// lines when n <= m, else every line n / m times and the remainder distinct; chosen lines keep their file order.
import { isAbsolute, join, relative } from 'node:path';
import { hasEmptyTurn, seededRandom, toMessagesLine, withSystemPrompt, type MessagesLine } from './datasets';
import { countJsonlLines, JsonlError, readJsonl, writeJsonlAtomic, writeTextAtomic } from './jsonl';

/** All lines, a number of lines, or a share of them (InstructLab's sampling_size 1.0, an int, a float). */
export type Sampling = 'all' | { count: number } | { ratio: number };

/** InstructLab takes this many samples from each skill leaf into the mix. */
export const skillSamplesPerLeaf = 30;

export interface MixInput {
  /** A messages JSONL file; relative paths start at the output folder. */
  path: string;
  sampling?: Sampling;
}

export interface MixSourceSummary {
  path: string;
  /** Finished lines in the file. */
  available: number;
  /** Lines taken into the mix. */
  taken: number;
}

export interface MixSummary {
  file: string;
  recipe: string;
  lines: number;
  sources: MixSourceSummary[];
  /** Lines left out because a non-system turn was empty. */
  droppedEmpty: number;
}

export interface MixOptions {
  systemPrompt: string;
  /** Seed of the sampling (and of the shuffle). */
  seed: number | string;
  /** Shuffle the mixed file (default false: inputs in order, as InstructLab concatenates them). */
  shuffle?: boolean;
}

/** How many times each of `available` lines is taken for `sampling` (deterministic for the seed). */
export function sampleCounts(available: number, sampling: Sampling, seed: number | string): Uint32Array {
  const counts = new Uint32Array(available);
  if (sampling === 'all') return counts.fill(1);
  const want = 'count' in sampling ? sampling.count : Math.floor(available * sampling.ratio);
  if (!Number.isInteger(want) || want < 0) throw new RangeError(`a sample size must be a whole number of lines, got ${want}`);
  if (available === 0 || want === 0) return counts;
  const whole = Math.floor(want / available);
  if (whole) counts.fill(whole);
  const rest = want % available;
  // Partial Fisher-Yates over indices: `rest` distinct lines.
  const random = seededRandom(`sample\u241e${seed}`);
  const order = new Uint32Array(available).map((_, i) => i);
  for (let i = 0; i < rest; i++) {
    const j = i + Math.floor(random() * (available - i));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
    counts[order[i]]++;
  }
  return counts;
}

function resolvePath(outDir: string, path: string): string {
  return isAbsolute(path) ? path : join(outDir, path);
}

async function* sampledLines(file: string, counts: Uint32Array): AsyncGenerator<{ line: number; value: unknown }> {
  let i = 0;
  for await (const { line, value } of readJsonl(file)) {
    const n = counts[i++] ?? 0;
    for (let k = 0; k < n; k++) yield { line, value };
  }
}

/** Writes the recipe and the mixed file for `inputs`; the summary says how many lines came from where. */
export async function mixDatasets(outDir: string, recipeName: string, mixedName: string, inputs: readonly MixInput[], options: MixOptions): Promise<MixSummary> {
  const sources: MixSourceSummary[] = [];
  const plans: { file: string; counts: Uint32Array }[] = [];
  for (const input of inputs) {
    const file = resolvePath(outDir, input.path);
    const available = await countJsonlLines(file);
    const counts = sampleCounts(available, input.sampling ?? 'all', `${options.seed}\u241e${input.path}`);
    sources.push({ path: input.path, available, taken: counts.reduce((a, b) => a + b, 0) });
    plans.push({ file, counts });
  }
  let droppedEmpty = 0;
  async function* lines(): AsyncGenerator<MessagesLine> {
    for (const plan of plans) {
      for await (const { line, value } of sampledLines(plan.file, plan.counts)) {
        const parsed = toMessagesLine(value);
        if (typeof parsed === 'string') throw new JsonlError(plan.file, line, `not a messages line: ${parsed}`);
        const withPrompt = withSystemPrompt(parsed, options.systemPrompt);
        if (hasEmptyTurn(withPrompt)) {
          droppedEmpty++;
          continue;
        }
        yield withPrompt;
      }
    }
  }
  let output: AsyncIterable<MessagesLine> = lines();
  if (options.shuffle) {
    const all: MessagesLine[] = [];
    for await (const l of lines()) all.push(l);
    const random = seededRandom(`shuffle\u241e${options.seed}\u241e${mixedName}`);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    output = (async function* () {
      yield* all;
    })();
  }
  await writeTextAtomic(join(outDir, recipeName), recipeYaml(inputs, options.systemPrompt));
  const written = await writeJsonlAtomic(join(outDir, mixedName), output);
  return { file: mixedName, recipe: recipeName, lines: written, sources, droppedEmpty };
}

/** InstructLab's recipe: datasets (path, sampling_size) and metadata.sys_prompt. Written by hand to keep 1.0 a float. */
export function recipeYaml(inputs: readonly MixInput[], systemPrompt: string): string {
  const size = (s: Sampling | undefined): string => {
    if (s === undefined || s === 'all') return '1.0';
    if ('count' in s) return String(s.count);
    return Number.isInteger(s.ratio) ? s.ratio.toFixed(1) : String(s.ratio);
  };
  const lines = ['datasets:'];
  if (inputs.length === 0) lines[0] = 'datasets: []';
  for (const i of inputs) lines.push(`- path: ${JSON.stringify(i.path)}`, `  sampling_size: ${size(i.sampling)}`);
  lines.push('metadata:', `  sys_prompt: ${JSON.stringify(systemPrompt)}`, '');
  return lines.join('\n');
}

export interface LeafFiles {
  /** Knowledge leaves: their _p07 and _p10 files; skill leaves: their one file (paths relative to the output folder). */
  knowledge: { p07: string; p10: string }[];
  skills: string[];
}

export interface MixedRunOptions extends MixOptions {
  /** Lines taken from each skill leaf; default 30. */
  skillsPerLeaf?: number | 'all';
  /** Existing data mixed in. */
  replay?: { knowledge?: MixInput[]; skills?: MixInput[] };
}

export interface MixedRun {
  knowledge?: MixSummary;
  skills?: MixSummary;
}

/**
 * Both phases' recipes and mixed files for a run, named as InstructLab names them (see runFileNames). A phase with
 * no input at all writes nothing.
 */
export async function writeMixedDatasets(
  outDir: string,
  names: { knowledgeRecipe: string; skillsRecipe: string; knowledgeMixed: string; skillsMixed: string },
  leaves: LeafFiles,
  options: MixedRunOptions,
): Promise<MixedRun> {
  const perLeaf = options.skillsPerLeaf ?? skillSamplesPerLeaf;
  const knowledgeInputs: MixInput[] = [...leaves.knowledge.map((k) => ({ path: k.p07, sampling: 'all' as const })), ...(options.replay?.knowledge ?? [])];
  const skillsInputs: MixInput[] = [
    ...leaves.skills.map((path) => ({ path, sampling: perLeaf === 'all' ? ('all' as const) : { count: perLeaf } })),
    ...leaves.knowledge.map((k) => ({ path: k.p10, sampling: 'all' as const })),
    ...(options.replay?.skills ?? []),
  ];
  const run: MixedRun = {};
  if (knowledgeInputs.length) run.knowledge = await mixDatasets(outDir, names.knowledgeRecipe, names.knowledgeMixed, knowledgeInputs, options);
  if (skillsInputs.length) run.skills = await mixDatasets(outDir, names.skillsRecipe, names.skillsMixed, skillsInputs, options);
  return run;
}

/** A path as a recipe shows it: relative to the output folder when inside it. */
export function recipePath(outDir: string, file: string): string {
  const rel = relative(outDir, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : file;
}
