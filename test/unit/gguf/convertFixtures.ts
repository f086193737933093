// Shared by the converter tests: fixture model folders in a temporary folder, edits to their files, the reference
// forward pass over a folder, and logit comparisons that report the worst element.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureModel, type FixtureOptions } from '../../../engine/hf/fixtureModel';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { configFromHf } from '../../../engine/model/config';
import { forward } from '../../../engine/model/forward';
import { argmax, maxAbsDiff } from '../../../engine/model/metrics';
import { loadWeightSource } from '../../../engine/model/weights';

export function tempFolder(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;

/** A fixture model folder under `root` (a new folder each call). */
export async function fixture(root: string, options: FixtureOptions = {}): Promise<string> {
  const dir = join(root, `model-${++counter}`);
  await writeFixtureModel(dir, options);
  return dir;
}

/** Hidden 256 and intermediate 512: rows fit the 256-value blocks of the K-quants, still fast. */
export const kQuantDims = { hiddenSize: 256, intermediateSize: 512 } as const;

export async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Rewrites a JSON file of a folder through `edit`. */
export async function editJson(dir: string, file: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, file);
  const json = await readJson(path);
  edit(json);
  await writeFile(path, JSON.stringify(json, null, 2));
}

/** Text from the example taxonomy's domain, tokenized for every logit comparison. */
export const fixedText =
  'Knowledge leaves hold seed examples: a context, then questions and answers drawn from a document in a git repository.';

/** Logits of the reference forward pass over `ids`, one row per position. */
export async function referenceLogits(dir: string, ids: readonly number[]): Promise<Float32Array[]> {
  const config = configFromHf(await readJson(join(dir, 'config.json')));
  const weights = await openModelWeights(dir);
  try {
    const all = forward(config, await loadWeightSource(weights), ids);
    return ids.map((_, i) => all.subarray(i * config.vocab, (i + 1) * config.vocab));
  } finally {
    await weights.close();
  }
}

export interface LogitComparison {
  /** Largest |a - b| over every position and token. */
  maxAbs: number;
  /** Where it is. */
  position: number;
  token: number;
  /** Largest |a| (the scale the difference is judged against). */
  scale: number;
  /** Positions whose top-1 token differs. */
  top1Mismatches: number[];
}

export function compareLogits(expected: readonly Float32Array[], actual: readonly Float32Array[]): LogitComparison {
  if (expected.length !== actual.length) throw new Error(`${expected.length} rows vs ${actual.length}`);
  const out: LogitComparison = { maxAbs: 0, position: -1, token: -1, scale: 0, top1Mismatches: [] };
  expected.forEach((e, i) => {
    const d = maxAbsDiff(e, actual[i]);
    if (out.position < 0 || d.max > out.maxAbs || Number.isNaN(d.max)) Object.assign(out, { maxAbs: d.max, position: i, token: d.index });
    for (const x of e) out.scale = Math.max(out.scale, Math.abs(x));
    if (argmax(e) !== argmax(actual[i])) out.top1Mismatches.push(i);
  });
  return out;
}

export function describeComparison(label: string, c: LogitComparison): string {
  return `${label}: max |Δlogit| ${c.maxAbs.toExponential(2)} at position ${c.position} token ${c.token} (logit scale ${c.scale.toFixed(3)}, relative ${(c.maxAbs / c.scale).toExponential(2)}), top-1 mismatches ${c.top1Mismatches.length}`;
}
