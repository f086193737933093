// A model folder's weights as one map of tensor names, whether they sit in a single model.safetensors or in shards
// listed by model.safetensors.index.json ({metadata, weight_map: {tensor name: shard file}}), as transformers saves
// models bigger than its shard size.
import { access, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFolderError } from './errors';
import { openSafetensors, type SafetensorsFile, type TensorInfo, type TensorReader } from './safetensors';

export const singleWeightsFile = 'model.safetensors';
export const shardIndexFile = 'model.safetensors.index.json';

export interface ModelWeights extends TensorReader {
  readonly folder: string;
  /** The safetensors files, in the order their tensors are listed. */
  readonly files: readonly string[];
}

/** Opens the weights of a Hugging Face model folder, single file or sharded. Close it when done. */
export async function openModelWeights(folder: string): Promise<ModelWeights> {
  const single = join(folder, singleWeightsFile);
  const index = join(folder, shardIndexFile);
  if (await exists(single)) {
    const file = await openSafetensors(single);
    return new Weights(folder, [file], new Map(file.names.map((n) => [n, file])), [...file.names]);
  }
  if (await exists(index)) return openSharded(folder, index);
  const other = (await Promise.all(['pytorch_model.bin', 'pytorch_model.bin.index.json', 'model.gguf'].map(async (n) => ((await exists(join(folder, n))) ? n : undefined)))).filter(Boolean);
  throw new ModelFolderError(
    folder,
    `no ${singleWeightsFile} or ${shardIndexFile}`,
    other.length
      ? `found ${other.join(', ')}: only safetensors weights are read; save the model with safe_serialization=True`
      : 'expected a Hugging Face model folder with safetensors weights',
  );
}

async function openSharded(folder: string, indexPath: string): Promise<ModelWeights> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new ModelFolderError(indexPath, `cannot read the shard index: ${(err as Error).message}`, 'fix or re-create the file');
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new ModelFolderError(indexPath, 'has no weight_map object', 'it should map each tensor name to its shard file', 'weight_map');
  }
  const entries = Object.entries(weightMap as Record<string, unknown>);
  const shardNames: string[] = [];
  for (const [tensor, shard] of entries) {
    if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '..') {
      throw new ModelFolderError(indexPath, `weight_map['${tensor}'] is ${JSON.stringify(shard)}, not a file name in this folder`, 'shards must sit beside the index', 'weight_map');
    }
    if (!shardNames.includes(shard)) shardNames.push(shard);
  }
  const files: SafetensorsFile[] = [];
  try {
    for (const shard of shardNames) {
      const path = join(folder, shard);
      if (!(await exists(path))) throw new ModelFolderError(indexPath, `lists shard ${shard}, which does not exist`, 'download the missing shard');
      files.push(await openSafetensors(path));
    }
    const byName = new Map<string, SafetensorsFile>();
    for (const [tensor, shard] of entries as [string, string][]) {
      const file = files[shardNames.indexOf(shard)];
      if (!file.has(tensor)) {
        throw new ModelFolderError(indexPath, `says tensor '${tensor}' is in ${shard}, but ${shard} has no such tensor`, 'the index and the shards come from different saves; download them again');
      }
      byName.set(tensor, file);
    }
    return new Weights(folder, files, byName, entries.map(([t]) => t));
  } catch (err) {
    await Promise.all(files.map((f) => f.close()));
    throw err;
  }
}

class Weights implements ModelWeights {
  readonly files: readonly string[];

  constructor(
    readonly folder: string,
    private readonly opened: SafetensorsFile[],
    private readonly byName: Map<string, SafetensorsFile>,
    readonly names: readonly string[],
  ) {
    this.files = opened.map((f) => f.path);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo & { file: string } {
    return this.fileOf(name).info(name);
  }

  readRaw(name: string, byteStart?: number, byteLength?: number): Promise<Buffer> {
    return this.fileOf(name).readRaw(name, byteStart, byteLength);
  }

  readFloat32(name: string): Promise<Float32Array> {
    return this.fileOf(name).readFloat32(name);
  }

  readFloat32Range(name: string, start: number, count: number): Promise<Float32Array> {
    return this.fileOf(name).readFloat32Range(name, start, count);
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((f) => f.close()));
  }

  private fileOf(name: string): SafetensorsFile {
    const file = this.byName.get(name);
    if (!file) {
      throw new ModelFolderError(this.folder, `has no tensor '${name}'`, `its weights have ${this.names.length} tensors${this.names.length ? `, e.g. '${this.names[0]}'` : ''}`);
    }
    return file;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
