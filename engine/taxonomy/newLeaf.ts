// A new leaf: the path checks of the "New Leaf" flow and the version 3 qna.yaml skeleton it writes. Every value the
// author must write is a TODO placeholder (QNA112 keeps it visible); everything else already passes the schema and
// the rules, so the leaf is valid the moment the placeholders are filled in.
import { stringify } from 'yaml';
import { attributionTemplate } from './attribution';
import { leafKinds, type LeafKind } from './leaf';
import { defaultLimits } from './limits';
import { placeholderText, type Numbering } from './schemas/skeleton';

export type NewLeafKind = 'knowledge' | 'foundational_skills' | 'compositional_skills_freeform' | 'compositional_skills_grounded';

export interface NewLeafKindInfo {
  id: NewLeafKind;
  label: string;
  detail: string;
  /** The kind folder the leaf goes under. */
  folder: LeafKind;
  /** Whether each seed example carries a context. */
  grounded: boolean;
}

export const newLeafKinds: readonly NewLeafKindInfo[] = [
  { id: 'knowledge', label: 'Knowledge', detail: 'Facts from a document in git: passages with three questions and answers each', folder: 'knowledge', grounded: true },
  { id: 'foundational_skills', label: 'Foundational skill', detail: 'Reasoning, math or coding: questions and answers', folder: 'foundational_skills', grounded: false },
  {
    id: 'compositional_skills_freeform',
    label: 'Compositional skill (freeform)',
    detail: 'A task with no material to work from, e.g. writing a poem: questions and answers',
    folder: 'compositional_skills',
    grounded: false,
  },
  {
    id: 'compositional_skills_grounded',
    label: 'Compositional skill (grounded)',
    detail: 'A task over given material, e.g. summarizing a text: context, question and answer',
    folder: 'compositional_skills',
    grounded: true,
  },
];

export function newLeafKind(id: NewLeafKind): NewLeafKindInfo {
  return newLeafKinds.find((k) => k.id === id)!;
}

/** What authors without a git user name get: the field wants the contributor's GitHub username. */
export const defaultCreatedBy = 'your-github-username';

/** Lowercase letters, digits and underscores, as InstructLab's taxonomy names its folders. */
const segmentPattern = /^[a-z0-9_]+$/;

export interface PathCheckOptions {
  /** Whether `<kind folder>/<path>/qna.yaml` exists already (the path is the normalized one, '/'-separated). */
  leafExists?: (path: string) => boolean;
}

/** Trims the input and drops slashes at either end: "writing/poetry/" and "writing/poetry" are the same leaf. */
export function normalizeLeafPath(input: string): string {
  return input.trim().replace(/^\/+|\/+$/g, '');
}

/**
 * Why `input` cannot be the path of a new leaf under the kind's folder, or undefined when it can. A grounded or
 * freeform folder on the path must agree with the kind chosen, since that folder decides which pipeline reads it.
 */
export function leafPathProblem(input: string, kind: NewLeafKind, options: PathCheckOptions = {}): string | undefined {
  const path = normalizeLeafPath(input);
  const info = newLeafKind(kind);
  if (path === '') return `Type the leaf's folder path under ${info.folder}/, e.g. ${examplePath(kind)}.`;
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'The path has an empty folder name ("//"); separate folder names with a single "/".';
  const bad = segments.find((s) => !segmentPattern.test(s));
  if (bad !== undefined) return `"${bad}" may only use lowercase letters, digits and underscores (e.g. ${bad.toLowerCase().replace(/[^a-z0-9_]+/g, '_')}).`;
  if (info.folder !== 'knowledge') {
    const style = [...segments].reverse().find((s) => s === 'grounded' || s === 'freeform');
    const wanted = info.grounded ? 'grounded' : 'freeform';
    if (style && style !== wanted) {
      return `A ${info.label.toLowerCase()} cannot live under a "${style}" folder: its seed examples ${info.grounded ? 'have' : 'have no'} context. Use a "${wanted}" folder, or pick the other kind.`;
    }
  }
  if (options.leafExists?.(path)) return `${info.folder}/${path}/qna.yaml already exists; choose another path, or open that leaf.`;
  return undefined;
}

/**
 * Where "New Leaf Here…" on a Taxonomy view node starts: the kinds that may go there and the path typed so far, from
 * the node's id ("compositional_skills/writing/freeform"). A style folder on the path narrows the kinds to its own.
 */
export function newLeafStart(nodeId: string): { kinds: NewLeafKind[]; path: string } | undefined {
  const [folder, ...rest] = nodeId.split('/');
  if (!(leafKinds as readonly string[]).includes(folder)) return undefined;
  const style = [...rest].reverse().find((s) => s === 'grounded' || s === 'freeform');
  const kinds = newLeafKinds
    .filter((k) => k.folder === folder && (!style || k.folder === 'knowledge' || k.grounded === (style === 'grounded')))
    .map((k) => k.id);
  return { kinds, path: rest.length ? `${rest.join('/')}/` : '' };
}

export function examplePath(kind: NewLeafKind): string {
  switch (kind) {
    case 'knowledge':
      return 'science/astronomy/exoplanets';
    case 'foundational_skills':
      return 'reasoning/logical/seating_puzzles';
    case 'compositional_skills_freeform':
      return 'writing/freeform/poetry/haiku';
    case 'compositional_skills_grounded':
      return 'extraction/grounded/action_items';
  }
}

export interface SkeletonOptions {
  createdBy?: string;
  /**
   * Schema version for a skill (default 3); 2 is for taxonomies whose tooling predates version 3. Knowledge is always
   * version 3: ilab refuses knowledge in older versions.
   */
  version?: 2 | 3;
  limits?: { minSeedExamples?: number; minQaPerContext?: number };
}

/** A YAML scalar for one line of text: plain when YAML 1.1 (as ilab parses) reads it back as that string, else quoted. */
function scalar(value: string): string {
  return stringify(value, { version: '1.1', lineWidth: 0 }).trimEnd();
}

/** The qna.yaml text of a new leaf of the given kind, in schema version 3 unless a skill is asked for in 2. */
export function leafSkeleton(kind: NewLeafKind, options: SkeletonOptions = {}): string {
  const info = newLeafKind(kind);
  const seeds = Math.max(defaultLimits.minSeedExamples, options.limits?.minSeedExamples ?? 0);
  const pairs = Math.max(defaultLimits.minQaPerContext, options.limits?.minQaPerContext ?? 0);
  const createdBy = options.createdBy?.trim() || defaultCreatedBy;
  const schema = info.folder === 'knowledge' ? 'knowledge' : 'compositional_skills';
  const n: Numbering = { question: 0, passage: 0 };
  const todo = (key: string) => placeholderText(key, schema, n);
  const version = info.folder === 'knowledge' ? 3 : (options.version ?? 3);
  const lines = [`version: ${version}`, `created_by: ${scalar(createdBy)}`];

  if (info.folder === 'knowledge') {
    lines.push(`domain: ${todo('domain')}`, `document_outline: ${todo('document_outline')}`, 'seed_examples:');
    for (let s = 0; s < seeds; s++) {
      lines.push(`  - context: ${todo('context')}`, '    questions_and_answers:');
      for (let q = 0; q < pairs; q++) lines.push(`      - question: ${todo('question')}`, `        answer: ${todo('answer')}`);
    }
    lines.push(
      'document:',
      `  repo: ${todo('repo')}`,
      `  commit: ${todo('commit')}`,
      '  patterns:',
      `    - ${placeholderText('pattern', schema)}`,
    );
  } else {
    lines.push(`task_description: ${todo('task_description')}`, 'seed_examples:');
    for (let s = 0; s < seeds; s++) {
      // Grounded contexts are numbered too: the schema wants every seed example different.
      if (info.grounded) lines.push(`  - context: TODO the material for question ${n.question + 1}`, `    question: ${todo('question')}`);
      else lines.push(`  - question: ${todo('question')}`);
      lines.push(`    answer: ${todo('answer')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** attribution.txt for a new knowledge leaf: every field empty, for the author to name the source work. */
export function newAttribution(): string {
  return attributionTemplate({});
}
