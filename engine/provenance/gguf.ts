// Provenance inside a GGUF file: the record as a JSON string under taxonomy_studio.provenance. llama.cpp and
// node-llama-cpp ignore keys they do not know, so the file loads as before.
//
// The converters write their metadata before any tensor, so a finished file is given the key by rewriting it: every
// metadata pair and tensor copied into a new file (streamed, a tensor's chunks at a time) that replaces the old one
// only when complete. This costs one copy of the file; a converter option for extra metadata would avoid it.
import { open } from 'node:fs/promises';
import { GgufType, meta, type GgufValue } from '../gguf/format';
import { openGguf, readTensorChunks } from '../gguf/reader';
import { GgufWriter } from '../gguf/writer';
import { parseProvenance, PROVENANCE_KEY, ProvenanceError, type Provenance } from './record';

/** The metadata pair to set on a GGUF writer. */
export function provenanceMetadata(prov: Provenance): [string, GgufValue] {
  return [PROVENANCE_KEY, meta.string(JSON.stringify(prov))];
}

/** True when `path` starts with the GGUF magic. */
export async function isGgufFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    return bytesRead === 4 && magic.toString('latin1') === 'GGUF';
  } finally {
    await handle.close();
  }
}

/** The record under taxonomy_studio.provenance of already-read metadata, or undefined when it has none. */
export function provenanceFromMetadata(metadata: ReadonlyMap<string, GgufValue>, file: string): Provenance | undefined {
  const value = metadata.get(PROVENANCE_KEY);
  if (!value) return undefined;
  const where = `${file} (metadata ${PROVENANCE_KEY})`;
  if (value.type !== GgufType.STRING) throw new ProvenanceError(where, 'expected a JSON string');
  let raw: unknown;
  try {
    raw = JSON.parse(value.value as string);
  } catch (err) {
    throw new ProvenanceError(where, `not valid JSON (${(err as Error).message})`);
  }
  return parseProvenance(raw, where);
}

export async function readGgufProvenance(file: string): Promise<Provenance | undefined> {
  const gguf = await openGguf(file);
  try {
    return provenanceFromMetadata(gguf.metadata, file);
  } finally {
    await gguf.close();
  }
}

/**
 * Rewrites the GGUF `file` with the record under taxonomy_studio.provenance (replacing one it had), everything else
 * unchanged; the file is replaced only once the new one is complete.
 */
export async function embedProvenance(file: string, prov: Provenance): Promise<{ size: number }> {
  const source = await openGguf(file);
  try {
    const writer = await GgufWriter.create(file);
    try {
      for (const [key, value] of source.metadata) writer.set(key, value);
      writer.set(...provenanceMetadata(prov));
      for (const t of source.tensors) writer.addTensor(t.name, t.dims, t.type);
      for (const t of source.tensors) await writer.writeTensorChunks(t.name, readTensorChunks(source, t));
      return { size: (await writer.finish()).size };
    } catch (err) {
      await writer.abort();
      throw err;
    }
  } finally {
    await source.close();
  }
}
