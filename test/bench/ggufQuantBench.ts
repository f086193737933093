// Quantization throughput: F16 weights (what a Hugging Face checkpoint holds) re-encoded as each type, with the
// TypeScript kernels and with the native ones (dist/native/quant.node) side by side, each on the calling thread and
// on a QuantPool of os.availableParallelism() workers, in MB/s of F16 input, beside a memcpy of the same bytes in the
// same run; with each type's relative RMSE on those weights. Then F32 -> F16 narrowing (the converter's F16 path), in
// MB/s of F32 input. Both kernels give the same bytes; the bench checks that too.
// Options: --quant-values=N (default 64Mi values = 128 MiB of F16), --quant-types=Q4_K,Q8_0,..., --quant-runs=N (best of
// N timings, default 2).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { GgmlType, ggmlTypeName } from '../../engine/gguf/ggmlTypes';
import { type Codec, CONVERT_STEP, codecFor, convert, dequantize, jsCodecs, quantBackend, quantize } from '../../engine/gguf/quant/index';
import { loadNativeQuant, nativeStatus } from '../../engine/gguf/quant/native';
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

/** convert() with the TypeScript codecs, whatever the process uses (the same loop as convert in quant/index). */
function convertJs(from: GgmlType, to: GgmlType, bytes: Uint8Array, out: Uint8Array): Uint8Array {
  const cf = jsCodecs.get(from) as Codec;
  const ct = jsCodecs.get(to) as Codec;
  const count = (bytes.length / cf.typeSize) * cf.blockSize;
  const vals = new Float32Array(CONVERT_STEP);
  for (let done = 0; done < count; done += CONVERT_STEP) {
    const n = Math.min(CONVERT_STEP, count - done);
    cf.decode(bytes, (done / cf.blockSize) * cf.typeSize, vals, 0, n / cf.blockSize);
    ct.encode(vals, 0, out, (done / ct.blockSize) * ct.typeSize, n / ct.blockSize);
  }
  return out.subarray(0, (count / ct.blockSize) * ct.typeSize);
}

/** A pool whose workers use the TypeScript kernels: workers copy process.env when they start. */
async function jsPool(warm: Uint8Array): Promise<QuantPool> {
  const saved = process.env.TAXONOMY_STUDIO_NATIVE;
  process.env.TAXONOMY_STUDIO_NATIVE = '0';
  try {
    const pool = new QuantPool();
    await pool.convert(GgmlType.F16, GgmlType.Q8_0, warm); // starts every worker
    return pool;
  } finally {
    if (saved === undefined) delete process.env.TAXONOMY_STUDIO_NATIVE;
    else process.env.TAXONOMY_STUDIO_NATIVE = saved;
  }
}

async function bestAsync(runs: number, fn: () => Promise<Uint8Array>): Promise<{ ms: number; result: Uint8Array }> {
  let ms = Infinity;
  let result!: Uint8Array;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await fn();
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
  const native = quantBackend === 'native';
  console.log(`\nquantization kernels: ${nativeStatus()}`);

  // Destinations are allocated and touched once: first-touch page faults are not what is being measured.
  const copyDst = new Uint8Array(input.length).fill(1);
  const out = new Uint8Array(n * 4).fill(1);
  const jsOut = new Uint8Array(n * 4).fill(1);
  const pooledOut = new Uint8Array(n * 4).fill(1);
  const copy = best(3, () => copyDst.set(input));
  const copyRate = mb / (copy.ms / 1000);

  // Error on the first 1Mi values, against their f16 values.
  const sampleN = Math.min(n, 1 << 20);
  const sample = dequantize(GgmlType.F16, input, sampleN);
  let power = 0;
  for (const v of sample) power += v * v;

  const warm = input.subarray(0, Math.min(input.length, 1 << 21));
  const poolJs = await jsPool(warm);
  const pool = new QuantPool();
  const rows: Row[] = [];
  const rate = (ms: number) => mb / (ms / 1000);
  let q4kPool = NaN;
  try {
    await pool.convert(GgmlType.F16, GgmlType.Q8_0, warm); // start the workers
    for (const type of types) {
      const name = ggmlTypeName(type);
      const len = (n / codecFor(type).blockSize) * codecFor(type).typeSize;
      const js1 = best(runs, () => convertJs(GgmlType.F16, type, input, jsOut));
      const jsP = await bestAsync(runs, () => poolJs.convert(GgmlType.F16, type, input, pooledOut));
      if (Buffer.compare(jsP.result.subarray(0, len), js1.result) !== 0) throw new Error(`${name}: pool and single-threaded bytes differ`);
      const row: Row = { type: name, 'JS 1 thr MB/s': rate(js1.ms), [`JS pool(${poolJs.size}) MB/s`]: rate(jsP.ms) };
      if (native) {
        const nat1 = best(runs, () => convert(GgmlType.F16, type, input, out).subarray(0, len));
        const natP = await bestAsync(runs, () => pool.convert(GgmlType.F16, type, input, pooledOut));
        if (Buffer.compare(nat1.result, js1.result) !== 0) throw new Error(`${name}: native and TypeScript bytes differ`);
        if (Buffer.compare(natP.result.subarray(0, len), js1.result) !== 0) throw new Error(`${name}: native pool and TypeScript bytes differ`);
        row['native 1 thr MB/s'] = rate(nat1.ms);
        row[`native pool(${pool.size}) MB/s`] = rate(natP.ms);
        row['native/JS (pool)'] = jsP.ms / natP.ms;
        row['pool % of memcpy'] = (100 * rate(natP.ms)) / copyRate;
        if (type === GgmlType.Q4_K) q4kPool = rate(natP.ms);
      } else {
        row['pool % of memcpy'] = (100 * rate(jsP.ms)) / copyRate;
        if (type === GgmlType.Q4_K) q4kPool = rate(jsP.ms);
      }
      row['out MB'] = len / 1e6;
      const back = dequantize(type, quantize(type, sample), sampleN);
      let se = 0;
      for (let i = 0; i < sampleN; i++) se += (back[i] - sample[i]) ** 2;
      row['rel RMSE %'] = 100 * Math.sqrt(se / power);
      rows.push(row);
    }

    // F32 -> F16 (what `convert --type f16` does to F32 checkpoints), in MB/s of F32 input.
    const f32 = new Uint8Array(dequantize(GgmlType.F16, input, n).buffer);
    const f32mb = f32.length / 1e6;
    const f32Copy = new Uint8Array(f32.length).fill(1);
    const copy32 = best(3, () => f32Copy.set(f32));
    const js1 = best(runs, () => convertJs(GgmlType.F32, GgmlType.F16, f32, jsOut));
    const row: Row = { type: 'F32->F16', 'JS 1 thr MB/s': f32mb / (js1.ms / 1000) };
    if (native) {
      const nat1 = best(runs, () => convert(GgmlType.F32, GgmlType.F16, f32, out).subarray(0, input.length));
      if (Buffer.compare(nat1.result, js1.result) !== 0) throw new Error('F16 narrowing: native and TypeScript bytes differ');
      row['native 1 thr MB/s'] = f32mb / (nat1.ms / 1000);
      row['pool % of memcpy'] = (100 * (f32mb / (nat1.ms / 1000))) / (f32mb / (copy32.ms / 1000));
    }
    rows.push(row);
  } finally {
    await Promise.all([pool.close(), poolJs.close()]);
  }
  rows.push({ type: 'memcpy', 'JS 1 thr MB/s': copyRate });
  printTable(
    `Quantization of ${(n / 2 ** 20).toFixed(0)}Mi F16 values (${mb.toFixed(0)} MB, gaussian sigma 0.02), MB/s of F16 input ` +
      `(F32->F16: of F32 input, single thread; its % column is of a memcpy of the F32 bytes), best of ${runs}; ${cores} cores; ` +
      'native and TypeScript bytes checked equal',
    rows,
  );
  const verdict = q4kPool >= 500 ? 'reaches' : 'does not reach';
  if (Number.isFinite(q4kPool)) {
    const kernels = native ? `native ${loadNativeQuant()?.isa ?? ''} kernels` : 'TypeScript kernels';
    console.log(`Q4_K on ${pool.size} workers (${kernels}): ${q4kPool.toFixed(0)} MB/s of F16 input, ${verdict} the 500 MB/s target`);
  }
}
