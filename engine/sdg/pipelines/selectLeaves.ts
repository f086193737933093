// Which leaves a run generates for: every leaf of the taxonomy, the ones under the --leaf paths, or the ones changed
// against a git base (--changed), each checked with the editor's checks so a leaf with errors is skipped with its
// first error as the reason (or stops a --strict run).
import { sep } from 'node:path';
import { changedLeaves, describeChangedResult } from '../../taxonomy/changed';
import type { ParsedLeaf } from '../../taxonomy/leaf';
import { checkTaxonomy, MissingPathError } from '../../taxonomy/taxonomy';

export interface SelectedLeaf {
  file: string;
  leaf?: ParsedLeaf;
  /** "N errors, first: line:col CODE message" when the checks found errors. */
  problem?: string;
}

export interface SelectOptions {
  taxonomy: string;
  /** Absolute files or folders; empty: all. */
  leaves: readonly string[];
  changed: boolean;
  gitBase?: string;
  repoCacheDir?: string;
  signal?: AbortSignal;
}

export class LeafSelectionError extends Error {
  override readonly name = 'LeafSelectionError';
}

function under(file: string, path: string): boolean {
  return file === path || file.startsWith(path.endsWith(sep) ? path : path + sep);
}

export async function selectLeaves(options: SelectOptions): Promise<SelectedLeaf[]> {
  let changed: Set<string> | undefined;
  if (options.changed) {
    const result = await changedLeaves(options.taxonomy, options.gitBase ? { base: options.gitBase } : {});
    if (result.status !== 'ok') throw new LeafSelectionError(`--changed: ${describeChangedResult(result)}`);
    changed = new Set(result.leaves.map((l) => l.file));
  }
  const out: SelectedLeaf[] = [];
  try {
    for await (const report of checkTaxonomy([options.taxonomy], { repoCacheDir: options.repoCacheDir, signal: options.signal })) {
      if (!report.file.endsWith('qna.yaml')) continue;
      if (options.leaves.length && !options.leaves.some((p) => under(report.file, p))) continue;
      if (changed && !changed.has(report.file)) continue;
      const errors = report.findings.filter((f) => f.severity === 'error');
      const first = errors[0];
      out.push({
        file: report.file,
        ...(report.leaf ? { leaf: report.leaf } : {}),
        ...(errors.length || !report.leaf
          ? { problem: first ? `${errors.length} error${errors.length === 1 ? '' : 's'}, first: ${first.line}:${first.column} ${first.code} ${first.message}` : 'the file cannot be read' }
          : {}),
      });
    }
  } catch (err) {
    if (err instanceof MissingPathError) throw new LeafSelectionError(`${options.taxonomy}: no such taxonomy folder`);
    throw err;
  }
  if (out.length === 0) {
    const what = options.leaves.length ? `under ${options.leaves.join(', ')}` : changed ? 'changed against the git base' : 'in the taxonomy';
    throw new LeafSelectionError(`${options.taxonomy}: no qna.yaml leaf ${what}`);
  }
  return out;
}
