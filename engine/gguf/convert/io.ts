// Reading tensor bytes into buffers that are used again. Fresh memory costs a page fault per 4 KiB on first touch,
// which on some machines takes longer than converting the bytes; a conversion reads, reorders, converts and writes
// slices of the same few sizes over and over, so it keeps the buffers it is done with and hands them out again.
import { open, type FileHandle } from 'node:fs/promises';
import { SafetensorsError, safetensorsHints } from '../../hf/errors';
import type { TensorReader } from '../../hf/safetensors';

/** Buffers by exact size, kept up to `maxFreeBytes` in all. Only buffers it handed out are taken back. */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly own = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  /** A buffer of `n` bytes, with whatever it held before. */
  take(n: number): Uint8Array {
    const buffer = this.free.get(n)?.pop();
    if (buffer) {
      this.freeBytes -= n;
      return new Uint8Array(buffer);
    }
    const fresh = new ArrayBuffer(n);
    this.own.add(fresh);
    return new Uint8Array(fresh);
  }

  /** Takes back a buffer from take() once nothing uses it any more; anything else is left to the garbage collector. */
  give(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    if (!this.own.has(buffer) || view.byteOffset !== 0 || view.byteLength !== buffer.byteLength) return;
    if (this.freeBytes + buffer.byteLength > this.maxFreeBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.freeBytes += buffer.byteLength;
  }
}

/**
 * Reads byte ranges of tensors straight into a caller's buffer, through one handle per safetensors file (the
 * TensorReader's readRaw allocates a new buffer per call). Short reads fail as the safetensors reader's do: naming
 * the file, the tensor and the offset where the file ended.
 */
export class TensorBytesReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(private readonly weights: TensorReader) {}

  async readInto(name: string, byteStart: number, target: Uint8Array): Promise<void> {
    // A view computes its bytes (a merged adapter): the file under it holds other ones.
    if (this.weights.readRawInto) return this.weights.readRawInto(name, byteStart, target);
    const info = this.weights.info(name);
    if (byteStart < 0 || byteStart + target.length > info.byteLength) {
      throw new RangeError(`bytes ${byteStart}..${byteStart + target.length} are outside tensor '${name}' (${info.byteLength} bytes)`);
    }
    const handle = await this.handle(info.file);
    const position = info.fileOffset + byteStart;
    for (let done = 0; done < target.length; ) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(target, done, Math.min(target.length - done, 1 << 30), position + done));
      } catch (err) {
        throw new SafetensorsError(`read failed at byte ${position + done}: ${(err as Error).message}`, { file: info.file, offset: position + done, problem: 'io', tensor: name, cause: err });
      }
      if (bytesRead === 0) {
        throw new SafetensorsError(`tensor '${name}' needs bytes ${position}..${position + target.length} but the file ends at ${position + done}`, {
          file: info.file,
          offset: position + done,
          problem: 'truncated',
          tensor: name,
          hint: safetensorsHints.truncated,
        });
      }
      done += bytesRead;
    }
  }

  /** `count` elements from element `start` as float32, for dtypes that need widening first (F64). */
  float32Range(name: string, start: number, count: number): Promise<Float32Array> {
    return this.weights.readFloat32Range(name, start, count);
  }

  /** Closes the handles; safe to call twice. */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(async (h) => (await h.catch(() => undefined))?.close()));
  }

  private handle(file: string): Promise<FileHandle> {
    let h = this.handles.get(file);
    if (!h) {
      h = open(file, 'r').catch((err: unknown) => {
        this.handles.delete(file);
        throw new SafetensorsError(`cannot open: ${(err as Error).message}`, { file, offset: 0, problem: 'io', cause: err, hint: 'check the path and its permissions' });
      });
      this.handles.set(file, h);
    }
    return h;
  }
}
