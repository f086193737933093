// The sidecar: `<file>.provenance.json` next to a model file, or `provenance.json` inside a PEFT adapter folder.
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProvenance, ProvenanceError, type Provenance } from './record';

/** The name an adapter folder's record has (the train job writes it next to adapter_config.json). */
export const ADAPTER_PROVENANCE_FILE = 'provenance.json';

export function sidecarPath(modelFile: string): string {
  return `${modelFile}.provenance.json`;
}

export function adapterProvenancePath(adapterDir: string): string {
  return join(adapterDir, ADAPTER_PROVENANCE_FILE);
}

/** Writes `path` whole or not at all: a temporary file, synced, renamed into place. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.partial-${process.pid}`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    const handle = await open(temp, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Writes `<modelFile>.provenance.json`; returns its path. */
export async function writeSidecar(modelFile: string, prov: Provenance): Promise<string> {
  const path = sidecarPath(modelFile);
  await writeJsonAtomic(path, prov);
  return path;
}

/** Writes `<adapterDir>/provenance.json`, which export-adapter and the pipeline's export embed; returns its path. */
export async function writeAdapterProvenance(adapterDir: string, prov: Provenance): Promise<string> {
  const path = adapterProvenancePath(adapterDir);
  await writeJsonAtomic(path, prov);
  return path;
}

/** The record in a JSON file, or undefined when there is no such file; a damaged one is a ProvenanceError. */
export async function readProvenanceJson(path: string): Promise<Provenance | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProvenanceError(path, `not valid JSON (${(err as Error).message})`);
  }
  return parseProvenance(raw, path);
}
