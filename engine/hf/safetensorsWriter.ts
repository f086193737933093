// Writes safetensors files the way the reference implementation lays them out: tensors ordered by dtype size
// (largest first, so every tensor is aligned to its element size) then name, the JSON header padded with spaces to a
// multiple of 8 bytes. Streaming: the header is fixed up front from the tensor list, then each tensor's data is
// written at its own offset, whole or in consecutive parts, so a converter never holds more than one part in memory.
// The file is written under a temporary name beside the final one and renamed on close(); a failure (a full disk
// included) removes the temporary file, so no half-written file ever carries the final name.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SafetensorsError } from './errors';
import { f32ToBf16Bytes, f32ToF16Bytes } from './halfFloat';
import { dtypeSizes, elementCount, type SafetensorsDtype } from './safetensors';

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
}

/** The dtypes `write` converts float32 values to. Other dtypes take bytes through `writeRaw`. */
export const writableFloatDtypes = ['F32', 'F16', 'BF16'] as const satisfies readonly SafetensorsDtype[];

export interface SafetensorsWriter {
  /** The final path (the file appears there on close()). */
  readonly path: string;
  readonly tempPath: string;
  /**
   * Writes float32 values, converted to the tensor's dtype (F32, F16 or BF16). A tensor may come in parts: each part
   * starts at element `elementOffset`, which must be where the previous part ended.
   */
  write(name: string, values: Float32Array, elementOffset?: number): Promise<void>;
  /** Writes bytes already in the tensor's dtype, little-endian; parts as for write(), counted in bytes. */
  writeRaw(name: string, bytes: Uint8Array, byteOffset?: number): Promise<void>;
  /** Checks every tensor was written in full, then moves the file to its final name. */
  close(): Promise<void>;
  /** Removes the temporary file; safe after a failure, after close() it does nothing. */
  abort(): Promise<void>;
}

export interface SafetensorsWriterOptions {
  /** `__metadata__`; transformers writes {format: "pt"}. */
  metadata?: Record<string, string>;
}

interface Slot {
  spec: TensorSpec;
  begin: number; // data offset
  byteLength: number;
  written: number; // bytes written so far
}

/** The header bytes (length prefix included) and each tensor's data offsets, for a list of tensors. */
export function layoutSafetensors(
  tensors: readonly TensorSpec[],
  metadata?: Record<string, string>,
): { header: Buffer; slots: Map<string, { spec: TensorSpec; begin: number; byteLength: number }> } {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`tensor '${t.name}' is listed twice`);
    if (t.name === '__metadata__') throw new Error(`'__metadata__' cannot be a tensor name`);
    if (!(t.dtype in dtypeSizes)) throw new Error(`tensor '${t.name}': unknown dtype ${t.dtype}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`tensor '${t.name}': shape [${t.shape.join(', ')}] is not a list of non-negative integers`);
    seen.add(t.name);
  }
  const order = [...tensors].sort((a, b) => dtypeSizes[b.dtype] - dtypeSizes[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) json.__metadata__ = metadata;
  const slots = new Map<string, { spec: TensorSpec; begin: number; byteLength: number }>();
  let offset = 0;
  for (const t of order) {
    const byteLength = elementCount(t.shape) * dtypeSizes[t.dtype];
    json[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + byteLength] };
    slots.set(t.name, { spec: t, begin: offset, byteLength });
    offset += byteLength;
  }
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  const padded = Buffer.alloc(Math.ceil(body.length / 8) * 8, 0x20);
  body.copy(padded);
  const header = Buffer.alloc(8 + padded.length);
  header.writeBigUInt64LE(BigInt(padded.length), 0);
  padded.copy(header, 8);
  return { header, slots };
}

/** Starts a safetensors file for the given tensors; write each one, then close(). */
export async function createSafetensorsWriter(path: string, tensors: readonly TensorSpec[], options: SafetensorsWriterOptions = {}): Promise<SafetensorsWriter> {
  const { header, slots } = layoutSafetensors(tensors, options.metadata);
  const tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tempPath, 'wx');
  } catch (err) {
    throw new SafetensorsError(`cannot create ${tempPath}: ${(err as Error).message}`, { file: path, offset: 0, problem: 'io', cause: err, hint: 'check that the folder exists and is writable' });
  }
  const writer = new Writer(path, tempPath, fh, header.length, new Map([...slots].map(([name, s]) => [name, { ...s, written: 0 }])));
  await writer.writeAt(header, 0);
  return writer;
}

class Writer implements SafetensorsWriter {
  private state: 'open' | 'closed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    private readonly dataStart: number,
    private readonly slots: Map<string, Slot>,
  ) {}

  async write(name: string, values: Float32Array, elementOffset = 0): Promise<void> {
    const slot = this.slot(name);
    const { dtype } = slot.spec;
    let bytes: Uint8Array;
    if (dtype === 'F32') bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    else if (dtype === 'F16') bytes = f32ToF16Bytes(values);
    else if (dtype === 'BF16') bytes = f32ToBf16Bytes(values);
    else throw new Error(`${this.path}: tensor '${name}' has dtype ${dtype}; write() converts to ${writableFloatDtypes.join(', ')}, use writeRaw() for others`);
    await this.writeRaw(name, bytes, elementOffset * dtypeSizes[dtype]);
  }

  async writeRaw(name: string, bytes: Uint8Array, byteOffset = 0): Promise<void> {
    const slot = this.slot(name);
    if (byteOffset !== slot.written) {
      throw new Error(`${this.path}: tensor '${name}': expected the part starting at byte ${slot.written} of ${slot.byteLength}, got one starting at ${byteOffset}`);
    }
    if (slot.written + bytes.length > slot.byteLength) {
      throw new Error(`${this.path}: tensor '${name}': ${bytes.length} bytes from byte ${byteOffset} run past its ${slot.byteLength} bytes`);
    }
    await this.writeAt(bytes, this.dataStart + slot.begin + byteOffset, name);
    slot.written += bytes.length;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.assertOpen();
    const missing = [...this.slots.values()].filter((s) => s.written !== s.byteLength);
    if (missing.length) {
      await this.abort();
      const list = missing.slice(0, 5).map((s) => `'${s.spec.name}' (${s.written} of ${s.byteLength} bytes)`);
      throw new Error(`${this.path}: not written: ${list.join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; nothing was saved`);
    }
    try {
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tempPath, this.path);
      this.state = 'closed';
    } catch (err) {
      await this.abort();
      throw new SafetensorsError(`cannot save: ${(err as Error).message}`, { file: this.path, offset: 0, problem: 'io', cause: err, hint: 'nothing was saved under this name; free some space or pick another folder' });
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.fh.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }

  /** Writes all of `bytes` at `position`; on failure removes the temporary file and says so. */
  async writeAt(bytes: Uint8Array, position: number, tensor?: string): Promise<void> {
    this.assertOpen();
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30), position + done);
        done += bytesWritten;
      }
    } catch (err) {
      await this.abort();
      throw new SafetensorsError(`write failed at byte ${position + done}${tensor ? ` (tensor '${tensor}')` : ''}: ${(err as Error).message}`, {
        file: this.path,
        offset: position + done,
        problem: 'io',
        tensor,
        cause: err,
        hint: 'nothing was saved under this name; free some space or pick another folder',
      });
    }
  }

  private slot(name: string): Slot {
    this.assertOpen();
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`${this.path}: tensor '${name}' was not declared when the writer was created`);
    return slot;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`${this.path}: the writer is ${this.state}`);
  }
}

/** Writes a whole safetensors file from tensors in memory (float32 values converted to each dtype, or raw bytes). */
export async function writeSafetensors(
  path: string,
  tensors: readonly (TensorSpec & { data: Float32Array | Uint8Array })[],
  options: SafetensorsWriterOptions = {},
): Promise<void> {
  const writer = await createSafetensorsWriter(path, tensors, options);
  try {
    for (const t of tensors) {
      if (t.data instanceof Float32Array) await writer.write(t.name, t.data);
      else await writer.writeRaw(t.name, t.data);
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
