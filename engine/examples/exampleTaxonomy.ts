// A copy of the example taxonomy for a user to try: examples/taxonomy beside a freshly built document repository at
// the commit its knowledge leaves name, so every check passes and every document resolves out of the box.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildDocsRepo, EXPECTED_COMMIT } from './docsRepo';

/** Where the shipped examples are: beside dist/ in the package, or at the repository root from the sources. */
export function findExamplesDir(from: string = __dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'examples', 'taxonomy')) && existsSync(join(dir, 'examples', 'knowledge-docs'))) return join(dir, 'examples');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export interface WrittenExample {
  /** The taxonomy root to open. */
  taxonomy: string;
  docsRepo: string;
}

/**
 * Writes `<out>/taxonomy` and `<out>/knowledge-docs-repo` (the leaves name it as ../knowledge-docs-repo). `out` must
 * not exist or be empty: nothing of the user's is ever overwritten. Written into a temporary sibling and renamed, so
 * a failure (no git, a full disk) leaves no half example behind.
 */
export function writeExampleTaxonomy(out: string, examplesDir: string): WrittenExample {
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new Error(`${out} already exists and is not empty; choose a new folder for the example`);
  }
  const staging = `${out}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true });
    cpSync(join(examplesDir, 'taxonomy'), join(staging, 'taxonomy'), { recursive: true });
    const repo = buildDocsRepo(join(staging, 'knowledge-docs-repo'), join(examplesDir, 'knowledge-docs'));
    if (repo.commit !== EXPECTED_COMMIT) {
      throw new Error(`the example documents were committed as ${repo.commit}, not ${EXPECTED_COMMIT} as the leaves expect; the installed examples were changed`);
    }
    if (existsSync(out)) rmSync(out, { recursive: true }); // empty, checked above
    mkdirSync(dirname(out), { recursive: true });
    renameSync(staging, out);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { taxonomy: join(out, 'taxonomy'), docsRepo: join(out, 'knowledge-docs-repo') };
}
