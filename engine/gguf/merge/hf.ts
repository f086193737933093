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
import { readModelConfig } from '../../hf/config';
import { ModelFolderError } from '../../hf/errors';
import { openModelWeights, shardIndexFile, type ModelWeights } from '../../hf/modelWeights';
import { dtypeSizes } from '../../hf/safetensors';
import { createSafetensorsWriter, type SafetensorsWriter } from '../../hf/safetensorsWriter';
import { AdapterError } from '../lora/errors';
import { checkAdapterFitsBase, openPeftAdapter, type LoraModule, type PeftAdapter } from '../lora/peft';
import { mergeRowsInto, rowsPerBlock } from './mergeRows';

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
  const base = await readModelConfig(options.baseDir);
  await checkOutFolder(options.out, options.force ?? false, options.baseDir);
  const adapter = await openPeftAdapter(options.peftDir);
  let weights: ModelWeights | undefined;
  try {
    weights = await openModelWeights(options.baseDir);
    const opened = weights;
    checkAdapterFitsBase(adapter, base, join(options.baseDir, 'config.json'), (w) => (opened.has(w) ? opened.info(w).shape : undefined));
    for (const m of adapter.modules) {
      if (!opened.has(m.weight)) {
        throw new AdapterError(adapter.weightsPath, `tensor '${m.a}' adapts ${m.weight}, which the base weights in ${options.baseDir} do not have`, {
          tensor: m.a,
          hint: 'the adapter was trained on another base model; pass the folder it was trained on',
        });
      }
    }
    return await writeMergedFolder(opened, adapter, options);
  } finally {
    await weights?.close();
    await adapter.close();
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

async function writeMergedFolder(weights: ModelWeights, adapter: PeftAdapter, options: MergeToHfOptions): Promise<MergeToHfResult> {
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
    if (weights.files.length > 1 || basename(weights.files[0]) !== 'model.safetensors') {
      await copyFile(join(options.baseDir, shardIndexFile), join(temp, shardIndexFile));
    }

    const byModule = new Map<string, LoraModule>(adapter.modules.map((m) => [m.weight, m]));
    const total = weights.names.length;
    let index = 0;
    const weightFiles: string[] = [];
    const merged: string[] = [];
    for (const file of weights.files) {
      const names = weights.names.filter((n) => weights.info(n).file === file);
      const target = join(temp, basename(file));
      const writer = await createSafetensorsWriter(
        target,
        names.map((n) => ({ name: n, dtype: weights.info(n).dtype, shape: weights.info(n).shape })),
        { metadata: { format: 'pt' } },
      );
      try {
        for (const name of names) {
          const m = byModule.get(name);
          if (m) {
            await writeMergedTensor(writer, weights, adapter, m, options.blockValues);
            merged.push(name);
          } else {
            await copyTensor(writer, weights, name, options.copyChunkBytes ?? 16 << 20);
          }
          options.onTensor?.(name, m !== undefined, index++, total);
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

async function writeMergedTensor(writer: SafetensorsWriter, weights: ModelWeights, adapter: PeftAdapter, m: LoraModule, blockValues?: number): Promise<void> {
  const lora = { a: await adapter.readA(m), b: await adapter.readB(m), rank: m.rank, inDim: m.inDim, outDim: m.outDim, scale: m.scale };
  const step = rowsPerBlock(m.inDim, blockValues);
  for (let row = 0; row < m.outDim; row += step) {
    const rows = Math.min(step, m.outDim - row);
    const block = await weights.readFloat32Range(m.weight, row * m.inDim, rows * m.inDim);
    await writer.write(m.weight, mergeRowsInto(block, row, lora), row * m.inDim);
  }
}

async function copyTensor(writer: SafetensorsWriter, weights: ModelWeights, name: string, chunkBytes: number): Promise<void> {
  const info = weights.info(name);
  // Chunks end on element boundaries (the writer does not care, but a reader of the pieces might).
  const size = dtypeSizes[info.dtype];
  const step = Math.max(size, chunkBytes - (chunkBytes % size));
  for (let at = 0; at < info.byteLength; at += step) {
    const length = Math.min(step, info.byteLength - at);
    await writer.writeRaw(name, await weights.readRaw(name, at, length), at);
  }
  if (info.byteLength === 0) await writer.writeRaw(name, new Uint8Array(0), 0);
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
