// Hugging Face folder → GGUF, streaming: tensors are read in slices of whole rows (whole heads for q/k), reordered,
// converted or quantized and written, a bounded number of bytes ahead of the writer, so memory holds a few slices
// whatever the model's size. Reading and converting the next slices overlap with writing the current one. The file
// appears under its final name only when complete (GgufWriter writes a temporary file and renames it).
import { availableParallelism } from 'node:os';
import { GgmlType, ggmlTypeInfo, ggmlTypeName } from '../ggmlTypes';
import { convert as convertInline, encodedByteLength, QuantizeError } from '../quant';
import { GgufWriteError } from '../errors';
import type { QuantMix } from '../quant/mixes';
import { QuantPool } from '../quant/pool';
import { GgufWriter, type GgufWriterOptions } from '../writer';
import { readModelFolder } from '../../hf/modelFolder';
import { dtypeSizes, type TensorReader } from '../../hf/safetensors';
import { ConvertError } from './errors';
import { BufferPool, TensorBytesReader } from './io';
import { permuteRopeRows } from './permute';
import { planConversion, type ConversionPlan, type PlannedTensor } from './plan';

export interface ConvertProgress {
  tensor: string;
  /** Index of the tensor being written, from 0. */
  index: number;
  count: number;
  /** Input bytes converted so far, of inputBytes. */
  bytesDone: number;
  inputBytes: number;
}

export interface ConvertOptions {
  /** Worker threads for converting and quantizing (default: the machine's parallelism); 1 converts on this thread. */
  threads?: number;
  /** Workers to convert on, kept open afterwards (a long-lived process reuses them); overrides `threads`. */
  pool?: QuantPool;
  /** general.name (default: the folder's name). */
  name?: string;
  /** Bytes of input per slice (default 16 MiB): the unit of reading, converting and writing. */
  sliceBytes?: number;
  /** Input bytes read and converted ahead of the writer (default one slice); with sliceBytes it bounds memory. */
  aheadBytes?: number;
  onProgress?(progress: ConvertProgress): void;
  /** Called with each warning as soon as it is known (they are also returned). */
  onWarning?(warning: string): void;
  signal?: AbortSignal;
  /** Passed to the GGUF writer (tests use it to simulate a full disk). */
  writer?: GgufWriterOptions;
}

export interface ConvertResult {
  path: string;
  /** Bytes of the GGUF file. */
  size: number;
  arch: string;
  mix: QuantMix;
  /** Tensor count by type name, e.g. { F32: 5, Q4_K: 12, Q6_K: 3 }. */
  types: Record<string, number>;
  tensors: { name: string; type: string; dims: number[] }[];
  /** Bytes of tensor data read. */
  inputBytes: number;
  warnings: string[];
}

/** Converts the model folder `dir` to a GGUF file at `out` with the quantization mix `mix`. */
export async function convertHfToGguf(dir: string, out: string, mix: QuantMix, options: ConvertOptions = {}): Promise<ConvertResult> {
  const folder = await readModelFolder(dir);
  const weights = await folder.openWeights();
  try {
    const plan = planConversion(folder, weights, mix, options.name === undefined ? {} : { name: options.name });
    for (const w of plan.warnings) options.onWarning?.(w);
    const { size } = await writePlan(plan, weights, out, options);
    const types: Record<string, number> = {};
    for (const t of plan.tensors) types[ggmlTypeName(t.type)] = (types[ggmlTypeName(t.type)] ?? 0) + 1;
    return {
      path: out,
      size,
      arch: plan.arch,
      mix,
      types,
      tensors: plan.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), dims: t.dims })),
      inputBytes: plan.inputBytes,
      warnings: plan.warnings,
    };
  } finally {
    await weights.close();
  }
}

/** Writes a planned conversion to `out`; on any failure nothing is left under `out` (an older file there survives). */
export async function writePlan(plan: ConversionPlan, weights: TensorReader, out: string, options: ConvertOptions = {}): Promise<{ size: number }> {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  // Only block quantization is worth a worker: an element-wise change of float width (F32/F16/BF16) runs at GB/s
  // inline, and the pool's copies to and from the worker would cost more than the work (measured: 0.8 s inline against
  // 1.1 s pooled for a 352 MB BF16 -> F16 conversion).
  const pooled = (to: GgmlType) => (ggmlTypeInfo(to)?.blockSize ?? 1) > 1;
  const needsWork = plan.tensors.some((t) => t.source.kind === 'weights' && t.source.type !== t.type && pooled(t.type));
  const ownPool = !options.pool && threads > 1 && needsWork ? new QuantPool({ size: threads }) : undefined;
  const pool = options.pool ?? ownPool;
  const reader = new TensorBytesReader(weights);
  const writer = await GgufWriter.create(out, options.writer);
  try {
    for (const [key, value] of plan.metadata) writer.set(key, value);
    for (const t of plan.tensors) writer.addTensor(t.name, t.dims, t.type);
    const encode: Encode = (from, to, bytes, into) => (pool && pooled(to) ? pool.convert(from, to, bytes, into) : convertInline(from, to, bytes, into));
    const sliceBytes = options.sliceBytes ?? 16 << 20;
    const slices = new SlicePipeline(plan, reader, encode, sliceBytes, options.aheadBytes ?? sliceBytes, options.signal);
    let bytesDone = 0;
    for (let index = 0; index < plan.tensors.length; index++) {
      const t = plan.tensors[index];
      options.signal?.throwIfAborted();
      options.onProgress?.({ tensor: t.name, index, count: plan.tensors.length, bytesDone, inputBytes: plan.inputBytes });
      await writer.writeTensorChunks(t.name, slices.slicesOf(index));
      if (t.source.kind === 'weights') bytesDone += t.source.byteLength;
    }
    options.signal?.throwIfAborted();
    return await writer.finish();
  } catch (err) {
    await writer.abort();
    // The writer reports whatever stops a tensor's data as a write failure; a failure to read or convert the source
    // is the source's problem, so it is reported as itself.
    const cause = (err as Error).cause;
    throw err instanceof GgufWriteError && cause instanceof SourceFailure ? cause.error : err;
  } finally {
    await ownPool?.close();
    await reader.close();
  }
}

/** Carries a read or conversion failure through the writer, which wraps what its data source throws. */
class SourceFailure extends Error {
  constructor(readonly error: unknown) {
    super((error as Error)?.message ?? String(error));
    this.name = 'SourceFailure';
  }
}

type Encode = (from: GgmlType, to: GgmlType, bytes: Uint8Array, into: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** How a tensor is cut: slices of `sliceRows` rows (whole heads when q/k rows are reordered) of `rowBytes` bytes. */
interface Geometry {
  rows: number;
  sliceRows: number;
  rowBytes: number;
}

function geometryOf(t: PlannedTensor, sliceBytes: number): Geometry {
  const src = t.source;
  if (src.kind === 'generated') return { rows: 1, sliceRows: 1, rowBytes: src.data.byteLength };
  const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = t.dims[0] * dtypeSizes[src.dtype];
  // One row (or head) may exceed sliceBytes.
  const unit = src.ropeHeadDim ?? 1;
  if (rows % unit !== 0) throw new Error(`internal: ${src.name} has ${rows} rows, not whole heads of ${unit}`);
  return { rows, sliceRows: Math.max(unit, Math.floor(sliceBytes / rowBytes / unit) * unit), rowBytes };
}

/**
 * The converted slices of every tensor in plan order, read and converted ahead of the writer across tensor
 * boundaries (small tensors would otherwise leave the disk and the workers idle in turn), with at most `aheadBytes`
 * of input (and at least one slice) in flight.
 */
class SlicePipeline {
  private readonly geometry: Geometry[];
  private readonly queue: { tensor: number; bytes: number; data: Promise<Uint8Array> }[] = [];
  private readonly buffers: BufferPool;
  private tensor = 0;
  private row = 0;
  private inFlight = 0;

  constructor(
    private readonly plan: ConversionPlan,
    private readonly reader: TensorBytesReader,
    private readonly encode: Encode,
    sliceBytes: number,
    private readonly aheadBytes: number,
    private readonly signal?: AbortSignal,
  ) {
    this.geometry = plan.tensors.map((t) => geometryOf(t, sliceBytes));
    // Enough spare buffers for the slices in flight, their reordered copies and converted forms.
    this.buffers = new BufferPool(4 * Math.max(sliceBytes, aheadBytes));
  }

  /** The slices of tensor `index`, which must be asked for in plan order. */
  async *slicesOf(index: number): AsyncGenerator<Uint8Array> {
    for (;;) {
      this.fill();
      const head = this.queue[0];
      if (!head || head.tensor !== index) return;
      // Cancel between slices, so a large tensor does not hold a cancelled conversion up.
      if (this.signal?.aborted) throw new SourceFailure(this.signal.reason);
      this.queue.shift();
      this.inFlight -= head.bytes;
      const data = await head.data;
      yield data;
      // The writer asks for the next slice only once this one is written.
      this.buffers.give(data);
    }
  }

  private fill(): void {
    while (this.tensor < this.plan.tensors.length && (this.queue.length === 0 || this.inFlight < this.aheadBytes)) {
      const g = this.geometry[this.tensor];
      const rows = Math.min(g.sliceRows, g.rows - this.row);
      const data = this.produce(this.plan.tensors[this.tensor], this.row, rows);
      // Slices ahead of a failed write are never awaited; their own failures must not go unhandled.
      data.catch(() => undefined);
      this.queue.push({ tensor: this.tensor, bytes: rows * g.rowBytes, data });
      this.inFlight += rows * g.rowBytes;
      this.row += rows;
      if (this.row >= g.rows) {
        this.tensor++;
        this.row = 0;
      }
    }
  }

  /** Reads, reorders and converts `rows` rows of `t` from `firstRow`; failures come out as SourceFailure. */
  private async produce(t: PlannedTensor, firstRow: number, rows: number): Promise<Uint8Array> {
    const src = t.source;
    try {
      if (src.kind === 'generated') {
        const values = new Uint8Array(src.data.buffer, src.data.byteOffset, src.data.byteLength);
        return t.type === GgmlType.F32 ? values : await this.encode(GgmlType.F32, t.type, values, new Uint8Array(encodedByteLength(t.type, src.data.length)));
      }
      const rowLength = t.dims[0];
      let bytes: Uint8Array;
      if (src.dtype === 'F64') {
        const values = await this.reader.float32Range(src.name, firstRow * rowLength, rows * rowLength);
        bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      } else {
        const rowBytes = rowLength * dtypeSizes[src.dtype];
        bytes = this.buffers.take(rows * rowBytes);
        await this.reader.readInto(src.name, firstRow * rowBytes, bytes);
      }
      if (src.ropeHeadDim) {
        const reordered = permuteRopeRows(bytes, rowLength * ggmlTypeInfo(src.type)!.typeSize, src.ropeHeadDim, this.buffers.take(bytes.length));
        this.buffers.give(bytes);
        bytes = reordered;
      }
      if (src.type === t.type) return bytes;
      const converted = await this.encode(src.type, t.type, bytes, this.buffers.take(encodedByteLength(t.type, rows * rowLength)));
      // The pool copies its input into its own transfer buffers, so the input is free once the call returns.
      this.buffers.give(bytes);
      return converted;
    } catch (err) {
      if (err instanceof QuantizeError && src.kind === 'weights') {
        // Name the tensor: the element index is within this slice, which starts on a whole row.
        const at = err.index + firstRow * t.dims[0];
        throw new SourceFailure(
          new ConvertError(src.file, `tensor '${src.name}' element ${at} is ${err.value}; ${err.typeName} holds finite values only`, 'the weights are corrupt or overflowed; re-save them', src.name),
        );
      }
      throw new SourceFailure(err);
    }
  }
}
