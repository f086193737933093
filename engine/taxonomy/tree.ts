// The taxonomy as a tree for the explorer view: kind roots > folders > leaves, each node carrying the sums of the
// leaves below it (leaves, seed examples, words, errors, warnings). Sums make an incremental change cheap: updating
// one leaf subtracts its old numbers and adds its new ones along its ancestors only (O(depth)), and removing the
// last leaf of a folder prunes the folders it leaves empty. Per-leaf checks run without the cross-leaf question
// index, so a leaf's state never depends on another leaf; cross-leaf duplicates are reported by the gap report.
import { basename } from 'node:path';
import { checkLeaf } from './check';
import { isPlainObject, leafKinds, lineColAt, locateInTaxonomy, parseLeaf, spanAtPath, type LeafKind, type ParsedLeaf } from './leaf';
import { leafWords } from './leafWords';
import type { Limits } from './limits';
import { tokenize } from './nearDuplicates';
import { normalizeQuestion } from './questionIndex';

export type NodeState = 'error' | 'warning' | 'ok';

export interface Counts {
  leaves: number;
  seeds: number;
  words: number;
  errors: number;
  warnings: number;
}

export interface LeafQuestion {
  text: string;
  normalized: string;
  /** Distinct words of the normalized question, for the near-duplicate search (computed once per parse). */
  tokens: string[];
  line: number; // 1-based
  column: number; // 1-based
}

/** What the tree keeps of one leaf file: everything the views and the gap report need, not the parsed YAML. */
export interface LeafInfo {
  file: string;
  kind: LeafKind;
  /** '/'-separated path from the kind folder to the leaf's folder ("knowledge/science/moon"). */
  leafPath: string;
  version: number;
  seeds: number;
  /** Words of all seed examples (contexts, questions, answers). */
  words: number;
  errors: number;
  warnings: number;
  /** The leaf's task_description (skills) or domain (knowledge), for tooltips. */
  description?: string;
  /** Knowledge: the leaf names a document (repo and patterns). */
  hasDocument: boolean;
  /** Knowledge: attribution.txt sits beside the leaf; undefined when nobody looked. */
  hasAttribution?: boolean;
  /** Knowledge: the first reason its document cannot be read locally; undefined when readable or nobody looked. */
  documentProblem?: DocumentProblem;
  /** 1-based line of seed_examples (1 when there is none). */
  seedsLine: number;
  questions: LeafQuestion[];
}

export interface TreeNode {
  /** Unique: the kind, then the '/'-joined path ("knowledge/science/moon"); a misnamed leaf file adds its name. */
  id: string;
  name: string;
  type: 'kind' | 'folder' | 'leaf';
  parent?: TreeNode;
  /** Children by name; a node may be a leaf and also have children (a qna.yaml beside deeper leaves). */
  children: Map<string, TreeNode>;
  counts: Counts;
  /** Set when a leaf file belongs to this node. */
  leaf?: LeafInfo;
}

export interface LeafExtras {
  hasAttribution?: boolean;
  /** Knowledge: why the named document cannot be read locally (repo, commit or pattern), when someone looked. */
  documentProblem?: DocumentProblem;
}

export interface DocumentProblem {
  code: string;
  message: string;
  line: number;
  column: number;
}

export interface TreeOptions {
  limits?: Partial<Limits>;
}

export function stateOf(counts: Counts): NodeState {
  return counts.errors > 0 ? 'error' : counts.warnings > 0 ? 'warning' : 'ok';
}

const zero = (): Counts => ({ leaves: 0, seeds: 0, words: 0, errors: 0, warnings: 0 });

function leafCounts(info: LeafInfo): Counts {
  return { leaves: 1, seeds: info.seeds, words: info.words, errors: info.errors, warnings: info.warnings };
}

/** Reads what the tree keeps of a parsed leaf, running every per-leaf check once. */
export function describeLeaf(leaf: ParsedLeaf, file: string, kind: LeafKind, leafPath: string, options: TreeOptions = {}, extras: LeafExtras = {}): LeafInfo {
  let errors = 0;
  let warnings = 0;
  for (const f of checkLeaf(leaf, { limits: options.limits })) {
    if (f.severity === 'error') errors++;
    else if (f.severity === 'warning') warnings++;
  }
  const { seeds, seedWords } = leafWords(leaf);
  const value = isPlainObject(leaf.value) ? leaf.value : {};
  const text = (k: string) => (typeof value[k] === 'string' && (value[k] as string).trim() ? (value[k] as string).trim() : undefined);
  const doc = value.document;
  const hasDocument = isPlainObject(doc) && typeof doc.repo === 'string' && doc.repo.trim() !== '' && Array.isArray(doc.patterns) && doc.patterns.length > 0;
  const questions: LeafQuestion[] = [];
  for (const seed of seeds) {
    for (const qa of seed.qas) {
      if (!qa.question) continue;
      const normalized = normalizeQuestion(qa.question.value);
      if (!normalized) continue;
      const at = lineColAt(leaf, qa.question.span.start);
      questions.push({ text: qa.question.value, normalized, tokens: tokenize(normalized), line: at.line, column: at.col });
    }
  }
  const seedsSpan = leaf.root ? spanAtPath(leaf, ['seed_examples'], 'key') : undefined;
  return {
    file,
    kind,
    leafPath,
    version: leaf.version,
    seeds: seeds.length,
    words: seedWords,
    errors,
    warnings,
    description: kind === 'knowledge' ? (text('domain') ?? text('document_outline')) : text('task_description'),
    hasDocument,
    hasAttribution: extras.hasAttribution,
    documentProblem: extras.documentProblem,
    seedsLine: seedsSpan && seedsSpan.end > seedsSpan.start ? lineColAt(leaf, seedsSpan.start).line : 1,
    questions,
  };
}

export class TaxonomyTree {
  /** Kind roots, in the order of leafKinds; a kind with no leaf has no root. */
  readonly roots = new Map<LeafKind, TreeNode>();
  private readonly leafNodes = new Map<string, TreeNode>();

  constructor(private readonly options: TreeOptions = {}) {}

  get leafCount(): number {
    return this.leafNodes.size;
  }

  /** Kind roots in display order. */
  kindRoots(): TreeNode[] {
    return leafKinds.map((k) => this.roots.get(k)).filter((n): n is TreeNode => n !== undefined);
  }

  /** Sums over the whole taxonomy. */
  totals(): Counts {
    const t = zero();
    for (const r of this.roots.values()) add(t, r.counts, 1);
    return t;
  }

  nodeOfFile(file: string): TreeNode | undefined {
    return this.leafNodes.get(file);
  }

  leaves(): LeafInfo[] {
    return [...this.leafNodes.values()].map((n) => n.leaf!).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  /**
   * Re-reads one leaf from its text (undefined: the file is gone). Returns the nodes whose numbers or shape changed,
   * deepest first, or [] when the file is not in a taxonomy. Only the leaf's ancestors are touched.
   */
  updateLeaf(file: string, text: string | undefined, extras: LeafExtras = {}): TreeNode[] {
    if (text === undefined) return this.removeLeaf(file);
    const loc = locateInTaxonomy(file);
    if (!loc.kind || loc.leafPath === undefined) return [];
    const info = describeLeaf(parseLeaf(text, file), file, loc.kind, loc.leafPath, this.options, extras);
    return this.setLeaf(info);
  }

  /** Puts a described leaf in place (replacing what the file had before). */
  setLeaf(info: LeafInfo): TreeNode[] {
    const old = this.leafNodes.get(info.file);
    const segments = info.leafPath.split('/').slice(1);
    const name = basename(info.file);
    if (name !== 'qna.yaml') segments.push(name); // a misnamed leaf gets a node of its own, so it never hides another
    const kindRoot = this.roots.get(info.kind);
    // Same place: adjust the sums by the difference only.
    if (old && old.leaf!.kind === info.kind && old.id === nodeId(info.kind, segments)) {
      const delta = leafCounts(info);
      add(delta, leafCounts(old.leaf!), -1);
      old.leaf = info;
      return this.propagate(old, delta);
    }
    const removed = old ? this.removeLeaf(info.file) : [];
    let node = kindRoot ?? this.makeRoot(info.kind);
    for (const seg of segments) {
      let child = node.children.get(seg);
      if (!child) {
        child = { id: `${node.id}/${seg}`, name: seg, type: 'folder', parent: node, children: new Map(), counts: zero() };
        node.children.set(seg, child);
      }
      node = child;
    }
    if (node.leaf) throw new Error(`Two leaf files map to one tree node: ${node.leaf.file} and ${info.file}`);
    node.leaf = info;
    node.type = node.parent ? 'leaf' : 'kind';
    this.leafNodes.set(info.file, node);
    return [...removed, ...this.propagate(node, leafCounts(info))];
  }

  removeLeaf(file: string): TreeNode[] {
    const node = this.leafNodes.get(file);
    if (!node) return [];
    this.leafNodes.delete(file);
    const negative = zero();
    add(negative, leafCounts(node.leaf!), -1);
    node.leaf = undefined;
    if (node.parent) node.type = 'folder';
    const changed = this.propagate(node, negative);
    // Prune nodes left with neither a leaf nor children, bottom up.
    let cur: TreeNode | undefined = node;
    while (cur && !cur.leaf && cur.children.size === 0) {
      const parent: TreeNode | undefined = cur.parent;
      if (parent) parent.children.delete(cur.name);
      else this.roots.delete(cur.name as LeafKind);
      cur = parent;
    }
    return changed;
  }

  private makeRoot(kind: LeafKind): TreeNode {
    const root: TreeNode = { id: kind, name: kind, type: 'kind', children: new Map(), counts: zero() };
    this.roots.set(kind, root);
    return root;
  }

  private propagate(from: TreeNode, delta: Counts): TreeNode[] {
    const changed: TreeNode[] = [];
    for (let n: TreeNode | undefined = from; n; n = n.parent) {
      add(n.counts, delta, 1);
      changed.push(n);
    }
    return changed;
  }
}

function nodeId(kind: LeafKind, segments: string[]): string {
  return [kind, ...segments].join('/');
}

function add(into: Counts, c: Counts, sign: number): void {
  into.leaves += sign * c.leaves;
  into.seeds += sign * c.seeds;
  into.words += sign * c.words;
  into.errors += sign * c.errors;
  into.warnings += sign * c.warnings;
}

/** Builds a tree from leaf texts at once (tests, and the reference the incremental path is held to). */
export function buildTree(leaves: Iterable<{ file: string; text: string; extras?: LeafExtras }>, options: TreeOptions = {}): TaxonomyTree {
  const tree = new TaxonomyTree(options);
  for (const l of leaves) tree.updateLeaf(l.file, l.text, l.extras);
  return tree;
}
