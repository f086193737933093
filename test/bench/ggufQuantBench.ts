// Quantization throughput: F16 weights (what a Hugging Face checkpoint holds) re-encoded as each type, on the calling
// thread and on a QuantPool of os.availableParallelism() workers, in MB/s of F16 input, beside a memcpy of the same
// bytes in the same run; with each type's relative RMSE on those weights.
// Options: --quant-values=N (default 64Mi values = 128 MiB of F16), --quant-types=Q4_K,Q8_0,..., --quant-runs=N (best of
// N timings, default 2).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { GgmlType, ggmlTypeName } from '../../engine/gguf/ggmlTypes';
import { codecFor, convert, dequantize, quantize } from '../../engine/gguf/quant/index';
import { QuantPool } from '../../engine/gguf/quant/pool';
import { printTable, type Row } from './table';

const TYPES = [GgmlType.F32, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q5_K, GgmlType.Q4_K, GgmlType.Q5_0, GgmlType.Q4_0];

/** Gaussian weights with sigma 0.02 (a typical initializer scale), as F16 bytes. */
function f16Weights(n: number): Uint8Array {
  const x = new Float32Array(Math.min(n, 1 << 20));
  let s = 0x9e3779b9;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const out = new Uint8Array(n * 2);
  for (let done = 0; done < n; done += x.length) {
    const k = Math.min(x.length, n - done);
    for (let i = 0; i < k; i += 2) {
      const r = 0.02 * Math.sqrt(-2 * Math.log(uniform()));
      const a = 2 * Math.PI * uniform();
      x[i] = r * Math.cos(a);
      x[i + 1] = r * Math.sin(a);
    }
    out.set(quantize(GgmlType.F16, k === x.length ? x : x.subarray(0, k)), done * 2);
  }
  return out;
}

function best<T>(runs: number, fn: () => T): { ms: number; result: T } {
  let ms = Infinity;
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, result };
}

export async function runQuantBench(args: string[]): Promise<void> {
  const n = Math.ceil(Number(args.find((a) => a.startsWith('--quant-values='))?.slice(15) ?? 64 * 2 ** 20) / 256) * 256;
  const only = args.find((a) => a.startsWith('--quant-types='))?.slice(14).toUpperCase().split(',');
  const types = only ? TYPES.filter((t) => only.includes(ggmlTypeName(t))) : TYPES;
  const runs = Number(args.find((a) => a.startsWith('--quant-runs='))?.slice(13) ?? 2);
  const cores = os.availableParallelism();
  const input = f16Weights(n);
  const mb = input.length / 1e6;

  // Destinations are allocated and touched once: first-touch page faults are not what is being measured.
  const copyDst = new Uint8Array(input.length).fill(1);
  const out = new Uint8Array(n * 4).fill(1);
  const pooledOut = new Uint8Array(n * 4).fill(1);
  const copy = best(3, () => copyDst.set(input));
  const copyRate = mb / (copy.ms / 1000);

  // Error on the first 1Mi values, against their f16 values.
  const sampleN = Math.min(n, 1 << 20);
  const sample = dequantize(GgmlType.F16, input, sampleN);
  let power = 0;
  for (const v of sample) power += v * v;

  const pool = new QuantPool();
  const rows: Row[] = [];
  try {
    await pool.convert(GgmlType.F16, GgmlType.Q8_0, input.subarray(0, Math.min(input.length, 1 << 21))); // start the workers
    for (const type of types) {
      const len = (n / codecFor(type).blockSize) * codecFor(type).typeSize;
      const single = best(runs, () => convert(GgmlType.F16, type, input, out).subarray(0, len));
      let poolMs = Infinity;
      let pooled: Uint8Array = pooledOut;
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        pooled = (await pool.convert(GgmlType.F16, type, input, pooledOut)).subarray(0, len);
        poolMs = Math.min(poolMs, performance.now() - t0);
      }
      if (Buffer.compare(pooled, single.result) !== 0) throw new Error(`${ggmlTypeName(type)}: pool and single-threaded bytes differ`);
      const back = dequantize(type, quantize(type, sample), sampleN);
      let se = 0;
      for (let i = 0; i < sampleN; i++) se += (back[i] - sample[i]) ** 2;
      const poolRate = mb / (poolMs / 1000);
      rows.push({
        type: ggmlTypeName(type),
        'single MB/s': mb / (single.ms / 1000),
        'single ms': single.ms,
        [`pool(${pool.size}) MB/s`]: poolRate,
        'pool ms': poolMs,
        speedup: single.ms / poolMs,
        'pool % of memcpy': (100 * poolRate) / copyRate,
        'out MB': single.result.length / 1e6,
        'rel RMSE %': 100 * Math.sqrt(se / power),
      });
    }
  } finally {
    await pool.close();
  }
  rows.push({ type: 'memcpy', 'single MB/s': copyRate, 'single ms': copy.ms });
  printTable(
    `Quantization of ${(n / 2 ** 20).toFixed(0)}Mi F16 values (${mb.toFixed(0)} MB, gaussian sigma 0.02), MB/s of F16 input, ` +
      `best of ${runs}; ${cores} cores; target: Q4_K >= 500 MB/s`,
    rows,
  );
}
