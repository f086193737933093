// Text to train fixture tokenizers on: by default the example taxonomy this repository ships (its qna.yaml leaves and
// the knowledge documents they cite), or the text files under any folder a user names.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ModelFolderError } from './errors';

export interface Corpus {
  /** Where the files were found. */
  roots: string[];
  /** Paths relative to their root, sorted, with forward slashes: the order the texts come in. */
  files: string[];
  texts: string[];
}

const textFile = /\.(ya?ml|md|txt)$/i;

/**
 * The repository's examples folder, found by walking up from this module (a source file, or dist/ in a build).
 * undefined when the engine runs from somewhere without it (e.g. inside the packaged extension).
 */
export function findExamplesFolder(start: string = __dirname): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples', 'taxonomy')) && existsSync(join(dir, 'package.json'))) return join(dir, 'examples');
    if (dirname(dir) === dir) return undefined;
  }
}

/** The example taxonomy's qna.yaml files and the knowledge documents (examples/knowledge-docs). */
export async function exampleCorpus(examples = findExamplesFolder()): Promise<Corpus> {
  if (!examples) {
    throw new ModelFolderError('examples/', 'the example taxonomy is not beside this engine', 'name a folder of text to train the tokenizer on with --corpus <dir>');
  }
  const taxonomy = join(examples, 'taxonomy');
  const docs = join(examples, 'knowledge-docs');
  const leaves = (await listFiles(taxonomy)).filter((f) => f === 'qna.yaml' || f.endsWith('/qna.yaml'));
  const documents = existsSync(docs) ? (await listFiles(docs)).filter((f) => /\.md$/i.test(f)) : [];
  const texts = await Promise.all([...leaves.map((f) => readFile(join(taxonomy, f), 'utf8')), ...documents.map((f) => readFile(join(docs, f), 'utf8'))]);
  return { roots: [taxonomy, docs], files: [...leaves.map((f) => `taxonomy/${f}`), ...documents.map((f) => `knowledge-docs/${f}`)], texts };
}

/** Every .yaml, .yml, .md and .txt file under a folder (hidden folders and node_modules skipped). */
export async function folderCorpus(folder: string): Promise<Corpus> {
  let files: string[];
  try {
    files = (await listFiles(folder)).filter((f) => textFile.test(f));
  } catch (err) {
    throw new ModelFolderError(folder, `cannot read: ${(err as Error).message}`, 'name a folder of text files');
  }
  if (!files.length) throw new ModelFolderError(folder, 'has no .yaml, .md or .txt files to train a tokenizer on', 'name a folder with some text in it');
  return { roots: [folder], files, texts: await Promise.all(files.map((f) => readFile(join(folder, f), 'utf8'))) };
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}
