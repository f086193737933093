// Fills a TaxonomyTree from disk: every leaf the taxonomy walk finds, read and described one at a time with a pause
// to the event loop every few milliseconds (parsing and checking a leaf takes ~4 ms, so 10,000 leaves are ~40 s of
// work an editor host must stay responsive through), plus the folders under a
// kind folder that hold no leaf (for the gap report). An unreadable leaf is kept as an empty one: it shows, marked.
import type { Dirent } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attributionFileName } from './attribution';
import { checkDocuments, type DocumentOptions } from './documents';
import { leafKinds, lineColAt, parseLeaf } from './leaf';
import { decodeLeafBytes } from './source';
import { walkTaxonomy } from './taxonomy';
import { TaxonomyTree, type DocumentProblem, type LeafExtras, type TreeOptions } from './tree';

export interface LoadOptions extends TreeOptions {
  signal?: AbortSignal;
  /** Longest stretch of work between pauses to the event loop, in ms; default 15. */
  sliceMs?: number;
  /** Called after each pause with the leaves described so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Look up each knowledge leaf's document in its local clone (git), for the unreachable-document gap. */
  documents?: DocumentOptions;
}

export interface LoadedTaxonomy {
  tree: TaxonomyTree;
  emptyFolders: string[];
}

/**
 * The text the tree reads for a leaf, whether a knowledge leaf has attribution.txt and, when `documents` is given,
 * whether its document resolves in a local clone. '' when unreadable.
 */
export async function readLeafForTree(file: string, documents?: DocumentOptions): Promise<{ text: string; extras: LeafExtras }> {
  let text = '';
  try {
    const decoded = decodeLeafBytes(await readFile(file));
    text = decoded.binary ? '' : decoded.text;
  } catch {
    // Unreadable: described as an empty leaf, which reports an error, so it is marked rather than hidden.
  }
  let hasAttribution: boolean | undefined;
  if (/[\\/]knowledge[\\/]/.test(file)) {
    hasAttribution = await access(join(dirname(file), attributionFileName)).then(
      () => true,
      () => false,
    );
  }
  const documentProblem = documents && hasAttribution !== undefined && text ? await firstDocumentProblem(text, file, documents) : undefined;
  return { text, extras: { hasAttribution, documentProblem } };
}

// Codes that mean "the document is named but cannot be read here"; a leaf with no document at all is its own gap.
const unreachableCodes = new Set(['QNA260', 'QNA261', 'QNA262', 'QNA263', 'QNA301']);

async function firstDocumentProblem(text: string, file: string, options: DocumentOptions): Promise<DocumentProblem | undefined> {
  const leaf = parseLeaf(text, file);
  if (leaf.kind !== 'knowledge') return undefined;
  const found = (await checkDocuments(leaf, options).catch(() => [])).find((f) => unreachableCodes.has(f.code));
  if (!found) return undefined;
  const at = lineColAt(leaf, found.span.start);
  return { code: found.code, message: found.message, line: at.line, column: at.col };
}

export async function loadTaxonomyTree(root: string, options: LoadOptions = {}): Promise<LoadedTaxonomy> {
  const tree = new TaxonomyTree(options);
  const { files } = await walkTaxonomy([root]);
  const sliceMs = options.sliceMs ?? 15;
  let sliceStart = performance.now();
  for (let i = 0; i < files.length; i++) {
    options.signal?.throwIfAborted();
    const { text, extras } = await readLeafForTree(files[i], options.documents);
    tree.updateLeaf(files[i], text, extras);
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((r) => setImmediate(r));
      options.onProgress?.(i + 1, files.length);
      sliceStart = performance.now();
    }
  }
  return { tree, emptyFolders: await findEmptyFolders(root) };
}

/** The topmost folders under root's kind folders (the kind folders included) with no leaf file anywhere below them. */
export async function findEmptyFolders(root: string): Promise<string[]> {
  // Returns the empty folders found at or below dir; just [dir] when dir itself holds no leaf.
  const visit = async (dir: string): Promise<{ hasLeaf: boolean; empty: string[] }> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return { hasLeaf: true, empty: [] }; // unreadable folders are the walk's findings, not gaps
    }
    let hasLeaf = false;
    const empty: string[] = [];
    for (const e of entries) {
      if ((e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/i.test(e.name)) hasLeaf = true;
      else if (e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules') {
        const sub = await visit(join(dir, e.name));
        if (sub.hasLeaf) hasLeaf = true;
        empty.push(...sub.empty);
      }
    }
    return hasLeaf ? { hasLeaf, empty } : { hasLeaf, empty: [dir] };
  };
  const empty: string[] = [];
  for (const kind of leafKinds) {
    const dir = join(root, kind);
    try {
      await readdir(dir);
    } catch {
      continue;
    }
    empty.push(...(await visit(dir)).empty);
  }
  return empty.sort();
}
