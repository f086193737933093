// HF → GGUF conversion (npm run bench -- gguf): the `small` fixture model's safetensors converted to F16, Q8_0 and
// Q4_K_M by `taxonomy-studio convert` in MB/s of safetensors input, beside `cp` of the same file in the same run (the
// disk's rate); the converter's peak RSS as a child process for two model sizes (it must not grow with the model);
// and the KL divergence of llama.cpp's next-token distributions for each quantized file from the F16 file.
// Options: --gguf-dtype=bf16|f16|f32 (safetensors dtype, default bf16 as most checkpoints ship), --gguf-runs=N (best
// of N timings, default 3), --gguf-threads=N (default: every core), --gguf-layers=N (layers of the larger model for
// the memory table, default 32).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { convertHfToGguf } from '../../engine/gguf/convert';
import { QuantPool } from '../../engine/gguf/quant/pool';
import type { WritableFile } from '../../engine/gguf/writer';
import type { QuantMix } from '../../engine/gguf/quant/mixes';
import { fixtureSizes, writeFixtureModel, type FixtureDtype } from '../../engine/hf/fixtureModel';
import { loadTokenizer } from '../../engine/hf/tokenizer/files';
import { argmax, klDivergence } from '../../engine/model/metrics';
import { openLlamaModel } from '../support/llama';
import { printTable, type Row } from './table';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const MIXES: QuantMix[] = ['f16', 'q8_0', 'q4_k_m'];
const KL_MIXES: QuantMix[] = ['q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_0'];
const KL_TEXT =
  'A knowledge leaf in the taxonomy names a document in a git repository and gives seed examples: a context taken ' +
  'from that document and three questions whose answers the context holds. The teacher model reads these examples ' +
  'and writes many more question and answer pairs like them, which the student model is then trained on.';

function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Runs `command`, returns its wall time; throws with its output when it fails. */
function timed(command: string, argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(command, argv, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/**
 * `taxonomy-studio convert` run as its own process: wall time, and peak RSS (MB) read from its resource usage as it
 * exits (worker threads included).
 */
function convertChild(preload: string, dir: string, out: string, mix: QuantMix, threads: number): { ms: number; rssMB: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', preload, cli, 'convert', dir, '--out', out, '--type', mix, '--threads', String(threads)], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`convert ${mix} failed (${r.status}): ${r.stderr}`);
  const kb = /maxRSS (\d+)/.exec(r.stderr)?.[1];
  if (!kb) throw new Error(`no maxRSS line from the convert process: ${r.stderr}`);
  return { ms, rssMB: Number(kb) / 1024 };
}

export async function runGgufBench(args: string[]): Promise<void> {
  const dtype = (option(args, 'gguf-dtype') ?? 'bf16').toUpperCase() as FixtureDtype;
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new Error(`--gguf-dtype must be f32, f16 or bf16, not ${dtype}`);
  const runs = Number(option(args, 'gguf-runs') ?? 3);
  const threads = Number(option(args, 'gguf-threads') ?? availableParallelism());
  const bigLayers = Number(option(args, 'gguf-layers') ?? 32);
  const tmp = mkdtempSync(join(tmpdir(), 'ts-bench-gguf-'));
  try {
    const preload = join(tmp, 'max-rss.js');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(`\\nmaxRSS ${process.resourceUsage().maxRSS}\\n`));\n");

    const small = await writeFixtureModel(join(tmp, 'small'), { size: 'small', dtype });
    const input = join(small.dir, 'model.safetensors');
    const inputMB = statSync(input).size / 1e6;

    // The disk's rate: cp of the same bytes, as many times as each conversion runs, best taken; and cp followed by
    // an fsync of the copy, since the converter makes its file durable before renaming it into place.
    const copy = join(tmp, 'copy.safetensors');
    let cpMs = Infinity;
    let cpSyncMs = Infinity;
    for (let i = 0; i < runs; i++) {
      cpMs = Math.min(cpMs, timed('cp', [input, copy]));
      rmSync(copy);
      cpSyncMs = Math.min(cpSyncMs, timed('cp', [input, copy]) + timed('sync', [copy]));
      rmSync(copy);
    }
    const cpRate = inputMB / (cpMs / 1000);
    const rows: Row[] = [
      { step: 'cp (disk)', 'MB/s': cpRate, ms: cpMs, '% of cp': 100, 'of which fsync ms': '', 'CLI ms': '', 'out MB': inputMB, 'peak RSS MB': '' },
      { step: 'cp + fsync', 'MB/s': inputMB / (cpSyncMs / 1000), ms: cpSyncMs, '% of cp': (100 * cpMs) / cpSyncMs, 'of which fsync ms': '', 'CLI ms': '', 'out MB': inputMB, 'peak RSS MB': '' },
    ];
    // Conversions in this process on one pool of the bundled worker (as the CLI runs it), started before timing.
    const pool = new QuantPool({ size: threads, workerPath: join(root, 'dist/quant-worker.js') });
    try {
      await convertHfToGguf(small.dir, join(tmp, 'warm-up.gguf'), 'q8_0', { pool });
      for (const mix of MIXES) {
        const out = join(tmp, `small-${mix}.gguf`);
        let ms = Infinity;
        let fsyncMs = 0;
        for (let i = 0; i < runs; i++) {
          rmSync(out, { force: true });
          // The writer's file, with its final fsync timed.
          let syncMs = 0;
          const openFile = async (path: string): Promise<WritableFile> => {
            const handle = await open(path, 'w');
            return {
              write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
              sync: async () => {
                const s0 = performance.now();
                await handle.sync();
                syncMs = performance.now() - s0;
              },
              close: () => handle.close(),
            };
          };
          const t0 = performance.now();
          await convertHfToGguf(small.dir, out, mix, { pool, writer: { openFile } });
          const took = performance.now() - t0;
          if (took < ms) [ms, fsyncMs] = [took, syncMs];
        }
        const rate = inputMB / (ms / 1000);
        const child = convertChild(preload, small.dir, out, mix, threads);
        rows.push({
          step: `convert ${mix.toUpperCase()}`,
          'MB/s': rate,
          ms,
          '% of cp': (100 * rate) / cpRate,
          'of which fsync ms': fsyncMs,
          'CLI ms': child.ms,
          'out MB': statSync(out).size / 1e6,
          'peak RSS MB': child.rssMB,
        });
      }
    } finally {
      await pool.close();
    }
    printTable(
      `HF -> GGUF: small fixture (${(small.parameterCount / 1e6).toFixed(1)}M parameters, ${inputMB.toFixed(0)} MB ${dtype} safetensors), ` +
        `MB/s of input, best of ${runs}, ${threads} threads; CLI ms and peak RSS: \`taxonomy-studio convert\` as a child process ` +
        `(node start-up included); the converter fsyncs its file before renaming it, cp does not; target: F16 >= 50% of cp`,
      rows,
    );

    // Peak memory against model size: the same widths with four times the layers.
    const big = await writeFixtureModel(join(tmp, 'big'), { size: 'small', dtype, dims: { numHiddenLayers: bigLayers } });
    const memRows: Row[] = [];
    for (const model of [small, big]) {
      const row: Row = {
        model: `${model.config.numHiddenLayers} layers`,
        params: `${(model.parameterCount / 1e6).toFixed(1)}M`,
        'input MB': statSync(join(model.dir, 'model.safetensors')).size / 1e6,
      };
      for (const mix of MIXES) row[`${mix.toUpperCase()} RSS MB`] = convertChild(preload, model.dir, join(tmp, `mem-${mix}.gguf`), mix, threads).rssMB;
      memRows.push(row);
    }
    printTable(`Peak RSS of \`taxonomy-studio convert\` by model size (hidden ${fixtureSizes.small.hiddenSize}); target: independent of size`, memRows);
    rmSync(big.dir, { recursive: true, force: true });

    // KL divergence from the F16 file, as llama.cpp computes the distributions (F32 key/value cache, so only the
    // weights differ between files).
    const ids = (await loadTokenizer(small.dir)).encode(KL_TEXT);
    const logitsOf = async (path: string) => {
      const model = await openLlamaModel(path, { kvCacheType: 'F32', flashAttention: false, threads });
      try {
        return await model.nextTokenLogits(ids);
      } finally {
        await model.dispose();
      }
    };
    const reference = await logitsOf(join(tmp, 'small-f16.gguf'));
    const klRows: Row[] = [];
    for (const mix of KL_MIXES) {
      const out = join(tmp, `kl-${mix}.gguf`);
      const result = await convertHfToGguf(small.dir, out, mix, { threads: 1 });
      const rows = await logitsOf(out);
      const kls = rows.map((row, i) => klDivergence(reference[i], row)).sort((a, b) => a - b);
      const top1 = rows.filter((row, i) => argmax(row) === argmax(reference[i])).length;
      klRows.push({
        type: mix.toUpperCase(),
        'mean KL': kls.reduce((a, b) => a + b, 0) / kls.length,
        'median KL': kls[Math.floor(kls.length / 2)],
        'max KL': kls[kls.length - 1],
        'top-1 = F16 %': (100 * top1) / rows.length,
        'MB': result.size / 1e6,
        tensors: Object.entries(result.types)
          .map(([t, n]) => `${n} ${t}`)
          .join(' '),
      });
    }
    printTable(
      `KL(F16 || type) of llama.cpp next-token distributions over ${ids.length} positions of a fixed text, small fixture; targets: Q8_0 near 0, Q4_K_M < Q4_0`,
      klRows.map((r) => ({ ...r, 'mean KL': fmtSci(r['mean KL'] as number), 'median KL': fmtSci(r['median KL'] as number), 'max KL': fmtSci(r['max KL'] as number) })),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function fmtSci(v: number): string {
  return v.toExponential(2);
}
