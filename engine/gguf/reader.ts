// GGUF v3 reader (layout in format.ts). `openGguf` reads the header, every metadata pair and every tensor info through
// a small read buffer, and checks each declared count and length against the bytes the file has before trusting it,
// so a damaged file fails with the place it went wrong instead of an allocation of a bogus size. Tensor data is never
// read up front: `readTensor`, `readTensorChunks` and `iterateTensors` read one tensor (or one chunk) at a time.
import { open, type FileHandle } from 'node:fs/promises';
import { GgmlType, ggmlTypeInfo } from './ggmlTypes';
import { GgufError, hints, type ModelFileProblem } from './errors';
import {
  alignUp,
  fixedSize,
  GGML_MAX_DIMS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAGIC_BYTES,
  GGUF_VERSION,
  GgufType,
  ggufTypeName,
  isGgufType,
  isValidAlignment,
  minimumSize,
  type GgufArray,
  type GgufValue,
} from './format';

export interface GgufTensorInfo {
  name: string;
  /** Dimensions in GGUF order: dims[0] is ne[0], the fastest-varying (a row's length). */
  dims: number[];
  type: GgmlType;
  /** Where the data starts, relative to the data section (a multiple of the alignment). */
  offset: number;
  /** Bytes of data, from the type's block layout. */
  byteLength: number;
  /** Number of values: the product of dims. */
  elements: number;
}

export interface GgufFile {
  /** The path as given to openGguf (error messages use it). */
  readonly path: string;
  /** File size in bytes when opened. */
  readonly size: number;
  readonly version: number;
  /** Every metadata pair, in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Tensor infos in the order the file lists them (not necessarily the order of their data). */
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Absolute file offset where the first metadata pair starts (after the 24-byte header). */
  readonly metadataOffset: number;
  /** Absolute file offset of the first tensor info. */
  readonly tensorInfoOffset: number;
  /** Absolute file offset of the data section; tensor offsets are relative to it. */
  readonly dataOffset: number;
  /** The tensor of that name, if the file has it. */
  tensor(name: string): GgufTensorInfo | undefined;
  /** Releases the open file; safe to call twice. */
  close(): Promise<void>;
}

/** Bytes the read buffer fetches at a time while parsing metadata and tensor infos. */
const READ_CHUNK = 1 << 20;
/** Nested arrays deeper than this are refused: no model needs them, and recursion must stay bounded. */
const MAX_ARRAY_DEPTH = 16;

/**
 * Opens and parses a GGUF v3 file: header, metadata, tensor infos, all validated against the file's size. Throws
 * GgufError for anything that is not a well-formed GGUF v3 file; errors from opening it (ENOENT, EACCES) are Node's
 * own. The file stays open for reading tensors until `close()`.
 */
export async function openGguf(path: string): Promise<GgufFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const parsed = await parse(new Cursor(handle, path, size));
    return new OpenGgufFile(handle, path, size, parsed);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** Reads a tensor's data whole. Holds one tensor in memory; use readTensorChunks for tensors too large for that. */
export async function readTensor(file: GgufFile, info: GgufTensorInfo): Promise<Buffer> {
  const data = Buffer.allocUnsafe(info.byteLength);
  await readExactly(file, info, data, 0);
  return data;
}

/** Reads a tensor's data in pieces of at most `chunkBytes`, each a fresh Buffer. */
export async function* readTensorChunks(file: GgufFile, info: GgufTensorInfo, chunkBytes = 16 << 20): AsyncGenerator<Buffer> {
  if (!(chunkBytes > 0)) throw new RangeError('chunkBytes must be positive');
  for (let done = 0; done < info.byteLength; ) {
    const piece = Buffer.allocUnsafe(Math.min(chunkBytes, info.byteLength - done));
    await readExactly(file, info, piece, done);
    done += piece.length;
    yield piece;
  }
}

/**
 * Every tensor with its data, one at a time, in the order the data lies in the file (sequential reads). Only the
 * tensor being yielded is in memory.
 */
export async function* iterateTensors(file: GgufFile): AsyncGenerator<{ info: GgufTensorInfo; data: Buffer }> {
  for (const info of tensorsInDataOrder(file)) yield { info, data: await readTensor(file, info) };
}

/** The tensor infos sorted by where their data lies. */
export function tensorsInDataOrder(file: GgufFile): GgufTensorInfo[] {
  return [...file.tensors].sort((a, b) => a.offset - b.offset);
}

async function readExactly(file: GgufFile, info: GgufTensorInfo, into: Buffer, from: number): Promise<void> {
  if (!(file instanceof OpenGgufFile)) throw new TypeError('readTensor needs a file from openGguf');
  const handle = file.handleForReading();
  const start = file.dataOffset + info.offset + from;
  for (let done = 0; done < into.length; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, done, into.length - done, start + done));
    } catch (err) {
      throw ioError(file.path, start + done, err, info.name);
    }
    if (bytesRead === 0) {
      throw new GgufError(
        `tensor '${info.name}' data ends early (offset ${start + done}, ${into.length - done} bytes still to read): the file got shorter after it was opened`,
        { file: file.path, offset: start + done, problem: 'truncated', tensor: info.name, hint: 'make sure nothing else is writing it, then retry' },
      );
    }
    done += bytesRead;
  }
}

class OpenGgufFile implements GgufFile {
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  readonly metadataOffset: number;
  readonly tensorInfoOffset: number;
  readonly dataOffset: number;
  private readonly byName: Map<string, GgufTensorInfo>;
  private handle: FileHandle | undefined;

  constructor(
    handle: FileHandle,
    readonly path: string,
    readonly size: number,
    parsed: Parsed,
  ) {
    this.handle = handle;
    this.version = parsed.version;
    this.metadata = parsed.metadata;
    this.tensors = parsed.tensors;
    this.alignment = parsed.alignment;
    this.metadataOffset = parsed.metadataOffset;
    this.tensorInfoOffset = parsed.tensorInfoOffset;
    this.dataOffset = parsed.dataOffset;
    this.byName = new Map(parsed.tensors.map((t) => [t.name, t]));
  }

  tensor(name: string): GgufTensorInfo | undefined {
    return this.byName.get(name);
  }

  handleForReading(): FileHandle {
    if (!this.handle) throw new Error(`${this.path}: the GGUF file was closed; open it again to read tensors`);
    return this.handle;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

interface Parsed {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  metadataOffset: number;
  tensorInfoOffset: number;
  dataOffset: number;
}

async function parse(c: Cursor): Promise<Parsed> {
  await readMagicAndVersion(c);
  c.context = 'the header';
  await c.need(16);
  const tensorCount = c.u64Number('the tensor count');
  const kvCount = c.u64Number('the metadata count');
  // Every pair is at least a key length, a type and one byte; every tensor info at least a name length, a dimension
  // count, a type and an offset. A count the file cannot hold is damage, found before looping over it.
  const least = kvCount * (8 + 4 + 1) + tensorCount * (8 + 4 + 4 + 8);
  if (least > c.size - c.pos) {
    throw c.error(
      `the header declares ${kvCount} metadata pairs and ${tensorCount} tensors, which need at least ${least} bytes, but only ${c.size - c.pos} follow`,
      c.pos,
      'truncated',
      hints.truncated,
    );
  }

  const metadataOffset = c.pos;
  const metadata = new Map<string, GgufValue>();
  const valueOffsets = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const at = c.pos;
    c.context = `metadata pair ${i + 1} of ${kvCount}`;
    const key = await c.string('its key');
    if (metadata.has(key)) throw c.error(`metadata key '${key}' appears twice`, at, 'corrupt', hints.corrupt, { key });
    c.context = `metadata key '${key}'`;
    c.key = key;
    await c.need(4);
    const typeAt = c.pos;
    const type = c.u32();
    if (!isGgufType(type)) throw c.error(`metadata key '${key}' has value type ${type}, which GGUF does not define`, typeAt, 'corrupt', hints.corrupt);
    valueOffsets.set(key, c.pos);
    metadata.set(key, await readValue(c, type));
    c.key = undefined;
  }

  const alignment = alignmentOf(c, metadata, valueOffsets.get(GGUF_KEY_ALIGNMENT) ?? 0);

  const tensorInfoOffset = c.pos;
  const tensors: GgufTensorInfo[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    c.context = `tensor info ${i + 1} of ${tensorCount}`;
    const at = c.pos;
    const name = await c.string('its name');
    if (seen.has(name)) throw c.error(`tensor '${name}' appears twice`, at, 'corrupt', hints.corrupt, { tensor: name });
    seen.add(name);
    c.context = `tensor '${name}' info`;
    c.tensor = name;
    tensors.push(await readTensorInfo(c, name));
    c.tensor = undefined;
  }

  const dataOffset = alignUp(c.pos, alignment);
  checkTensorData(c, tensors, dataOffset, alignment);
  return { version: GGUF_VERSION, metadata, tensors, alignment, metadataOffset, tensorInfoOffset, dataOffset };
}

async function readMagicAndVersion(c: Cursor): Promise<void> {
  if (c.size === 0) throw c.error('the file is empty (0 bytes)', 0, 'truncated', 're-download or re-convert it');
  c.context = 'the magic';
  const head = await c.peek(Math.min(8, c.size));
  const magic = head.subarray(0, 4);
  if (!GGUF_MAGIC_BYTES.every((b, i) => magic[i] === b)) {
    if (magic.length < 4 && GGUF_MAGIC_BYTES.slice(0, magic.length).every((b, i) => magic[i] === b)) {
      throw c.error(`the file ends inside the magic (offset 0, needs 4 bytes, file has ${c.size})`, 0, 'truncated', hints.truncated);
    }
    const reversed = magic.length === 4 && [...GGUF_MAGIC_BYTES].reverse().every((b, i) => magic[i] === b);
    if (reversed) throw c.error('the file is a big-endian GGUF; only little-endian GGUF is read', 0, 'unsupported', hints.reconvert);
    throw c.error(`not a GGUF file: it starts with ${describeBytes(magic)}, not "${GGUF_MAGIC}"`, 0, 'not-model-file');
  }
  c.context = 'the version';
  c.pos = 4;
  await c.need(4);
  const version = c.u32();
  if (version === GGUF_VERSION) return;
  const swapped = head.readUInt32BE(4);
  if (swapped >= 1 && swapped <= GGUF_VERSION) {
    throw c.error(`the file is a big-endian GGUF (version ${swapped}); only little-endian GGUF is read`, 4, 'unsupported', hints.reconvert);
  }
  if (version === 1 || version === 2) {
    throw c.error(
      `GGUF version ${version} is not supported; this reader reads version ${GGUF_VERSION}, which llama.cpp has written since late 2023`,
      4,
      'unsupported',
      hints.reconvert,
    );
  }
  throw c.error(
    `GGUF version ${version} is not supported; this reader reads version ${GGUF_VERSION}`,
    4,
    version > GGUF_VERSION && version < 0x100 ? 'unsupported' : 'corrupt',
    version > GGUF_VERSION && version < 0x100 ? 'update Taxonomy Studio, or convert the model again with a version 3 writer' : hints.corrupt,
  );
}

function alignmentOf(c: Cursor, metadata: Map<string, GgufValue>, at: number): number {
  const value = metadata.get(GGUF_KEY_ALIGNMENT);
  if (!value) return GGUF_DEFAULT_ALIGNMENT;
  const where = { key: GGUF_KEY_ALIGNMENT };
  if (value.type !== GgufType.UINT32) {
    throw c.error(`metadata key '${GGUF_KEY_ALIGNMENT}' has type ${ggufTypeName(value.type)}; it must be u32`, at, 'corrupt', hints.corrupt, where);
  }
  if (!isValidAlignment(value.value)) {
    throw c.error(`metadata key '${GGUF_KEY_ALIGNMENT}' is ${value.value}; the alignment must be a power of two`, at, 'corrupt', hints.corrupt, where);
  }
  return value.value;
}

async function readValue(c: Cursor, type: GgufType, depth = 0): Promise<GgufValue> {
  switch (type) {
    case GgufType.STRING:
      return { type, value: await c.string('its value') };
    case GgufType.ARRAY:
      return { type, value: await readArray(c, depth) };
    default: {
      await c.need(fixedSize(type)!);
      return readFixed(c, type) as GgufValue;
    }
  }
}

/** Reads one fixed-size scalar from the buffer (the caller made sure the bytes are there). */
function readFixed(c: Cursor, type: GgufType): GgufValue {
  const value = scalarReader(type)(c.buf, c.pos - c.bufStart);
  if (type === GgufType.BOOL && (value as number) > 1) throw badBool(c, value as number, c.pos);
  c.pos += fixedSize(type)!;
  return { type, value: type === GgufType.BOOL ? value === 1 : value } as GgufValue;
}

/**
 * How to read one value of a fixed-size type, picked once per array rather than per item. Bools come back as their
 * byte, for the caller to check (anything but 0 or 1 is damage).
 */
function scalarReader(type: GgufType): (b: Buffer, at: number) => number | bigint {
  switch (type) {
    case GgufType.UINT8:
    case GgufType.BOOL:
      return (b, at) => b[at];
    case GgufType.INT8:
      return (b, at) => b.readInt8(at);
    case GgufType.UINT16:
      return (b, at) => b.readUInt16LE(at);
    case GgufType.INT16:
      return (b, at) => b.readInt16LE(at);
    case GgufType.UINT32:
      return (b, at) => b.readUInt32LE(at);
    case GgufType.INT32:
      return (b, at) => b.readInt32LE(at);
    case GgufType.FLOAT32:
      return (b, at) => b.readFloatLE(at);
    case GgufType.FLOAT64:
      return (b, at) => b.readDoubleLE(at);
    case GgufType.UINT64:
      return (b, at) => b.readBigUInt64LE(at);
    case GgufType.INT64:
      return (b, at) => b.readBigInt64LE(at);
    default:
      throw new Error(`not a fixed-size type: ${type}`);
  }
}

function badBool(c: Cursor, byte: number, at: number): GgufError {
  return c.error(`${c.context} has a bool stored as ${byte}; a bool is 0 or 1`, at, 'corrupt', hints.corrupt);
}

async function readArray(c: Cursor, depth: number): Promise<GgufArray> {
  const at = c.pos;
  if (depth >= MAX_ARRAY_DEPTH) throw c.error(`${c.context} nests arrays more than ${MAX_ARRAY_DEPTH} deep`, at, 'corrupt', hints.corrupt);
  await c.need(12);
  const itemType = c.u32();
  if (!isGgufType(itemType)) throw c.error(`${c.context} is an array of value type ${itemType}, which GGUF does not define`, at, 'corrupt', hints.corrupt);
  const count = c.u64Number('its array length');
  const least = count * minimumSize(itemType);
  if (least > c.size - c.pos) {
    throw c.error(
      `${c.context} declares an array of ${count} ${ggufTypeName(itemType)} items, which needs at least ${least} bytes, but the file has ${c.size - c.pos} left (offset ${c.pos})`,
      c.pos,
      'truncated',
      hints.truncated,
    );
  }
  switch (itemType) {
    case GgufType.STRING: {
      // Vocabularies hold hundreds of thousands of strings: take them straight from the buffer while they are in it.
      const items: string[] = new Array(count);
      for (let i = 0; i < count; i++) items[i] = c.bufferedString() ?? (await c.string(() => `item ${i} of its array`));
      return { itemType, items };
    }
    case GgufType.ARRAY: {
      const items: GgufArray[] = new Array(count);
      for (let i = 0; i < count; i++) items[i] = await readArray(c, depth + 1);
      return { itemType, items };
    }
    default: {
      // Fixed-size items: the whole array is in the buffer after one read.
      const size = fixedSize(itemType)!;
      await c.need(count * size);
      const read = scalarReader(itemType);
      const b = c.buf;
      const start = c.pos - c.bufStart;
      if (itemType === GgufType.BOOL) {
        const items: boolean[] = new Array(count);
        for (let i = 0; i < count; i++) {
          const byte = b[start + i];
          if (byte > 1) throw badBool(c, byte, c.pos + i);
          items[i] = byte === 1;
        }
        c.pos += count;
        return { itemType, items };
      }
      const items: unknown[] = new Array(count);
      for (let i = 0, at = start; i < count; i++, at += size) items[i] = read(b, at);
      c.pos += count * size;
      return { itemType, items } as GgufArray;
    }
  }
}

async function readTensorInfo(c: Cursor, name: string): Promise<GgufTensorInfo> {
  const at = c.pos;
  await c.need(4);
  const nDims = c.u32();
  if (nDims > GGML_MAX_DIMS) {
    throw c.error(`tensor '${name}' has ${nDims} dimensions; ggml tensors have at most ${GGML_MAX_DIMS}`, at, 'corrupt', hints.corrupt);
  }
  await c.need(nDims * 8 + 4 + 8);
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < nDims; d++) {
    const dimAt = c.pos;
    const n = c.u64Number(`dimension ${d}`);
    elements *= n;
    if (!Number.isSafeInteger(elements)) throw c.error(`tensor '${name}' has more elements than a file can hold (dims so far ${[...dims, n].join(' x ')})`, dimAt, 'corrupt', hints.corrupt);
    dims.push(n);
  }
  const typeAt = c.pos;
  const type = c.u32();
  const layout = ggmlTypeInfo(type);
  if (!layout) {
    throw c.error(
      `tensor '${name}' has ggml type ${type}, which this reader does not know`,
      typeAt,
      'unsupported',
      'the file may use a newer quantization type; update Taxonomy Studio or re-convert it to a common type (F16, Q8_0, Q4_K)',
    );
  }
  if (nDims > 0 && dims[0] % layout.blockSize !== 0) {
    throw c.error(
      `tensor '${name}' is ${layout.name}, which stores rows in blocks of ${layout.blockSize} values, but its rows have ${dims[0]} values`,
      typeAt,
      'corrupt',
      hints.corrupt,
    );
  }
  const offset = c.u64Number('its data offset');
  return { name, dims, type, offset, byteLength: (elements / layout.blockSize) * layout.typeSize, elements };
}

/** Data offsets aligned, extents inside the file, no two tensors sharing bytes. */
function checkTensorData(c: Cursor, tensors: GgufTensorInfo[], dataOffset: number, alignment: number): void {
  c.context = 'the tensor data';
  let previous: GgufTensorInfo | undefined;
  for (const t of [...tensors].sort((a, b) => a.offset - b.offset)) {
    const start = dataOffset + t.offset;
    const where = { tensor: t.name };
    if (t.offset % alignment !== 0) {
      throw c.error(
        `tensor '${t.name}' data offset ${t.offset} (file offset ${start}) is not a multiple of the alignment ${alignment}`,
        start,
        'corrupt',
        hints.corrupt,
        where,
      );
    }
    if (previous && t.offset < previous.offset + previous.byteLength) {
      throw c.error(
        `tensor '${t.name}' data (offset ${start}, ${t.byteLength} bytes) overlaps tensor '${previous.name}' (offset ${dataOffset + previous.offset}, ${previous.byteLength} bytes)`,
        start,
        'corrupt',
        hints.corrupt,
        where,
      );
    }
    if (start + t.byteLength > c.size) {
      throw c.error(
        `tensor '${t.name}' data runs past the end of the file (offset ${start}, needs ${t.byteLength} bytes, file has ${c.size})`,
        start,
        'truncated',
        hints.truncated,
        where,
      );
    }
    previous = t;
  }
}

function describeBytes(bytes: Buffer): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `bytes ${hex} ("${text}")`;
}

function ioError(file: string, offset: number, err: unknown, tensor?: string): GgufError {
  const e = err as NodeJS.ErrnoException;
  return new GgufError(`reading at offset ${offset} failed (${e.code ?? e.message})`, {
    file,
    offset,
    problem: 'io',
    tensor,
    hint: 'check the disk and that the file is still there',
    cause: err,
  });
}

/**
 * Sequential reads over the header with a read buffer. `need(n)` makes bytes [pos, pos+n) available or throws a
 * truncation error naming what was being read (`context`); the synchronous readers then take them from `buf`.
 */
class Cursor {
  buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  bufStart = 0;
  pos = 0;
  /** What is being read, for messages: "metadata key 'general.name'", "tensor 'x' info". */
  context = 'the header';
  key: string | undefined;
  tensor: string | undefined;

  constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly size: number,
  ) {}

  async need(n: number): Promise<void> {
    if (this.pos + n > this.size) {
      throw this.error(
        `${this.context} runs past the end of the file (offset ${this.pos}, needs ${n} bytes, file has ${this.size})`,
        this.pos,
        'truncated',
        hints.truncated,
      );
    }
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length) return;
    const length = Math.min(Math.max(n, READ_CHUNK), this.size - this.pos);
    const buf = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(buf, done, length - done, this.pos + done));
      } catch (err) {
        throw ioError(this.path, this.pos + done, err, this.tensor);
      }
      if (bytesRead === 0) {
        throw this.error(`${this.context}: the file got shorter while it was read (offset ${this.pos + done})`, this.pos + done, 'truncated', hints.truncated);
      }
      done += bytesRead;
    }
    this.buf = buf;
    this.bufStart = this.pos;
  }

  /** The first n bytes of the file without moving. */
  async peek(n: number): Promise<Buffer> {
    await this.need(n);
    return this.buf.subarray(this.pos - this.bufStart, this.pos - this.bufStart + n);
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.pos - this.bufStart);
    this.pos += 4;
    return v;
  }

  /** A u64 that must fit a JS number (counts, lengths, dimensions, offsets). */
  u64Number(what: string): number {
    const at = this.pos;
    const lo = this.buf.readUInt32LE(at - this.bufStart);
    const hi = this.buf.readUInt32LE(at - this.bufStart + 4);
    this.pos += 8;
    if (hi > 0x1fffff) {
      const v = this.buf.readBigUInt64LE(at - this.bufStart);
      throw this.error(`${this.context}: ${what} is ${v}, larger than any real file allows`, at, 'corrupt', hints.corrupt);
    }
    return hi * 0x100000000 + lo;
  }

  /** The next string when it lies wholly in the buffer; undefined when it does not (string() then reads or fails). */
  bufferedString(): string | undefined {
    const at = this.pos - this.bufStart;
    if (at + 8 > this.buf.length || this.buf.readUInt32LE(at + 4) !== 0) return undefined;
    const length = this.buf.readUInt32LE(at);
    if (at + 8 + length > this.buf.length) return undefined;
    this.pos += 8 + length;
    return this.buf.toString('utf8', at + 8, at + 8 + length);
  }

  async string(describe: string | (() => string)): Promise<string> {
    const what = typeof describe === 'string' ? describe : describe();
    await this.need(8);
    const at = this.pos;
    const length = this.u64Number(`the length of ${what}`);
    if (length > this.size - this.pos) {
      throw this.error(
        `${this.context}: ${what} is a string of ${length} bytes that runs past the end of the file (offset ${at}, file has ${this.size})`,
        at,
        'truncated',
        hints.truncated,
      );
    }
    await this.need(length);
    const start = this.pos - this.bufStart;
    this.pos += length;
    return this.buf.toString('utf8', start, start + length);
  }

  error(what: string, offset: number, problem: ModelFileProblem, hint?: string, where: { key?: string; tensor?: string } = {}): GgufError {
    return new GgufError(what, {
      file: this.path,
      offset,
      problem,
      hint,
      key: where.key ?? this.key,
      tensor: where.tensor ?? this.tensor,
    });
  }
}
