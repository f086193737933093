// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}} padded with spaces, then the
// tensor data, whose offsets are relative to the end of the header. The reader checks everything the header claims
// against the file before handing out a tensor, and reads one tensor (or part of one) at a time, never the whole file.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { SafetensorsError, safetensorsHints } from './errors';
import { bf16BytesToF32, f16BytesToF32 } from './halfFloat';

/** Bytes per element of every dtype the format defines (sub-byte float types are not supported). */
export const dtypeSizes = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof dtypeSizes;

/** The dtypes readFloat32 converts from. */
export const floatDtypes: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** The largest header the reference implementation accepts; anything bigger is not a safetensors file. */
export const maxHeaderLength = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** data_offsets as the header gives them, relative to the start of the data section. */
  dataOffsets: [number, number];
  /** Where the tensor's bytes start in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  headerLength: number;
  /** File offset of the data section (8 + headerLength). */
  dataStart: number;
  metadata: Record<string, string>;
  /** In data order (by offset). */
  tensors: TensorInfo[];
}

/** What openSafetensors and openModelWeights return: named tensors read one at a time. */
export interface TensorReader {
  /** Tensor names in file order (for sharded models: index order). */
  readonly names: readonly string[];
  has(name: string): boolean;
  /** Throws when there is no such tensor. */
  info(name: string): TensorInfo & { file: string };
  /** The tensor's bytes as stored (little-endian), or `byteLength` bytes from `byteStart` within it. */
  readRaw(name: string, byteStart?: number, byteLength?: number): Promise<Buffer>;
  /** The tensor as float32 (F32, F16, BF16 and F64 convert; other dtypes throw), row-major in `shape` order. */
  readFloat32(name: string): Promise<Float32Array>;
  /** `count` elements from element `start`, as float32: a slice of rows of a tensor too big to hold whole. */
  readFloat32Range(name: string, start: number, count: number): Promise<Float32Array>;
  /**
   * A view whose bytes are not the file's (a merged adapter, say) reads into the caller's buffer here; readers of
   * plain files leave it out, and fast paths may then read `info().file` at `info().fileOffset` directly.
   */
  readRawInto?(name: string, byteStart: number, target: Uint8Array): Promise<void>;
  /** Closes the file handles; safe to call twice. */
  close(): Promise<void>;
}

export interface SafetensorsFile extends TensorReader {
  readonly path: string;
  readonly fileSize: number;
  readonly header: SafetensorsHeader;
  readonly metadata: Record<string, string>;
}

/** Element count of a shape ([] is a scalar: 1 element). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parses and checks a header. `headerJson` is the N bytes after the length; `fileSize` is the whole file's size, so
 * truncation is caught here rather than when a tensor is read. `file` only names the file in errors.
 */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const headerLength = headerJson.length;
  const dataStart = 8 + headerLength;
  const fail = (what: string, offset: number, problem: 'corrupt' | 'not-safetensors' | 'unsupported' | 'truncated', tensor?: string, hint?: string) =>
    new SafetensorsError(what, { file, offset, problem, tensor, hint: hint ?? (problem === 'truncated' ? safetensorsHints.truncated : safetensorsHints.corrupt) });

  const text = new TextDecoder('utf-8', { fatal: false }).decode(headerJson);
  if (!text.startsWith('{')) throw fail(`the header at byte 8 does not start with "{" (not a safetensors file)`, 8, 'not-safetensors', undefined, 'check that this is a .safetensors file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw fail(`the header is not valid JSON${at ? ` (byte ${8 + Number(at)})` : ''}: ${(err as Error).message}`, 8 + Number(at ?? 0), 'corrupt');
  }
  if (!isPlainObject(parsed)) throw fail('the header is not a JSON object', 8, 'not-safetensors');

  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw fail('__metadata__ must map names to strings', 8, 'corrupt');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry)) throw fail(`tensor '${name}' has no {dtype, shape, data_offsets} entry in the header`, 8, 'corrupt', name);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in dtypeSizes)) {
      throw fail(`tensor '${name}' has dtype ${JSON.stringify(dtype)}, not one of ${Object.keys(dtypeSizes).join(', ')}`, 8, 'unsupported', name, 'convert the model to F32, F16 or BF16 first');
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) throw fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, not a list of non-negative integers`, 8, 'corrupt', name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[1] < offsets[0]) {
      throw fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with begin <= end`, 8, 'corrupt', name);
    }
    const [begin, end] = offsets as [number, number];
    tensors.push({
      name,
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      dataOffsets: [begin, end],
      fileOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }

  // Offsets must tile the data section exactly: no holes, no overlaps, nothing after the last tensor.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1] || (a.name < b.name ? -1 : 1));
  const dataLength = fileSize - dataStart;
  let expected = 0;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    const needed = elementCount(t.shape) * dtypeSizes[t.dtype];
    if (needed !== end - begin) {
      throw fail(
        `tensor '${t.name}' of shape [${t.shape.join(', ')}] and dtype ${t.dtype} needs ${needed} bytes, but data_offsets [${begin}, ${end}] give ${end - begin}`,
        t.fileOffset,
        'corrupt',
        t.name,
      );
    }
    if (begin !== expected) {
      const what = begin > expected ? `a gap of ${begin - expected} bytes` : `an overlap of ${expected - begin} bytes`;
      throw fail(`tensor '${t.name}' starts at data offset ${begin} (file byte ${t.fileOffset}) but the previous tensor ends at ${expected}: ${what}`, t.fileOffset, 'corrupt', t.name);
    }
    if (end > dataLength) {
      throw fail(
        `tensor '${t.name}' needs bytes ${t.fileOffset}..${dataStart + end} but the file ends at ${fileSize}`,
        fileSize,
        'truncated',
        t.name,
      );
    }
    expected = end;
  }
  if (expected < dataLength) {
    throw fail(`${dataLength - expected} bytes follow the last tensor's data (file byte ${dataStart + expected}); the header does not account for them`, dataStart + expected, 'corrupt');
  }
  return { headerLength, dataStart, metadata, tensors };
}

/** Opens a safetensors file and checks its header; tensors are read on demand. Close it when done. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new SafetensorsError(`cannot open: ${(err as Error).message}`, { file: path, offset: 0, problem: 'io', cause: err, hint: 'check the path and its permissions' });
  }
  try {
    const fileSize = (await fh.stat()).size;
    if (fileSize < 8) {
      throw new SafetensorsError(`the file has ${fileSize} bytes, fewer than the 8-byte header length`, { file: path, offset: 0, problem: 'truncated', hint: safetensorsHints.truncated });
    }
    const lengthBytes = await readExactly(fh, path, 0, 8);
    const headerLength64 = lengthBytes.readBigUInt64LE(0);
    if (headerLength64 > BigInt(maxHeaderLength) || headerLength64 < 2n) {
      throw new SafetensorsError(`the header length is ${headerLength64} bytes; a safetensors header is 2..${maxHeaderLength} bytes (not a safetensors file)`, {
        file: path,
        offset: 0,
        problem: 'not-safetensors',
        hint: 'check that this is a .safetensors file',
      });
    }
    const headerLength = Number(headerLength64);
    if (8 + headerLength > fileSize) {
      throw new SafetensorsError(`the header is ${headerLength} bytes but the file ends at ${fileSize}`, { file: path, offset: fileSize, problem: 'truncated', hint: safetensorsHints.truncated });
    }
    const header = parseSafetensorsHeader(await readExactly(fh, path, 8, headerLength), fileSize, path);
    return new FileReader(path, fh, fileSize, header);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

class FileReader implements SafetensorsFile {
  readonly names: readonly string[];
  readonly metadata: Record<string, string>;
  private readonly byName: Map<string, TensorInfo>;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly header: SafetensorsHeader,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
    this.names = header.tensors.map((t) => t.name);
    this.metadata = header.metadata;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo & { file: string } {
    const t = this.byName.get(name);
    if (!t) {
      throw new SafetensorsError(`no tensor '${name}'`, {
        file: this.path,
        offset: 0,
        problem: 'corrupt',
        tensor: name,
        hint: `the file has ${this.names.length} tensors${this.names.length ? `, e.g. '${this.names[0]}'` : ''}`,
      });
    }
    return { ...t, file: this.path };
  }

  async readRaw(name: string, byteStart = 0, byteLength?: number): Promise<Buffer> {
    const t = this.info(name);
    const length = byteLength ?? t.byteLength - byteStart;
    if (!Number.isInteger(byteStart) || !Number.isInteger(length) || byteStart < 0 || length < 0 || byteStart + length > t.byteLength) {
      throw new RangeError(`${basename(this.path)}: bytes ${byteStart}..${byteStart + length} are outside tensor '${name}' (${t.byteLength} bytes)`);
    }
    this.assertOpen();
    return readExactly(this.fh, this.path, t.fileOffset + byteStart, length, name);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const t = this.info(name);
    return this.readFloat32Range(name, 0, t.byteLength / dtypeSizes[t.dtype]);
  }

  async readFloat32Range(name: string, start: number, count: number): Promise<Float32Array> {
    const t = this.info(name);
    const size = dtypeSizes[t.dtype];
    if (!floatDtypes.includes(t.dtype)) {
      throw new SafetensorsError(`tensor '${name}' has dtype ${t.dtype}; only ${floatDtypes.join(', ')} read as float32`, {
        file: this.path,
        offset: t.fileOffset,
        problem: 'unsupported',
        tensor: name,
      });
    }
    const total = t.byteLength / size;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > total) {
      throw new RangeError(`${basename(this.path)}: elements ${start}..${start + count} are outside tensor '${name}' (${total} elements)`);
    }
    this.assertOpen();
    const at = t.fileOffset + start * size;
    if (t.dtype === 'F32') {
      // Read straight into the result's memory: no copy, and the result is aligned whatever the file offset is.
      const out = new Float32Array(count);
      await readInto(this.fh, this.path, new Uint8Array(out.buffer), at, name);
      return out;
    }
    const raw = await readExactly(this.fh, this.path, at, count * size, name);
    if (t.dtype === 'F16') return f16BytesToF32(raw);
    if (t.dtype === 'BF16') return bf16BytesToF32(raw);
    const f64 = new Float64Array(count);
    raw.copy(new Uint8Array(f64.buffer));
    return Float32Array.from(f64);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.path}: read after close()`);
  }
}

async function readExactly(fh: FileHandle, file: string, position: number, length: number, tensor?: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  await readInto(fh, file, buf, position, tensor);
  return buf;
}

/** Fills `target` from `position`; a short read means the file shrank under us or lied about its size. */
async function readInto(fh: FileHandle, file: string, target: Uint8Array, position: number, tensor?: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    let bytesRead: number;
    try {
      // Reads are capped so one call never asks the OS for more than 1 GiB.
      ({ bytesRead } = await fh.read(target, done, Math.min(target.length - done, 1 << 30), position + done));
    } catch (err) {
      throw new SafetensorsError(`read failed at byte ${position + done}: ${(err as Error).message}`, { file, offset: position + done, problem: 'io', tensor, cause: err });
    }
    if (bytesRead === 0) {
      throw new SafetensorsError(`${tensor ? `tensor '${tensor}' ` : ''}needs bytes ${position}..${position + target.length} but the file ends at ${position + done}`, {
        file,
        offset: position + done,
        problem: 'truncated',
        tensor,
        hint: safetensorsHints.truncated,
      });
    }
    done += bytesRead;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
