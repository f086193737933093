// The leaves added or modified against a git base, as ilab's `taxonomy diff` reports them: committed changes since
// the merge base of HEAD and the base, staged and unstaged edits, and untracked leaves. These are what a training run
// uses by default, so the Changed Leaves view and `taxonomy-studio diff` show them. Deleted leaves are not listed
// (there is nothing left to train on). A folder that is not in git is not an error: it just has no changed view.
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { locateInTaxonomy } from './leaf';

/** ilab's default base; when it does not exist, `main` and then `master` are tried. */
export const defaultGitBase = 'origin/main';

export type ChangeKind = 'added' | 'modified' | 'untracked';

export interface ChangedLeaf {
  /** Absolute path of the qna.yaml. */
  file: string;
  /** Path from the taxonomy root, with `/` separators (knowledge/…/qna.yaml). */
  path: string;
  change: ChangeKind;
}

export type ChangedLeavesResult =
  | { status: 'ok'; base: string; mergeBase: string | undefined; leaves: ChangedLeaf[]; fellBackFrom?: string }
  | { status: 'notGit'; reason: string }
  | { status: 'noBase'; base: string; reason: string }
  | { status: 'gitMissing'; reason: string };

export interface ChangedLeavesOptions {
  /** Branch, tag or commit to compare against; default `origin/main`. */
  base?: string;
  gitPath?: string;
  timeoutMs?: number;
}

class GitFailure extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
  }
}

function runGit(cwd: string, args: string[], gitPath: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      gitPath,
      ['-C', cwd, ...args],
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
        windowsHide: true,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
      },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new GitFailure(`git was not found (looked for "${gitPath}")`, true));
        reject(new GitFailure(String(stderr).trim().split('\n')[0] || err.message));
      },
    );
  });
}

/** The leaves under `root` (a taxonomy root) that differ from `base`. */
export async function changedLeaves(root: string, options: ChangedLeavesOptions = {}): Promise<ChangedLeavesResult> {
  const gitPath = options.gitPath ?? 'git';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const git = (args: string[]) => runGit(root, args, gitPath, timeoutMs);
  const absRoot = resolve(root);
  // git prints real paths; the caller's root may go through a symlink, so compare real paths and answer in its terms.
  const realRoot = await realpath(absRoot).catch(() => absRoot);

  let top: string;
  try {
    top = (await git(['rev-parse', '--show-toplevel'])).trim();
  } catch (err) {
    if (err instanceof GitFailure && err.missing) return { status: 'gitMissing', reason: `${err.message}: install git to see the leaves changed against a base branch` };
    return { status: 'notGit', reason: `${absRoot} is not in a git repository, so there is no base to compare leaves with` };
  }

  const requested = options.base?.trim() || defaultGitBase;
  // The default is a guess (many local taxonomies have no remote): try the usual local names after it.
  const candidates = requested === defaultGitBase ? [requested, 'main', 'master'] : [requested];
  let base: string | undefined;
  for (const candidate of candidates) {
    if (await git(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]).then(() => true, () => false)) {
      base = candidate;
      break;
    }
  }
  if (!base) {
    return {
      status: 'noBase',
      base: requested,
      reason: `'${requested}' is not a branch, tag or commit in ${top}; set taxonomyStudio.gitBase (or --base) to the branch your leaves are compared with`,
    };
  }

  const hasHead = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).then(() => true, () => false);
  const mergeBase = hasHead ? (await git(['merge-base', 'HEAD', base]).catch(() => '')).trim() || undefined : undefined;
  // Against the merge base when there is one (only this branch's changes, as ilab does), else the base itself.
  const against = mergeBase ?? base;
  const [diff, untracked] = await Promise.all([
    git(['diff', '--name-status', '-z', '--no-renames', against, '--', '.']),
    git(['ls-files', '--others', '--exclude-standard', '-z', '--', '.']),
  ]);

  const byPath = new Map<string, ChangedLeaf>();
  const add = (topRelative: string, change: ChangeKind) => {
    const real = join(top, ...topRelative.split('/'));
    if (!isLeafUnder(realRoot, real)) return;
    const path = relative(realRoot, real).split(sep).join('/');
    const file = join(absRoot, ...path.split('/'));
    byPath.set(file, { file, path, change });
  };
  const fields = diff.split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i];
    const path = fields[i + 1];
    if (status === 'A') add(path, 'added');
    else if (status === 'M' || status === 'T') add(path, 'modified');
  }
  // ls-files answers relative to the folder it ran in (the root), not the repository top.
  const rootFromTop = relative(top, realRoot).split(sep).join('/');
  for (const path of untracked.split('\0')) {
    if (path) add(rootFromTop ? `${rootFromTop}/${path}` : path, 'untracked');
  }
  const leaves = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { status: 'ok', base, mergeBase, leaves, ...(base !== requested ? { fellBackFrom: requested } : {}) };
}

function isLeafUnder(root: string, file: string): boolean {
  if (!file.endsWith(`${sep}qna.yaml`) || !file.startsWith(root + sep)) return false;
  const location = locateInTaxonomy(file);
  return location.kind !== undefined && location.root === root;
}

/** One line for a view or a terminal: why there is no list, or what was compared. */
export function describeChangedResult(result: ChangedLeavesResult): string {
  switch (result.status) {
    case 'ok': {
      const n = result.leaves.length;
      const against = result.fellBackFrom ? `${result.base} ('${result.fellBackFrom}' does not exist here)` : result.base;
      return `${n === 0 ? 'No' : n} leaf${n === 1 ? '' : 's'} changed against ${against}`.replace(/leafs/, 'leaves');
    }
    default:
      return result.reason;
  }
}
