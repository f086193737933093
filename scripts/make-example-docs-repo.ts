// Builds examples/knowledge-docs-repo/: a git repository holding examples/knowledge-docs/ in one commit whose SHA is
// the same on every machine (engine/examples/docsRepo.ts says how). If the documents change, the SHA changes: the
// script then fails and says which constants and leaves to update.
//
//   node --import tsx scripts/make-example-docs-repo.ts [--out <dir>] [--docs <dir>]
//
// Prints the commit SHA on stdout. Does nothing when the repository already holds exactly the current documents.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDocsRepo as build, EXPECTED_COMMIT, type BuildResult } from '../engine/examples/docsRepo';

export { blobId, readDocs, type BuildResult, type DocFile } from '../engine/examples/docsRepo';
export { EXPECTED_COMMIT };

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const docsSourceDir = join(repoRoot, 'examples', 'knowledge-docs');
export const docsRepoDir = join(repoRoot, 'examples', 'knowledge-docs-repo');

/** Make `dir` a one-commit repository of the documents; leave it alone when it already is the expected one. */
export function buildDocsRepo(dir = docsRepoDir, sourceDir = docsSourceDir, expected = EXPECTED_COMMIT): BuildResult {
  return build(dir, sourceDir, expected);
}

function main(argv: string[]): number {
  let dir = docsRepoDir;
  let docs = docsSourceDir;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) dir = resolve(argv[++i]);
    else if (argv[i] === '--docs' && argv[i + 1]) docs = resolve(argv[++i]);
    else {
      console.error('usage: make-example-docs-repo [--out <dir>] [--docs <dir>]');
      return 2;
    }
  }
  const result = buildDocsRepo(dir, docs);
  const where = relative(process.cwd(), result.dir) || '.';
  if (result.commit !== EXPECTED_COMMIT) {
    console.error(
      [
        `The example documents repository ${where} was built at commit ${result.commit},`,
        `but the example leaves expect ${EXPECTED_COMMIT}: a file under ${relative(process.cwd(), docs) || '.'} changed.`,
        'If the change is intended, put the new SHA in EXPECTED_COMMIT (engine/examples/docsRepo.ts), in',
        'document.commit of every knowledge leaf under examples/taxonomy/ and test/fixtures/broken/, and in',
        '"Revision:" of their attribution.txt.',
      ].join('\n'),
    );
    return 1;
  }
  console.error(result.rebuilt ? `built ${where}` : `${where} is up to date`);
  console.log(result.commit);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`make-example-docs-repo: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
