// What a taxonomy lacks or does badly, over the tree model: each gap has a kind, a severity, a message that says
// what to do, a place (a file and line, or a folder) and, where one applies, the id of a fix an editor can run.
// Pure: everything comes from the tree (and the empty folders a scan found), nothing is read here.
import { dirname } from 'node:path';
import { defaultLimits, type Limits } from './limits';
import { similarPairs } from './nearDuplicates';
import type { LeafInfo, LeafQuestion, TaxonomyTree, TreeNode } from './tree';

export const gapKinds = [
  'seedsBelowMinimum',
  'emptyBranch',
  'knowledgeWithoutDocument',
  'unreachableDocument',
  'upgradeToV3',
  'unbalancedCoverage',
  'duplicateQuestion',
  'nearDuplicateQuestion',
  'missingAttribution',
] as const;
export type GapKind = (typeof gapKinds)[number];

export type GapSeverity = 'error' | 'warning' | 'info';

/** Ids of the fixes a gap can offer; an editor maps them to its commands. */
export type GapFix = 'upgradeToV3' | 'createAttribution';

export type GapLocation = { file: string; line: number; column?: number } | { folder: string };

export interface Gap {
  kind: GapKind;
  severity: GapSeverity;
  message: string;
  location: GapLocation;
  fix?: GapFix;
}

export interface GapOptions {
  limits?: Partial<Limits>;
  /** Folders under a kind folder that hold no leaf at all (absolute paths), as a scan of the disk found them. */
  emptyFolders?: readonly string[];
  /** A branch is unbalanced below this share of its siblings' median seed count; default 0.25. */
  unbalancedRatio?: number;
  /** Fewest siblings a branch needs before balance is judged; default 3. */
  minSiblings?: number;
  /** Questions in different leaves sharing at least this share of their words (token Jaccard) are reported; default 0.8, false: off. */
  nearDuplicateThreshold?: number | false;
  /** Skills at or above this version are not listed for upgrade (a taxonomy that keeps skills in 2); default 3. */
  skillSchemaVersion?: number;
  /** Candidate pairs looked at before the near-duplicate search stops (reported as a gap); default 2 million. */
  nearDuplicateBudget?: number;
}

export const gapKindTitles: Record<GapKind, string> = {
  seedsBelowMinimum: 'Too few seed examples',
  emptyBranch: 'Branches with no leaves',
  knowledgeWithoutDocument: 'Knowledge without a document',
  unreachableDocument: 'Knowledge whose document cannot be read',
  upgradeToV3: 'Leaves to upgrade to version 3',
  unbalancedCoverage: 'Unbalanced coverage',
  duplicateQuestion: 'Questions repeated across leaves',
  nearDuplicateQuestion: 'Nearly the same questions across leaves',
  missingAttribution: 'Knowledge without attribution.txt',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function gapReport(tree: TaxonomyTree, options: GapOptions = {}): Gap[] {
  const limits = { ...defaultLimits, ...options.limits };
  const gaps: Gap[] = [];
  const leaves = tree.leaves();
  for (const leaf of leaves) leafGaps(leaf, limits, options.skillSchemaVersion ?? 3, gaps);
  for (const folder of [...(options.emptyFolders ?? [])].sort()) {
    gaps.push({
      kind: 'emptyBranch',
      severity: 'info',
      message: 'This folder holds no leaf. Add a qna.yaml below it, or remove it.',
      location: { folder },
    });
  }
  const ratio = options.unbalancedRatio ?? 0.25;
  const minSiblings = options.minSiblings ?? 3;
  for (const root of tree.kindRoots()) balanceGaps(root, ratio, minSiblings, gaps);
  duplicateGaps(leaves, gaps);
  const near = options.nearDuplicateThreshold ?? 0.8;
  if (near !== false) nearDuplicateGaps(leaves, near, options.nearDuplicateBudget, gaps);
  return gaps.sort(compareGaps);
}

function leafGaps(leaf: LeafInfo, limits: Limits, skillVersion: number, gaps: Gap[]): void {
  const at = { file: leaf.file, line: leaf.seedsLine };
  if (leaf.seeds < limits.minSeedExamples) {
    gaps.push({
      kind: 'seedsBelowMinimum',
      severity: 'error',
      message: `${plural(leaf.seeds, 'seed example')}; a leaf needs at least ${limits.minSeedExamples}. Add ${limits.minSeedExamples - leaf.seeds} more.`,
      location: at,
    });
  }
  if (leaf.kind === 'knowledge' && !leaf.hasDocument) {
    gaps.push({
      kind: 'knowledgeWithoutDocument',
      severity: 'error',
      message: 'This knowledge leaf names no document (document: with repo, commit and patterns); data cannot be generated from it.',
      location: { file: leaf.file, line: 1 },
    });
  }
  if (leaf.kind === 'knowledge' && leaf.documentProblem) {
    const p = leaf.documentProblem;
    gaps.push({
      kind: 'unreachableDocument',
      severity: 'error',
      message: `${p.message} (${p.code})`,
      location: { file: leaf.file, line: p.line, column: p.column },
    });
  }
  if (leaf.version < (leaf.kind === 'knowledge' ? 3 : skillVersion)) {
    const knowledge = leaf.kind === 'knowledge';
    gaps.push({
      kind: 'upgradeToV3',
      severity: knowledge ? 'error' : 'info',
      message: knowledge
        ? `Knowledge leaf in schema version ${leaf.version}, which is no longer accepted. Upgrade it to version 3.`
        : `Skill leaf in schema version ${leaf.version}. Upgrade it to version 3.`,
      location: { file: leaf.file, line: 1 },
      fix: 'upgradeToV3',
    });
  }
  if (leaf.kind === 'knowledge' && leaf.hasAttribution === false) {
    gaps.push({
      kind: 'missingAttribution',
      severity: 'warning',
      message: 'No attribution.txt beside this knowledge leaf. Add one naming the source work, its link, revision, license and creators.',
      location: { file: leaf.file, line: 1 },
      fix: 'createAttribution',
    });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A branch whose seeds fall below `ratio` times the median of its siblings' (with at least `minSiblings` of them). */
function balanceGaps(node: TreeNode, ratio: number, minSiblings: number, gaps: Gap[]): void {
  const children = [...node.children.values()];
  if (children.length > minSiblings) {
    for (const child of children) {
      const others = children.filter((c) => c !== child).map((c) => c.counts.seeds);
      const m = median(others);
      if (child.counts.seeds < ratio * m) {
        gaps.push({
          kind: 'unbalancedCoverage',
          severity: 'info',
          message: `${child.id} has ${plural(child.counts.seeds, 'seed example')}, under ${Math.round(ratio * 100)}% of the median of its ${others.length} siblings (${m}). Add leaves or seeds here.`,
          location: locationOf(child),
        });
      }
    }
  }
  for (const child of children) balanceGaps(child, ratio, minSiblings, gaps);
}

/** A node's place: its leaf file, else the folder of any leaf below it, walked up to the node's depth. */
function locationOf(node: TreeNode): GapLocation {
  if (node.leaf) return { file: node.leaf.file, line: 1 };
  let n = node;
  let up = 0;
  while (!n.leaf) {
    n = n.children.values().next().value!;
    up++;
  }
  let folder = dirname(n.leaf!.file);
  for (let i = 0; i < up; i++) folder = dirname(folder);
  return { folder };
}

/** The same question (after normalizeQuestion) in more than one leaf: one gap per question, at its first place. */
function duplicateGaps(leaves: readonly LeafInfo[], gaps: Gap[]): void {
  // Most questions are asked once: keep only the first site, and a set of other files for the few that repeat.
  const sites = new Map<string, { leaf: LeafInfo; q: LeafQuestion; others?: Set<string> }>();
  for (const leaf of leaves) {
    for (const q of leaf.questions) {
      const site = sites.get(q.normalized);
      if (!site) sites.set(q.normalized, { leaf, q });
      else if (site.leaf !== leaf) (site.others ??= new Set()).add(leaf.file);
    }
  }
  for (const { leaf, q, others } of sites.values()) {
    if (!others) continue;
    gaps.push({
      kind: 'duplicateQuestion',
      severity: 'warning',
      message: `This question is also asked in ${plural(others.size, 'other leaf', 'other leaves')} (${[...others].join(', ')}). Keep it in one leaf or reword it.`,
      location: { file: leaf.file, line: q.line, column: q.column },
    });
  }
}

/** Pairs of questions in different leaves, not equal once normalized, whose words are nearly the same. */
function nearDuplicateGaps(leaves: readonly LeafInfo[], threshold: number, budget: number | undefined, gaps: Gap[]): void {
  const sites: { leaf: LeafInfo; q: LeafQuestion }[] = [];
  for (const leaf of leaves) for (const q of leaf.questions) sites.push({ leaf, q });
  const sets = sites.map((s) => s.q);
  const skip = (i: number, j: number) => sites[i].leaf === sites[j].leaf || sites[i].q.normalized === sites[j].q.normalized;
  const { pairs, truncated } = similarPairs(sets, threshold, skip, budget);
  if (truncated && leaves.length > 0) {
    const first = leaves[0];
    gaps.push({
      kind: 'nearDuplicateQuestion',
      severity: 'info',
      message: `The search for nearly equal questions stopped early: too many questions share most of their words. The ones below are some, not all; exact repeats are all reported.`,
      location: { folder: taxonomyRootOf(first) },
    });
  }
  for (const [i, j, sim] of pairs) {
    const a = sites[i];
    const b = sites[j];
    gaps.push({
      kind: 'nearDuplicateQuestion',
      severity: 'info',
      message: `This question shares ${Math.round(sim * 100)}% of its words with one in ${b.leaf.file}:${b.q.line} ("${b.q.text}"). Make them ask different things.`,
      location: { file: a.leaf.file, line: a.q.line, column: a.q.column },
    });
  }
}

/** The folder that holds the leaf's kind folder. */
function taxonomyRootOf(leaf: LeafInfo): string {
  let folder = dirname(leaf.file);
  for (let i = 0; i < leaf.leafPath.split('/').length; i++) folder = dirname(folder);
  return folder;
}

function placeOf(l: GapLocation): string {
  return 'file' in l ? l.file : l.folder;
}

export function compareGaps(a: Gap, b: Gap): number {
  const pa = placeOf(a.location);
  const pb = placeOf(b.location);
  return (
    gapKinds.indexOf(a.kind) - gapKinds.indexOf(b.kind) ||
    (pa < pb ? -1 : pa > pb ? 1 : 0) ||
    ('line' in a.location ? a.location.line : 0) - ('line' in b.location ? b.location.line : 0)
  );
}
