// The base model's weights with a LoRA adapter merged in, as a TensorReader: reading an adapted weight (whole, or any
// range of it) returns W + scale · B A for that range, in the weight's own dtype; every other tensor reads straight
// from the base. Writers that stream a TensorReader (the safetensors copy in hf.ts, the GGUF converter) thereby write
// the merged model without it ever being held in memory: a read merges only the rows it covers, and only the current
// module's A and B are kept.
import { f32ToBf16Bytes, f32ToF16Bytes } from '../../hf/halfFloat';
import { dtypeSizes, type TensorInfo, type TensorReader } from '../../hf/safetensors';
import type { LoraModule, PeftAdapter } from '../lora/peft';
import { mergeRowsInto, type LoraFactors } from './mergeRows';

export interface MergedWeights extends TensorReader {
  /** The base weights the adapter changes, by name. */
  readonly adapted: ReadonlySet<string>;
}

/**
 * A view of `weights` with `adapter` merged in. The adapter's modules must already be checked against the base
 * (checkAdapterFitsBase); closing the view closes neither the weights nor the adapter.
 */
export function mergedWeights(weights: TensorReader, adapter: Pick<PeftAdapter, 'modules' | 'readA' | 'readB'>): MergedWeights {
  const modules = new Map<string, LoraModule>(adapter.modules.map((m) => [m.weight, m]));
  // The factors of the module read last: readers go through a tensor slice by slice, so one entry is enough.
  let cached: { weight: string; factors: Promise<LoraFactors> } | undefined;
  const factorsOf = (m: LoraModule): Promise<LoraFactors> => {
    if (cached?.weight !== m.weight) {
      const factors = Promise.all([adapter.readA(m), adapter.readB(m)]).then(([a, b]) => ({ a, b, rank: m.rank, inDim: m.inDim, outDim: m.outDim, scale: m.scale }));
      cached = { weight: m.weight, factors };
      factors.catch(() => {
        if (cached?.factors === factors) cached = undefined;
      });
    }
    return cached.factors;
  };

  /** Merged float32 values of elements [start, start + count) of an adapted weight. */
  const mergedRange = async (m: LoraModule, start: number, count: number): Promise<Float32Array> => {
    if (count === 0) return new Float32Array(0);
    const firstRow = Math.floor(start / m.inDim);
    const endRow = Math.ceil((start + count) / m.inDim);
    const block = await weights.readFloat32Range(m.weight, firstRow * m.inDim, (endRow - firstRow) * m.inDim);
    mergeRowsInto(block, firstRow, await factorsOf(m));
    const from = start - firstRow * m.inDim;
    return from === 0 && count === block.length ? block : block.slice(from, from + count);
  };

  const info = (name: string): TensorInfo & { file: string } => weights.info(name);
  return {
    names: weights.names,
    adapted: new Set(modules.keys()),
    has: (name) => weights.has(name),
    info,
    async readRaw(name, byteStart = 0, byteLength) {
      const m = modules.get(name);
      if (!m) return weights.readRaw(name, byteStart, byteLength);
      const t = info(name);
      const size = dtypeSizes[t.dtype];
      const length = byteLength ?? t.byteLength - byteStart;
      if (byteStart % size !== 0 || length % size !== 0 || byteStart < 0 || length < 0 || byteStart + length > t.byteLength) {
        throw new RangeError(`bytes ${byteStart}..${byteStart + length} of ${name} are not whole ${t.dtype} elements inside its ${t.byteLength} bytes`);
      }
      return encode(await mergedRange(m, byteStart / size, length / size), t.dtype);
    },
    async readRawInto(name, byteStart, target) {
      if (!modules.has(name) && weights.readRawInto) return weights.readRawInto(name, byteStart, target);
      target.set(await this.readRaw(name, byteStart, target.length));
    },
    async readFloat32(name) {
      const m = modules.get(name);
      return m ? mergedRange(m, 0, m.outDim * m.inDim) : weights.readFloat32(name);
    },
    async readFloat32Range(name, start, count) {
      const m = modules.get(name);
      if (!m) return weights.readFloat32Range(name, start, count);
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > m.outDim * m.inDim) {
        throw new RangeError(`elements ${start}..${start + count} are outside ${name} (${m.outDim * m.inDim} elements)`);
      }
      return mergedRange(m, start, count);
    },
    async close() {
      cached = undefined;
    },
  };
}

/** float32 values as the bytes of a float dtype (little-endian). */
function encode(values: Float32Array, dtype: TensorInfo['dtype']): Buffer {
  switch (dtype) {
    case 'F32':
      return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    case 'F16':
      return Buffer.from(f32ToF16Bytes(values).buffer);
    case 'BF16':
      return Buffer.from(f32ToBf16Bytes(values).buffer);
    case 'F64': {
      const wide = Float64Array.from(values);
      return Buffer.from(wide.buffer);
    }
    default:
      throw new RangeError(`a LoRA cannot be merged into a ${dtype} weight; only float weights take one`);
  }
}
