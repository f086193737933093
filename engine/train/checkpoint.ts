// Training checkpoints: everything a run needs to continue bit for bit, in one folder per optimizer step
// (checkpoints/step-000012/): state.json (data position, optimizer step, the run's fingerprint) and
// tensors.safetensors (LoRA A and B and AdamW's two moments, float32 as held). A checkpoint is written into a
// hidden folder, synced, then renamed into place: it exists complete or not at all. Randomness is counter-based
// (each epoch's order is drawn from (seed, phase, epoch)), so the data position is the whole RNG state.

import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors } from '../hf/safetensors';
import { writeSafetensors } from '../hf/safetensorsWriter';
import type { LoraWeights } from './lora';
import type { AdamW } from './optim';

export const checkpointsFolder = 'checkpoints';
const stateFile = 'state.json';
const tensorsFile = 'tensors.safetensors';
const formatVersion = 1;

/** Where training continues: the next micro-batch of an epoch of a phase. */
export interface DataPosition {
  phase: number;
  epoch: number;
  /** Index of the next micro-batch in the epoch's plan. */
  batch: number;
}

export interface CheckpointState {
  version: number;
  /** Optimizer steps taken in the whole run. */
  step: number;
  position: DataPosition;
  /** AdamW's step count in the current phase (its bias corrections). */
  optimizerStep: number;
  /** Counter-based RNG: the seed; epoch orders are drawn from (seed, phase, epoch). */
  rng: { seed: number; scheme: 'seed-phase-epoch' };
  /** Settings and data hashes the run was started with; resume refuses a different one. */
  fingerprint: Record<string, unknown>;
  /** Why it was written: "epoch", "every", "cancel". */
  reason: string;
}

export interface Checkpoint {
  dir: string;
  state: CheckpointState;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a checkpoint of `lora` and `optimizer` under outDir/checkpoints; keeps the newest `keep` of them. */
export async function writeCheckpoint(outDir: string, state: CheckpointState, lora: LoraWeights, optimizer: AdamW, keep = 3): Promise<string> {
  const root = join(outDir, checkpointsFolder);
  await mkdir(root, { recursive: true });
  const name = checkpointName(state.step);
  const tmp = join(root, `.${name}.tmp`);
  const dir = join(root, name);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const tensors = lora.modules.flatMap((m) => {
    const s = optimizer.state.moments.get(m.name)!;
    return [
      { name: `${m.name}.lora_A`, data: m.a, shape: [m.rank, m.inDim] },
      { name: `${m.name}.lora_B`, data: m.b, shape: [m.outDim, m.rank] },
      { name: `${m.name}.exp_avg_A`, data: s.mA, shape: [m.rank, m.inDim] },
      { name: `${m.name}.exp_avg_sq_A`, data: s.vA, shape: [m.rank, m.inDim] },
      { name: `${m.name}.exp_avg_B`, data: s.mB, shape: [m.outDim, m.rank] },
      { name: `${m.name}.exp_avg_sq_B`, data: s.vB, shape: [m.outDim, m.rank] },
    ].map((t) => ({ ...t, dtype: 'F32' as const }));
  });
  await writeSafetensors(join(tmp, tensorsFile), tensors, { metadata: { format: 'taxonomy-studio-checkpoint' } });
  await writeFile(join(tmp, stateFile), `${JSON.stringify(state, null, 2)}\n`);
  await syncPath(join(tmp, stateFile));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  await syncPath(root).catch(() => undefined);
  const all = await listCheckpoints(outDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(root, checkpointName(old)), { recursive: true, force: true });
  return dir;
}

/** Steps of the complete checkpoints under outDir, oldest first. */
export async function listCheckpoints(outDir: string): Promise<number[]> {
  const names = await readdir(join(outDir, checkpointsFolder)).catch(() => [] as string[]);
  return names
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The newest checkpoint's state, or undefined when there is none. */
export async function latestCheckpoint(outDir: string): Promise<Checkpoint | undefined> {
  const steps = await listCheckpoints(outDir);
  if (steps.length === 0) return undefined;
  const dir = join(outDir, checkpointsFolder, checkpointName(steps.at(-1)!));
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(join(dir, stateFile), 'utf8')) as CheckpointState;
  } catch (err) {
    throw new CheckpointError(`${join(dir, stateFile)}: cannot read: ${(err as Error).message} (delete this checkpoint folder to resume from the one before)`);
  }
  if (state.version !== formatVersion) throw new CheckpointError(`${dir}: checkpoint format ${state.version}, this version reads ${formatVersion}`);
  return { dir, state };
}

/** Loads a checkpoint's tensors into `lora` and `optimizer` (shapes must match the run's LoRA settings). */
export async function restoreCheckpoint(checkpoint: Checkpoint, lora: LoraWeights, optimizer: AdamW): Promise<void> {
  const file = await openSafetensors(join(checkpoint.dir, tensorsFile));
  try {
    const load = async (name: string, into: Float32Array) => {
      if (!file.has(name)) throw new CheckpointError(`${file.path}: no tensor ${name}; the checkpoint was written with other LoRA settings`);
      const data = await file.readFloat32(name);
      if (data.length !== into.length) throw new CheckpointError(`${file.path}: ${name} has ${data.length} values, the run's LoRA ${into.length}`);
      into.set(data);
    };
    for (const m of lora.modules) {
      const s = optimizer.state.moments.get(m.name)!;
      await load(`${m.name}.lora_A`, m.a);
      await load(`${m.name}.lora_B`, m.b);
      await load(`${m.name}.exp_avg_A`, s.mA);
      await load(`${m.name}.exp_avg_sq_A`, s.vA);
      await load(`${m.name}.exp_avg_B`, s.mB);
      await load(`${m.name}.exp_avg_sq_B`, s.vB);
    }
    optimizer.state.step = checkpoint.state.optimizerStep;
  } finally {
    await file.close();
  }
}

/** Keys whose values differ between two fingerprints (for a resume refusal that says what changed). */
export function fingerprintDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
