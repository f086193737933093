// Streaming GGUF v3 writer (layout in format.ts). The steps have a fixed order, which the writer keeps as a state:
//
//   const w = await GgufWriter.create('model.gguf');        // checks the folder; nothing written yet
//   w.setString('general.architecture', 'llama'); ...        // metadata, each value with its file type
//   w.addTensor('token_embd.weight', [4096, 32000], GgmlType.F16); ...  // every tensor's name, GGUF dims, type
//   await w.writeHeader();                                   // header + metadata + tensor infos (optional: the
//   await w.writeTensor('token_embd.weight', bytes); ...     //   first writeTensor does it) then data, in order
//   await w.finish();                                        // fsync, then rename onto the final name
//
// Everything goes to `<name>.partial-<pid>` in the same folder and is renamed only when complete, so the final name
// never holds a half-written file. Any failure from writeHeader on (a full disk, tensors out of order, a wrong byte
// count) removes the temporary file and leaves the writer failed; `abort()` does the same on request. Only the tensor
// being written is in memory.
import { constants } from 'node:fs';
import { access, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GgmlType, ggmlTypeInfo, ggmlTypeName } from './ggmlTypes';
import { GgufWriteError, writeHint } from './errors';
import {
  alignUp,
  fixedSize,
  GGML_MAX_DIMS,
  GGML_MAX_NAME_BYTES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_MAGIC_BYTES,
  GGUF_MAX_KEY_BYTES,
  GGUF_VERSION,
  GgufType,
  isValidAlignment,
  meta,
  valueProblem,
  type GgufArray,
  type GgufValue,
} from './format';
import type { GgufTensorInfo } from './reader';

/** The part of a file handle the writer uses; tests pass a double that fails on cue. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface GgufWriterOptions {
  /** Alignment of tensor data (a power of two); other than 32 it is recorded as general.alignment. */
  alignment?: number;
  /** Opens the temporary file for writing; defaults to fs.open(path, 'w'). */
  openFile?: (path: string) => Promise<WritableFile>;
}

type State = 'declaring' | 'writing' | 'finished' | 'failed' | 'aborted';

export class GgufWriter {
  /** The temporary file, renamed to `path` by finish(). */
  readonly tempPath: string;
  private readonly dir: string;
  private readonly metadata = new Map<string, GgufValue>();
  private readonly infos: GgufTensorInfo[] = [];
  private readonly names = new Set<string>();
  private alignmentValue = GGUF_DEFAULT_ALIGNMENT;
  private dataSize = 0;
  private state: State = 'declaring';
  private busy = false;
  private file: WritableFile | undefined;
  private position = 0;
  private dataOffset = 0;
  private nextTensor = 0;

  private constructor(
    /** The final path. */
    readonly path: string,
    private readonly openFile: (path: string) => Promise<WritableFile>,
  ) {
    this.dir = dirname(path);
    this.tempPath = join(this.dir, `${basename(path)}.partial-${process.pid}`);
  }

  /**
   * A writer for `path`. Fails now (GgufWriteError) when the folder is missing or not writable, or `path` is a folder,
   * so a long conversion does not find out at the end.
   */
  static async create(path: string, options: GgufWriterOptions = {}): Promise<GgufWriter> {
    const writer = new GgufWriter(path, options.openFile ?? ((p) => open(p, 'w')));
    try {
      await access(writer.dir, constants.W_OK);
    } catch (err) {
      throw new GgufWriteError(path, `cannot write in ${writer.dir} (${(err as NodeJS.ErrnoException).code})`, writeHint(err, writer.dir), err);
    }
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw new GgufWriteError(path, 'is a folder', 'give the path of the .gguf file to write');
    if (options.alignment !== undefined && options.alignment !== GGUF_DEFAULT_ALIGNMENT) {
      writer.set(GGUF_KEY_ALIGNMENT, meta.u32(options.alignment));
    }
    return writer;
  }

  get alignment(): number {
    return this.alignmentValue;
  }

  /** Tensors declared so far, with the offsets they will have in the data section. */
  get tensors(): readonly GgufTensorInfo[] {
    return this.infos;
  }

  /**
   * Sets a metadata value with its file type (see `meta` in format.ts); setting a key again replaces the value and
   * keeps its place. Throws TypeError/RangeError for a bad key or a value its type cannot hold.
   */
  set(key: string, value: GgufValue): this {
    this.expectState('declaring', `set('${key}')`);
    checkKey(key);
    const problem = valueProblem(value);
    if (problem) throw new RangeError(`metadata key '${key}': ${problem}`);
    if (key === GGUF_KEY_ALIGNMENT) {
      if (value.type !== GgufType.UINT32 || !isValidAlignment(value.value)) {
        throw new RangeError(`metadata key '${GGUF_KEY_ALIGNMENT}' must be a u32 power of two, got ${String(value.value)}`);
      }
      if (this.infos.length > 0) throw new Error(`set '${GGUF_KEY_ALIGNMENT}' before adding tensors: their offsets depend on it`);
      this.alignmentValue = value.value;
    }
    this.metadata.set(key, value);
    return this;
  }

  setString(key: string, value: string): this {
    return this.set(key, meta.string(value));
  }
  setU32(key: string, value: number): this {
    return this.set(key, meta.u32(value));
  }
  setI32(key: string, value: number): this {
    return this.set(key, meta.i32(value));
  }
  setF32(key: string, value: number): this {
    return this.set(key, meta.f32(value));
  }
  setBool(key: string, value: boolean): this {
    return this.set(key, meta.bool(value));
  }
  setU64(key: string, value: bigint | number): this {
    return this.set(key, meta.u64(value));
  }
  setStringArray(key: string, items: string[]): this {
    return this.set(key, meta.strings(items));
  }
  setI32Array(key: string, items: number[]): this {
    return this.set(key, meta.i32s(items));
  }
  setF32Array(key: string, items: number[]): this {
    return this.set(key, meta.f32s(items));
  }

  /**
   * Declares a tensor: `dims` in GGUF order (dims[0] = ne[0], the row length), at most four. Returns its info with the
   * offset its data will have. Tensors are written in the order they are added.
   */
  addTensor(name: string, dims: readonly number[], type: GgmlType): GgufTensorInfo {
    this.expectState('declaring', `addTensor('${name}')`);
    const nameBytes = Buffer.byteLength(name, 'utf8');
    if (nameBytes === 0 || nameBytes > GGML_MAX_NAME_BYTES) {
      throw new RangeError(`tensor name '${name}' is ${nameBytes} bytes; ggml takes 1 to ${GGML_MAX_NAME_BYTES}`);
    }
    if (this.names.has(name)) throw new Error(`tensor '${name}' was already added`);
    if (dims.length === 0 || dims.length > GGML_MAX_DIMS) {
      throw new RangeError(`tensor '${name}' has ${dims.length} dimensions; ggml tensors have 1 to ${GGML_MAX_DIMS}`);
    }
    const layout = ggmlTypeInfo(type);
    if (!layout) throw new RangeError(`tensor '${name}': unknown ggml type id ${type}`);
    let elements = 1;
    for (const n of dims) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tensor '${name}' has dimension ${n}; dimensions are whole numbers >= 0`);
      elements *= n;
    }
    if (!Number.isSafeInteger(elements)) throw new RangeError(`tensor '${name}' has too many elements (${dims.join(' x ')})`);
    if (dims[0] % layout.blockSize !== 0) {
      throw new RangeError(
        `tensor '${name}': ${layout.name} stores rows in blocks of ${layout.blockSize} values; a row of ${dims[0]} values does not fit (pick another type for it)`,
      );
    }
    const byteLength = (elements / layout.blockSize) * layout.typeSize;
    const info: GgufTensorInfo = { name, dims: [...dims], type, offset: this.dataSize, byteLength, elements };
    this.dataSize = alignUp(this.dataSize + byteLength, this.alignmentValue);
    this.infos.push(info);
    this.names.add(name);
    return info;
  }

  /** Writes the header, metadata and tensor infos into the temporary file. writeTensor and finish call it if needed. */
  async writeHeader(): Promise<void> {
    this.expectState('declaring', 'writeHeader()');
    await this.step(async () => {
      this.file = await this.openFile(this.tempPath);
      this.state = 'writing';
      const header = serializeHeader(this.metadata, this.infos);
      this.dataOffset = alignUp(header.length, this.alignmentValue);
      await this.put(header);
      await this.pad(this.dataOffset - header.length);
    });
  }

  /** Writes the next tensor's data: `name` must be the next tensor in the order they were added, `data` its exact bytes. */
  async writeTensor(name: string, data: Uint8Array): Promise<void> {
    await this.writeTensorChunks(name, [data]);
  }

  /** As writeTensor, with the data in pieces (e.g. a tensor copied chunk by chunk from another file). */
  async writeTensorChunks(name: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.state === 'declaring') await this.writeHeader();
    this.expectState('writing', `writeTensor('${name}')`);
    await this.step(async () => {
      const info = this.infos[this.nextTensor];
      if (!info) throw this.misuse(`all ${this.infos.length} declared tensors are written; got another, '${name}'`);
      if (info.name !== name) {
        throw this.misuse(`expected tensor '${info.name}' next, got '${name}' (tensors are written in the order they were added)`);
      }
      const start = this.dataOffset + info.offset;
      if (this.position !== start) throw new Error(`writer is at ${this.position}, tensor '${name}' starts at ${start}`);
      let written = 0;
      for await (const chunk of chunks) {
        if (written + chunk.length > info.byteLength) {
          throw this.misuse(`tensor '${name}' (${ggmlTypeName(info.type)} ${info.dims.join(' x ')}) takes ${info.byteLength} bytes; got more`);
        }
        await this.put(chunk);
        written += chunk.length;
      }
      if (written !== info.byteLength) {
        throw this.misuse(`tensor '${name}' (${ggmlTypeName(info.type)} ${info.dims.join(' x ')}) takes ${info.byteLength} bytes; got ${written}`);
      }
      await this.pad(alignUp(this.position, this.alignmentValue) - this.position);
      this.nextTensor++;
    });
  }

  /** Checks every tensor was written, flushes to disk and renames the temporary file onto the final path. */
  async finish(): Promise<{ path: string; size: number }> {
    if (this.state === 'declaring') await this.writeHeader();
    this.expectState('writing', 'finish()');
    await this.step(async () => {
      const missing = this.infos[this.nextTensor];
      if (missing) {
        throw this.misuse(`expected tensor '${missing.name}' next, got finish() (${this.nextTensor} of ${this.infos.length} tensors written)`);
      }
      const file = this.file!;
      await file.sync();
      this.file = undefined;
      await file.close();
      await rename(this.tempPath, this.path);
      this.state = 'finished';
    });
    await syncFolder(this.dir);
    return { path: this.path, size: this.position };
  }

  /** Stops and removes the temporary file; the final path is untouched. Safe to call in any state, and twice. */
  async abort(): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted' || this.state === 'failed') return;
    this.state = 'aborted';
    await this.cleanUp();
  }

  private expectState(expected: State, call: string): void {
    if (this.busy) throw new Error(`${call} while another write is in progress; await each writer call`);
    if (this.state === expected) return;
    const where: Record<State, string> = {
      declaring: 'still declaring metadata and tensors',
      writing: 'the header is already written (set metadata and add tensors before writing)',
      finished: 'the file is finished',
      failed: 'an earlier write failed and the file was removed',
      aborted: 'the writer was aborted',
    };
    throw new Error(`${this.path}: ${call}: ${where[this.state]}`);
  }

  /** Runs one write step; any failure removes the temporary file and is reported as a GgufWriteError. */
  private async step(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await work();
    } catch (err) {
      this.state = 'failed';
      await this.cleanUp();
      if (err instanceof GgufWriteError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new GgufWriteError(this.path, `writing failed (${code ?? (err as Error).message}); nothing was written`, writeHint(err, this.dir), err);
    } finally {
      this.busy = false;
    }
  }

  private misuse(what: string): GgufWriteError {
    return new GgufWriteError(this.path, `${what}; nothing was written`, undefined);
  }

  private async cleanUp(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private async put(bytes: Uint8Array): Promise<void> {
    const file = this.file!;
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, done, bytes.length - done, this.position);
      if (bytesWritten <= 0) throw Object.assign(new Error('the file system accepted no bytes'), { code: 'EIO' });
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }

  private async pad(n: number): Promise<void> {
    if (n > 0) await this.put(Buffer.alloc(n));
  }
}

/** Writes a whole GGUF file from values in memory: for small files (fixtures, adapters, tests). */
export async function writeGguf(
  path: string,
  content: {
    metadata: Iterable<[string, GgufValue]>;
    tensors: Iterable<{ name: string; dims: readonly number[]; type: GgmlType; data: Uint8Array }>;
  },
  options: GgufWriterOptions = {},
): Promise<{ path: string; size: number }> {
  const writer = await GgufWriter.create(path, options);
  try {
    for (const [key, value] of content.metadata) writer.set(key, value);
    const tensors = [...content.tensors];
    for (const t of tensors) writer.addTensor(t.name, t.dims, t.type);
    for (const t of tensors) await writer.writeTensor(t.name, t.data);
    return await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('a metadata key must be a non-empty string');
  // The spec asks for ASCII keys; control characters and spaces would only make them impossible to look up.
  if (!/^[\x21-\x7e]+$/.test(key)) throw new TypeError(`metadata key ${JSON.stringify(key)} must be printable ASCII without spaces`);
  if (key.length > GGUF_MAX_KEY_BYTES) throw new RangeError(`metadata key is ${key.length} bytes; GGUF allows ${GGUF_MAX_KEY_BYTES}`);
}

/** Header, metadata and tensor infos as one buffer (metadata is held in memory anyway; tensors never are). */
function serializeHeader(metadata: ReadonlyMap<string, GgufValue>, infos: readonly GgufTensorInfo[]): Buffer {
  let size = 4 + 4 + 8 + 8;
  for (const [key, value] of metadata) size += stringSize(key) + 4 + valueSize(value);
  for (const t of infos) size += stringSize(t.name) + 4 + 8 * t.dims.length + 4 + 8;
  const out = new Out(Buffer.alloc(size));
  out.bytes(Uint8Array.from(GGUF_MAGIC_BYTES));
  out.u32(GGUF_VERSION);
  out.u64(BigInt(infos.length));
  out.u64(BigInt(metadata.size));
  for (const [key, value] of metadata) {
    out.string(key);
    out.u32(value.type);
    writeValue(out, value);
  }
  for (const t of infos) {
    out.string(t.name);
    out.u32(t.dims.length);
    for (const n of t.dims) out.u64(BigInt(n));
    out.u32(t.type);
    out.u64(BigInt(t.offset));
  }
  if (out.pos !== size) throw new Error(`header size miscounted: wrote ${out.pos} of ${size} bytes`);
  return out.buf;
}

function stringSize(s: string): number {
  return 8 + Buffer.byteLength(s, 'utf8');
}

function valueSize(value: GgufValue): number {
  if (value.type === GgufType.STRING) return stringSize(value.value);
  if (value.type === GgufType.ARRAY) return arraySize(value.value);
  return fixedSize(value.type)!;
}

function arraySize(array: GgufArray): number {
  let size = 4 + 8;
  if (array.itemType === GgufType.STRING) for (const s of array.items) size += stringSize(s);
  else if (array.itemType === GgufType.ARRAY) for (const a of array.items) size += arraySize(a);
  else size += fixedSize(array.itemType)! * array.items.length;
  return size;
}

function writeValue(out: Out, value: GgufValue): void {
  if (value.type === GgufType.ARRAY) writeArray(out, value.value);
  else if (value.type === GgufType.STRING) out.string(value.value);
  else {
    scalarWriter(value.type)(out.buf, value.value, out.pos);
    out.pos += fixedSize(value.type)!;
  }
}

function writeArray(out: Out, array: GgufArray): void {
  out.u32(array.itemType);
  out.u64(BigInt(array.items.length));
  if (array.itemType === GgufType.ARRAY) for (const a of array.items) writeArray(out, a);
  else if (array.itemType === GgufType.STRING) for (const s of array.items) out.string(s);
  else {
    // Picked once per array: vocabularies' scores and types run to hundreds of thousands of items.
    const write = scalarWriter(array.itemType);
    const size = fixedSize(array.itemType)!;
    const b = out.buf;
    let at = out.pos;
    for (const item of array.items) {
      write(b, item, at);
      at += size;
    }
    out.pos = at;
  }
}

/** How to write one value of a fixed-size type (values were range-checked when set). */
function scalarWriter(type: GgufType): (b: Buffer, value: number | bigint | boolean, at: number) => void {
  switch (type) {
    case GgufType.UINT8:
      return (b, v, at) => void (b[at] = v as number);
    case GgufType.INT8:
      return (b, v, at) => void b.writeInt8(v as number, at);
    case GgufType.UINT16:
      return (b, v, at) => void b.writeUInt16LE(v as number, at);
    case GgufType.INT16:
      return (b, v, at) => void b.writeInt16LE(v as number, at);
    case GgufType.UINT32:
      return (b, v, at) => void b.writeUInt32LE(v as number, at);
    case GgufType.INT32:
      return (b, v, at) => void b.writeInt32LE(v as number, at);
    case GgufType.FLOAT32:
      return (b, v, at) => void b.writeFloatLE(v as number, at);
    case GgufType.FLOAT64:
      return (b, v, at) => void b.writeDoubleLE(v as number, at);
    case GgufType.UINT64:
      return (b, v, at) => void b.writeBigUInt64LE(v as bigint, at);
    case GgufType.INT64:
      return (b, v, at) => void b.writeBigInt64LE(v as bigint, at);
    case GgufType.BOOL:
      return (b, v, at) => void (b[at] = v ? 1 : 0);
    default:
      throw new Error(`value type ${type} is not fixed-size`);
  }
}

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  u32(n: number): void {
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }
  u64(n: bigint): void {
    this.buf.writeBigUInt64LE(n, this.pos);
    this.pos += 8;
  }
  string(s: string): void {
    const length = this.buf.write(s, this.pos + 8, 'utf8');
    // The u64 length as two u32 halves: no bigint per string.
    this.buf.writeUInt32LE(length % 0x100000000, this.pos);
    this.buf.writeUInt32LE(Math.floor(length / 0x100000000), this.pos + 4);
    this.pos += 8 + length;
  }
}

/** Makes the rename itself durable; folders cannot be opened for fsync everywhere (Windows), so this is best effort. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
