// Base Hugging Face model + PEFT LoRA adapter → a new Hugging Face folder with the adapter merged into the weights
// (W' = W + scale · B A per adapted Linear), loadable by transformers or by `taxonomy-studio convert`.
//
// The new folder has the base's files (config.json, tokenizer, generation config, ...) copied as they are and the
// weights laid out as the base has them (one model.safetensors, or the same shards and index), every tensor in its
// base dtype. Streaming: an adapted weight is merged a block of rows at a time, any other tensor is copied in chunks,
// so memory stays at one block plus one module's A and B whatever the model's size. The folder is built beside `out`
// under a temporary name and renamed into place when complete.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFolderError } from '../../hf/errors';
import { shardIndexFile, singleWeightsFile } from '../../hf/modelWeights';
import { dtypeSizes } from '../../hf/safetensors';
import { createSafetensorsWriter, type SafetensorsWriter } from '../../hf/safetensorsWriter';
import type { MergedWeights } from './mergedWeights';
import { openMergeInputs, type MergeInputs } from './inputs';
import { rowsPerBlock } from './mergeRows';

export interface MergeToHfOptions {
  baseDir: string;
  peftDir: string;
  /** The folder to create; it must not exist or be empty (unless `force`). */
  out: string;
  /** Replace a non-empty `out`. */
  force?: boolean;
  /** Values per merged block (default 1M: 4 MB of float32). */
  blockValues?: number;
  /** Bytes per copied chunk of an unchanged tensor (default 16 MB). */
  copyChunkBytes?: number;
  /** Called after each tensor is written. */
  onTensor?: (name: string, merged: boolean, index: number, total: number) => void;
}

export interface MergeToHfResult {
  dir: string;
  /** Weights that took the adapter's update. */
  merged: string[];
  /** Files copied from the base folder unchanged (weights excluded). */
  copied: string[];
  /** The safetensors files written. */
  weightFiles: string[];
}

/** Files of a model folder that hold weights: the merged folder gets new ones, never the base's stale copies. */
const weightFile = /\.(safetensors|bin|pt|pth|gguf|ckpt|h5|msgpack)$|\.(safetensors|bin)\.index\.json$/;

/** Writes the merged model folder. */
export async function mergeAdapterToHf(options: MergeToHfOptions): Promise<MergeToHfResult> {
  await checkOutFolder(options.out, options.force ?? false, options.baseDir);
  const inputs = await openMergeInputs(options.baseDir, options.peftDir);
  try {
    return await writeMergedFolder(inputs, options);
  } finally {
    await inputs.close();
  }
}

async function checkOutFolder(out: string, force: boolean, baseDir: string): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new ModelFolderError(out, 'is a file', 'give a folder for the merged model');
  const baseInfo = await stat(baseDir).catch(() => undefined);
  if (baseInfo && baseInfo.ino === info.ino && baseInfo.dev === info.dev) throw new ModelFolderError(out, 'is the base model folder', 'write the merged model to a new folder');
  if ((await readdir(out)).length > 0 && !force) throw new ModelFolderError(out, 'is not empty', 'pick an empty or new folder, or pass --force to replace it');
}

async function writeMergedFolder({ weights, merged: view }: MergeInputs, options: MergeToHfOptions): Promise<MergeToHfResult> {
  const out = options.out;
  await mkdir(dirname(out), { recursive: true });
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(temp);
  try {
    const copied: string[] = [];
    for (const entry of await readdir(options.baseDir, { withFileTypes: true })) {
      if (!entry.isFile() || weightFile.test(entry.name)) continue;
      await copyFile(join(options.baseDir, entry.name), join(temp, entry.name));
      copied.push(entry.name);
    }
    // Sharded bases keep their shards and index: tensor names, dtypes and so sizes do not change.
    if (weights.files.length > 1 || basename(weights.files[0]) !== singleWeightsFile) {
      await copyFile(join(options.baseDir, shardIndexFile), join(temp, shardIndexFile));
    }

    const total = view.names.length;
    let index = 0;
    const weightFiles: string[] = [];
    const merged: string[] = [];
    for (const file of weights.files) {
      const names = view.names.filter((n) => view.info(n).file === file);
      const writer = await createSafetensorsWriter(
        join(temp, basename(file)),
        names.map((n) => ({ name: n, dtype: view.info(n).dtype, shape: view.info(n).shape })),
        { metadata: { format: 'pt' } },
      );
      try {
        for (const name of names) {
          const adapted = view.adapted.has(name);
          await copyTensor(writer, view, name, adapted ? options.blockValues ?? 1 << 20 : undefined, options.copyChunkBytes ?? 16 << 20);
          if (adapted) merged.push(name);
          options.onTensor?.(name, adapted, index++, total);
        }
        await writer.close();
      } finally {
        await writer.abort();
      }
      weightFiles.push(basename(file));
    }
    await replaceFolder(temp, out);
    return { dir: out, merged, copied, weightFiles };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Copies a tensor from the merged view in pieces: blocks of whole rows near `blockValues` values for an adapted
 * weight (each block is merged as it is read), chunks of `chunkBytes` for the others.
 */
async function copyTensor(writer: SafetensorsWriter, view: MergedWeights, name: string, blockValues: number | undefined, chunkBytes: number): Promise<void> {
  const info = view.info(name);
  const size = dtypeSizes[info.dtype];
  const rowLength = info.shape[info.shape.length - 1] ?? 1;
  const step = blockValues === undefined ? Math.max(size, chunkBytes - (chunkBytes % size)) : rowsPerBlock(rowLength, blockValues) * rowLength * size;
  for (let at = 0; at < info.byteLength; at += step) {
    const length = Math.min(step, info.byteLength - at);
    await writer.writeRaw(name, await view.readRaw(name, at, length), at);
  }
}

/** Moves the finished temporary folder onto `out`, replacing an old folder there only once the new one is complete. */
async function replaceFolder(temp: string, out: string): Promise<void> {
  const existing = await readdir(out).catch(() => undefined);
  if (existing === undefined) return rename(temp, out);
  if (existing.length === 0) {
    await rmdir(out);
    return rename(temp, out);
  }
  const old = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.old`);
  await rename(out, old);
  await rename(temp, out);
  await rm(old, { recursive: true, force: true });
}
