// What produced a model or adapter file: the taxonomy leaves (by content hash), the dataset, the teacher, the base
// model and the settings. It travels in two places: a `<file>.provenance.json` sidecar next to any file, and for GGUF
// files inside the file's metadata under `taxonomy_studio.provenance` (a JSON string), so a copied .gguf keeps it.
import { version } from '../../package.json';

/** The GGUF metadata key holding the record as a JSON string. */
export const PROVENANCE_KEY = 'taxonomy_studio.provenance';

export interface LeafHash {
  /** The leaf file (absolute, or relative to the taxonomy when one is recorded). */
  path: string;
  /** The git blob sha-1 (40 hex) when the file is tracked and unchanged in git, else `sha256:<hex>` of its content. */
  sha: string;
}

export interface FileHash {
  path: string;
  sha256: string;
}

export interface DatasetRecord extends FileHash {
  /** For a dataset folder: each data file; `sha256` is then the hash of their "sha256  name" lines. */
  files?: FileHash[];
}

export interface BaseModelRecord {
  path: string;
  /** sha256 of config.json for a Hugging Face folder, of the file for anything else. */
  sha256: string;
  /** Which file `sha256` hashes ("config.json", or the file's own name). */
  hashed: string;
}

export interface Provenance {
  /** The leaves the data came from; empty for a file no leaf went into (the base model converted as is). */
  leaves: LeafHash[];
  taxonomy?: string;
  dataset?: DatasetRecord;
  /** The generate teacher: a GGUF path or server URL(s). */
  teacher?: string;
  baseModel?: BaseModelRecord;
  settings?: Record<string, unknown>;
  /** `taxonomy-studio <version>`. */
  tool: string;
  createdAt: string;
}

export class ProvenanceError extends Error {
  constructor(
    readonly file: string,
    what: string,
  ) {
    super(`${file}: ${what}`);
    this.name = 'ProvenanceError';
  }
}

export function toolName(): string {
  return `taxonomy-studio ${version}`;
}

/** A record with the tool and time filled in. */
export function makeProvenance(fields: Omit<Provenance, 'tool' | 'createdAt'> & { createdAt?: string }): Provenance {
  return { ...fields, tool: toolName(), createdAt: fields.createdAt ?? new Date().toISOString() };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed record's shape; `source` names the file (or file and key) for the error. */
export function parseProvenance(raw: unknown, source: string): Provenance {
  const fail = (what: string): never => {
    throw new ProvenanceError(source, `not a provenance record: ${what}`);
  };
  if (!isObject(raw)) return fail('expected a JSON object');
  if (!Array.isArray(raw.leaves)) return fail('leaves: expected an array');
  raw.leaves.forEach((l, i) => {
    if (!isObject(l) || !isText(l.path) || !isText(l.sha)) fail(`leaves[${i}]: expected {path, sha}`);
  });
  if (!isText(raw.tool)) fail('tool: expected text');
  if (!isText(raw.createdAt)) fail('createdAt: expected text');
  const hashed = (key: string) => {
    const v = raw[key];
    if (v !== undefined && (!isObject(v) || !isText(v.path) || !isText(v.sha256))) fail(`${key}: expected {path, sha256}`);
  };
  hashed('dataset');
  hashed('baseModel');
  if (raw.teacher !== undefined && typeof raw.teacher !== 'string') fail('teacher: expected text');
  if (raw.taxonomy !== undefined && typeof raw.taxonomy !== 'string') fail('taxonomy: expected text');
  if (raw.settings !== undefined && !isObject(raw.settings)) fail('settings: expected an object');
  return raw as unknown as Provenance;
}
