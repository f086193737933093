// Content hashes for provenance. A leaf tracked in git is named by its blob sha-1, the id `git hash-object` and
// `git ls-files -s` print, so `git cat-file -p <sha>` gives back the exact text it was trained on; anything else
// (untracked, edited, no git) by `sha256:<hex>` of its bytes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BaseModelRecord, DatasetRecord, FileHash, LeafHash } from './record';

/** Git's blob id of `content`: sha1 over "blob <length>\0" and the bytes. */
export function gitBlobSha(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The blob sha git's index holds for `file`, or undefined (not in a repository, untracked, no git). */
function indexedBlobSha(file: string): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    execFile('git', ['ls-files', '--stage', '--', basename(file)], { cwd: dirname(file), timeout: 10_000 }, (err, stdout) => {
      if (err) return resolvePromise(undefined);
      // "<mode> <sha> <stage>\t<path>"; a conflicted file has several lines and is not clean.
      const lines = stdout.split('\n').filter(Boolean);
      resolvePromise(lines.length === 1 ? lines[0].split(/\s+/)[1] : undefined);
    });
  });
}

/**
 * The leaf's hash: its git blob sha when git's index holds exactly these bytes (tracked and not edited since), else
 * `sha256:<hex>` of the content.
 */
export async function leafHash(file: string, shownPath: string = file): Promise<LeafHash> {
  const content = await readFile(file);
  const blob = gitBlobSha(content);
  if ((await indexedBlobSha(file)) === blob) return { path: shownPath, sha: blob };
  return { path: shownPath, sha: `sha256:${createHash('sha256').update(content).digest('hex')}` };
}

/**
 * A dataset file's sha256, or for a folder (the generate run's) the hash of its data files: those report.json lists
 * as mixed when it has such a list, else every top-level .jsonl; the folder's sha256 is over their sorted
 * "<sha256>  <name>" lines, as `sha256sum` prints them.
 */
export async function datasetHash(path: string): Promise<DatasetRecord> {
  const info = await stat(path);
  if (!info.isDirectory()) return { path, sha256: await sha256File(path) };
  let names: string[] | undefined;
  try {
    const report = JSON.parse(await readFile(join(path, 'report.json'), 'utf8')) as { mixed?: { file: string; lines: number }[] };
    names = report.mixed?.filter((m) => m.lines > 0).map((m) => m.file);
  } catch {
    names = undefined;
  }
  names ??= (await readdir(path)).filter((n) => n.endsWith('.jsonl'));
  names.sort();
  const files: FileHash[] = [];
  for (const name of names) files.push({ path: join(path, name), sha256: await sha256File(join(path, name)) });
  const listing = files.map((f) => `${f.sha256}  ${basename(f.path)}\n`).join('');
  return { path, sha256: createHash('sha256').update(listing).digest('hex'), files };
}

/** A base model: a Hugging Face folder by its config.json, a file (GGUF) by its whole content. */
export async function baseModelHash(path: string): Promise<BaseModelRecord> {
  const info = await stat(path);
  const file = info.isDirectory() ? join(path, 'config.json') : path;
  return { path, sha256: await sha256File(file), hashed: basename(file) };
}
