// Hugging Face folder → GGUF, streaming: tensors are read in slices of whole rows (whole heads for q/k), reordered,
// converted or quantized and written before the next slice is read, so memory holds a few slices whatever the model's
// size. Reading the next slice and converting it overlap with writing the previous one. The file appears under its
// final name only when complete (GgufWriter writes a temporary file and renames it).
import { availableParallelism } from 'node:os';
import { GgmlType, ggmlTypeInfo, ggmlTypeName } from '../ggmlTypes';
import { convert as convertInline, QuantizeError } from '../quant';
import { GgufWriteError } from '../errors';
import type { QuantMix } from '../quant/mixes';
import { QuantPool } from '../quant/pool';
import { GgufWriter, type GgufWriterOptions } from '../writer';
import { readModelFolder } from '../../hf/modelFolder';
import { dtypeSizes, type TensorReader } from '../../hf/safetensors';
import { ConvertError } from './errors';
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
  /** general.name (default: the folder's name). */
  name?: string;
  /** Bytes of input per slice (default 32 MiB): the unit of reading, converting and writing. */
  sliceBytes?: number;
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
  const needsWork = plan.tensors.some((t) => t.source.kind === 'weights' && t.source.type !== t.type);
  const pool = threads > 1 && needsWork ? new QuantPool({ size: threads }) : undefined;
  const writer = await GgufWriter.create(out, options.writer);
  try {
    for (const [key, value] of plan.metadata) writer.set(key, value);
    for (const t of plan.tensors) writer.addTensor(t.name, t.dims, t.type);
    const encode = (from: GgmlType, to: GgmlType, bytes: Uint8Array): Promise<Uint8Array> | Uint8Array =>
      from === to ? bytes : pool ? pool.convert(from, to, bytes) : convertInline(from, to, bytes);
    let bytesDone = 0;
    for (let index = 0; index < plan.tensors.length; index++) {
      const t = plan.tensors[index];
      options.signal?.throwIfAborted();
      options.onProgress?.({ tensor: t.name, index, count: plan.tensors.length, bytesDone, inputBytes: plan.inputBytes });
      await writer.writeTensorChunks(t.name, tensorSlices(t, weights, encode, options));
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
    await pool?.close();
  }
}

/** Carries a read or conversion failure through the writer, which wraps what its data source throws. */
class SourceFailure extends Error {
  constructor(readonly error: unknown) {
    super((error as Error)?.message ?? String(error));
    this.name = 'SourceFailure';
  }
}

type Encode = (from: GgmlType, to: GgmlType, bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/**
 * The converted bytes of one tensor, slice by slice. The next slice is read and converted while the caller writes
 * the current one (one slice of look-ahead).
 */
async function* tensorSlices(t: PlannedTensor, weights: TensorReader, encode: Encode, options: ConvertOptions): AsyncGenerator<Uint8Array> {
  const src = t.source;
  if (src.kind === 'generated') {
    let bytes: Uint8Array;
    try {
      bytes = await encode(GgmlType.F32, t.type, new Uint8Array(src.data.buffer, src.data.byteOffset, src.data.byteLength));
    } catch (err) {
      throw new SourceFailure(err);
    }
    yield bytes;
    return;
  }
  const rowLength = t.dims[0];
  const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const elementBytes = dtypeSizes[src.dtype];
  const rowBytes = rowLength * elementBytes;
  // Slices hold whole rows, and whole heads when rows are reordered; one row may exceed sliceBytes.
  const unit = src.ropeHeadDim ?? 1;
  const target = options.sliceBytes ?? 32 << 20;
  const sliceRows = Math.max(unit, Math.floor(target / rowBytes / unit) * unit);
  if (rows % unit !== 0) throw new Error(`internal: ${src.name} has ${rows} rows, not whole heads of ${unit}`);

  const produce = (firstRow: number): Promise<Uint8Array> =>
    produceSlice(firstRow).catch((err: unknown) => {
      if (err instanceof QuantizeError) {
        // Name the tensor: the element index is within it (slices start on whole rows).
        const at = err.index + firstRow * rowLength;
        err = new ConvertError(src.file, `tensor '${src.name}' element ${at} is ${err.value}; ${err.typeName} holds finite values only`, 'the weights are corrupt or overflowed; re-save them', src.name);
      }
      throw new SourceFailure(err);
    });
  const produceSlice = async (firstRow: number): Promise<Uint8Array> => {
    const n = Math.min(sliceRows, rows - firstRow);
    let bytes: Uint8Array;
    if (src.dtype === 'F64') {
      const values = await weights.readFloat32Range(src.name, firstRow * rowLength, n * rowLength);
      bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    } else {
      bytes = await weights.readRaw(src.name, firstRow * rowBytes, n * rowBytes);
    }
    const sourceRowBytes = rowLength * ggmlTypeInfo(src.type)!.typeSize;
    if (src.ropeHeadDim) bytes = permuteRopeRows(bytes, sourceRowBytes, src.ropeHeadDim);
    return encode(src.type, t.type, bytes);
  };

  let pending: Promise<Uint8Array> | undefined = produce(0);
  for (let row = 0; row < rows; row += sliceRows) {
    const current: Promise<Uint8Array> = pending!;
    pending = row + sliceRows < rows ? produce(row + sliceRows) : undefined;
    // If the caller stops early (the write failed), the look-ahead's own failure must not go unhandled.
    pending?.catch(() => undefined);
    yield await current;
  }
}
