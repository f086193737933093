// What the Serve Model command hands the serve job: the adapters' model ids, named as the CLI names them (one
// adapter is "tuned"; several are named by file). No vscode import.
import { basename } from 'node:path';

export interface ServeRequest {
  model: string;
  adapters: string[];
}

export function adapterSpecs(paths: readonly string[]): { id: string; path: string }[] {
  if (paths.length === 1) return [{ id: 'tuned', path: paths[0] }];
  const taken = new Set(['base']);
  return paths.map((path) => {
    const stem = basename(path).replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'adapter';
    let id = stem;
    for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
    taken.add(id);
    return { id, path };
  });
}
