// Shared pieces of the LoRA export and merge tests: fixture base models and adapters written once per process, the
// reference model over a folder, and hand-made adapter folders for the refusals.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { writeFixtureModel, type FixtureOptions } from '../../../engine/hf/fixtureModel';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { writeSafetensors } from '../../../engine/hf/safetensorsWriter';
import { writeFixtureAdapter, type FixtureAdapterOptions } from '../../../engine/gguf/lora/fixtureAdapter';
import { configFromHf, type ModelConfig } from '../../../engine/model/config';
import { loraFromPeft, type LoraAdapter, type PeftLoraConfig } from '../../../engine/model/lora';
import { maxAbsDiff } from '../../../engine/model/metrics';
import { loadWeightSource, type WeightSource } from '../../../engine/model/weights';

export function tempFolder(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a fixture base model into `dir` (tiny unless told otherwise). */
export async function fixtureBase(dir: string, options: FixtureOptions = {}): Promise<string> {
  await writeFixtureModel(dir, { size: 'tiny', seed: 3, ...options });
  return dir;
}

/** Writes a fixture adapter for `baseDir` into `dir`. */
export async function fixtureAdapter(dir: string, baseDir: string, options: FixtureAdapterOptions = {}): Promise<string> {
  await writeFixtureAdapter(dir, baseDir, { seed: 5, ...options });
  return dir;
}

/** The reference model's config and weights for a Hugging Face folder. */
export async function referenceModel(dir: string): Promise<{ config: ModelConfig; weights: WeightSource }> {
  const config = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const reader = await openModelWeights(dir);
  try {
    return { config, weights: await loadWeightSource(reader) };
  } finally {
    await reader.close();
  }
}

/** The adapter as engine/model's own PEFT reader sees it (an implementation independent of engine/gguf/lora). */
export async function referenceLora(dir: string): Promise<LoraAdapter> {
  const file = await openSafetensors(join(dir, 'adapter_model.safetensors'));
  try {
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as PeftLoraConfig;
    return loraFromPeft(config, await loadWeightSource(file));
  } finally {
    await file.close();
  }
}

/** An adapter folder with the given config and tensors (F32), for the cases a fixture adapter never has. */
export async function handMadeAdapter(
  dir: string,
  config: Record<string, unknown>,
  tensors: { name: string; shape: number[]; fill?: number }[],
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, bias: 'none', ...config }));
  await writeSafetensors(
    join(dir, 'adapter_model.safetensors'),
    tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(t.fill ?? 0.01) })),
  );
  return dir;
}

/** PEFT's names for a module's A and B. */
export function peftNames(module: string): { a: string; b: string } {
  return { a: `base_model.model.${module}.lora_A.weight`, b: `base_model.model.${module}.lora_B.weight` };
}

/** Runs the CLI in `cwd`, capturing its output. */
export async function cli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd, env: {} });
  return { code, stdout, stderr };
}

/** Row `i` of a [rows × width] matrix stored flat. */
export function row(m: Float32Array, i: number, width: number): Float32Array {
  return m.subarray(i * width, (i + 1) * width);
}

/** The worst element of two vectors, as a message when it is over `tolerance`. */
export function worst(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; index: number; text: string } {
  const { max, index } = maxAbsDiff(actual, expected);
  return { max, index, text: `|diff| ${max} at ${index} (${actual[index]} vs ${expected[index]})` };
}

/** A fixed token sequence inside the tiny fixture's vocabulary. */
export const tokens = [3, 141, 59, 26, 5, 358, 97, 93, 270, 12];
