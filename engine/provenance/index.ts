// Provenance of the files the loop writes: record.ts (the record), hash.ts (leaf, dataset and base hashes),
// sidecar.ts (<file>.provenance.json), gguf.ts (the taxonomy_studio.provenance metadata key), format.ts (for inspect).
import { stat } from 'node:fs/promises';
import { embedProvenance, isGgufFile, readGgufProvenance } from './gguf';
import type { Provenance } from './record';
import { adapterProvenancePath, readProvenanceJson, sidecarPath, writeSidecar } from './sidecar';

export * from './record';
export { baseModelHash, datasetHash, gitBlobSha, leafHash, sha256File } from './hash';
export { embedProvenance, provenanceFromMetadata, provenanceMetadata, readGgufProvenance } from './gguf';
export { ADAPTER_PROVENANCE_FILE, adapterProvenancePath, readProvenanceJson, sidecarPath, writeAdapterProvenance, writeSidecar } from './sidecar';
export { formatProvenance, shortSha } from './format';

export interface FoundProvenance {
  provenance: Provenance;
  /** Where it was read: the GGUF metadata key, or the path of the JSON file. */
  source: 'gguf' | string;
}

/**
 * The record of a model file or adapter folder: for a GGUF the metadata key (it travels with the file), else the
 * sidecar `<file>.provenance.json`; for a folder its `provenance.json`. Undefined when there is none.
 */
export async function readProvenance(path: string): Promise<FoundProvenance | undefined> {
  const info = await stat(path);
  if (info.isDirectory()) {
    const file = adapterProvenancePath(path);
    const provenance = await readProvenanceJson(file);
    return provenance && { provenance, source: file };
  }
  if (await isGgufFile(path)) {
    const provenance = await readGgufProvenance(path);
    if (provenance) return { provenance, source: 'gguf' };
  }
  const file = sidecarPath(path);
  const provenance = await readProvenanceJson(file);
  return provenance && { provenance, source: file };
}

/** Records `prov` for a file just written: in its metadata when it is a GGUF, and in its sidecar either way. */
export async function recordProvenance(modelFile: string, prov: Provenance): Promise<{ size: number; sidecar: string }> {
  const size = (await isGgufFile(modelFile)) ? (await embedProvenance(modelFile, prov)).size : (await stat(modelFile)).size;
  return { size, sidecar: await writeSidecar(modelFile, prov) };
}
