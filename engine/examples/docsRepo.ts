// The example knowledge documents as a git repository whose one commit has the same SHA on every machine, so the
// example knowledge leaves can name it in `document.commit`. Used by scripts/make-example-docs-repo.ts (the repo's
// own examples/knowledge-docs-repo) and by `taxonomy-studio example` (a copy for a user to try).
//
// The SHA depends only on the files, their modes, the commit message, and the author and committer names, emails and
// dates; all of those are fixed here and the user's git configuration is shut out.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** The commit the knowledge leaves point to (examples/taxonomy and test/fixtures/broken); change them together. */
export const EXPECTED_COMMIT = '26c3d21aace07af4b9342acd27ff06b8fdbc6d0c';

const identity = { name: 'Taxonomy Studio Examples', email: 'examples@taxonomy-studio.invalid' };
const commitDate = '2024-06-01T12:00:00+0000';
const commitMessage = 'Kestrel Hill Observatory reference documents\n';

export interface DocFile {
  /** '/'-separated path inside the repository. */
  path: string;
  content: Buffer;
}

/** The documents to commit, sorted, with line endings normalised so a CRLF checkout gives the same commit. */
export function readDocs(sourceDir: string): DocFile[] {
  const out: DocFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const text = readFileSync(full, 'utf8').replace(/\r\n/g, '\n');
        out.push({ path: relative(sourceDir, full).split(sep).join('/'), content: Buffer.from(text, 'utf8') });
      }
    }
  };
  walk(sourceDir);
  if (out.length === 0) throw new Error(`No documents found under ${sourceDir}.`);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The object id git gives a file's content (SHA-1 of "blob <size>\0<content>"). */
export function blobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** An environment in which git reads no user or system configuration and takes its identity and dates from us. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // GIT_DIR, GIT_INDEX_FILE and friends (set when this runs from a git hook) would point git at another repository.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    GIT_CONFIG_GLOBAL: process.platform === 'win32' ? 'NUL' : '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_AUTHOR_DATE: commitDate,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    GIT_COMMITTER_DATE: commitDate,
    GIT_TERMINAL_PROMPT: '0',
  };
}

const configFlags = [
  '-c', `user.name=${identity.name}`,
  '-c', `user.email=${identity.email}`,
  '-c', 'commit.gpgsign=false',
  '-c', 'core.autocrlf=false',
  '-c', 'core.fileMode=false',
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'init.defaultBranch=main',
];

function git(cwd: string, args: string[], input?: string): string {
  try {
    return execFileSync('git', [...configFlags, ...args], {
      cwd,
      env: gitEnv(),
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('git was not found on PATH. Install git to build the example documents repository.');
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Whether `dir` is a repository whose HEAD is `expected`, holds exactly `docs`, and has a clean work tree. */
function isUpToDate(dir: string, docs: DocFile[], expected: string): boolean {
  if (!existsSync(join(dir, '.git'))) return false;
  try {
    if (git(dir, ['rev-parse', '--verify', 'HEAD']) !== expected) return false;
    // HEAD's SHA pins its content, but the documents may have changed since it was made: compare them too.
    const have = git(dir, ['ls-tree', '-r', '--full-tree', 'HEAD']).split('\n').filter(Boolean).map((l) => l.replace('\t', ' '));
    const want = docs.map((d) => `100644 blob ${blobId(d.content)} ${d.path}`);
    if (have.sort().join('\n') !== want.sort().join('\n')) return false;
    return git(dir, ['status', '--porcelain', '--untracked-files=all']) === '';
  } catch {
    return false;
  }
}

export interface BuildResult {
  dir: string;
  commit: string;
  /** False when the repository was already up to date and nothing was written. */
  rebuilt: boolean;
}

/** Make `dir` a one-commit repository of the documents; leave it alone when it already is the expected one. */
export function buildDocsRepo(dir: string, sourceDir: string, expected = EXPECTED_COMMIT): BuildResult {
  const docs = readDocs(sourceDir);
  if (isUpToDate(dir, docs, expected)) return { dir, commit: expected, rebuilt: false };

  if (existsSync(dir)) {
    // Only ever delete something this script made: a folder holding a repository, or an empty folder.
    if (!existsSync(join(dir, '.git')) && readdirSync(dir).length > 0) {
      throw new Error(`${dir} exists and is not a repository made by this script. Move it away and run again.`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--quiet', '-b', 'main']);
  for (const d of docs) {
    const file = join(dir, ...d.path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, d.content);
  }
  // --chmod=-x: a file's mode is part of the tree, and a checkout may have left execute bits on some systems.
  git(dir, ['add', '--chmod=-x', '--', ...docs.map((d) => d.path)]);
  git(dir, ['commit', '--quiet', '--no-verify', '--cleanup=verbatim', '-F', '-'], commitMessage);
  return { dir, commit: git(dir, ['rev-parse', '--verify', 'HEAD']), rebuilt: true };
}
