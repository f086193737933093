// `npm run bench -- train [--train-size=small|tiny] [--train-rows=N] [--train-seq=N] [--train-steps=N] [--train-threads=N]
//   [--train-memory-size=medium|none]`:
// our trainer against PyTorch's eager LoRA on the same CPU, the same model and the same batch, each variant in its own
// process (its peak RSS is its own), and the achieved FLOP rate against the matmul peak ORT reaches here (the MFU).
// Targets (issue 7): at least PyTorch's tokens/s; MFU ≥ 50% of the measured peak; QLoRA peak RSS ≤ 40% of fp32 LoRA's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeFixtureModel, type FixtureSize } from '../../engine/hf/fixtureModel';
import { configFromHf, type ModelConfig } from '../../engine/model/config';
import { GraphBuilder } from '../../engine/train/onnx/builder';
import { printTable } from './table';
import { benchIds, benchLora } from './trainBatch';

interface StepFigures {
  variant: string;
  firstLoss: number;
  tokensPerStep: number;
  seconds: number;
  tokensPerSec: number;
  maxRssMB: number;
}

function option(args: string[], name: string, fallback: string): string {
  return args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
}

/** The frozen parameters a trained token passes through (embeddings excluded: a lookup, no FLOPs). */
function matmulParameters(c: ModelConfig): number {
  const hd = c.headDim;
  const attn = c.hidden * (c.heads * hd) * 2 + c.hidden * (c.kvHeads * hd) * 2;
  const mlp = 3 * c.hidden * c.intermediate;
  return c.layers * (attn + mlp) + c.hidden * c.vocab;
}

/**
 * FLOPs of one trained token in a LoRA step: the forward's matmuls are 2·N per token, the backward's gradient with
 * respect to activations another 2·N (no weight gradients of the frozen base), so ≈ 4·N; attention adds, per layer,
 * QKᵀ and AV (2·2·seq·heads·hd forward for a full row, halved by the causal mask on average) times two for the
 * backward. Gradient checkpointing recomputes the forward (another 2·N) but that is overhead, not useful work: MFU
 * counts the model's FLOPs, as is usual. LoRA's own matmuls (rank 8) are a fraction of a percent and left out.
 */
function flopsPerToken(c: ModelConfig, seq: number): number {
  const attention = c.layers * 2 * (2 * seq * c.heads * c.headDim) * 0.5;
  return 4 * matmulParameters(c) + 2 * attention;
}

/** The best fp32 MatMul rate ORT reaches on this machine with `threads` intra-op threads, GFLOP/s. */
async function matmulPeak(threads: number, n = 1024, runs = 8): Promise<number> {
  const g = new GraphBuilder('peak');
  const a = g.input('a', 'FLOAT', [n, n]);
  const b = g.initializer('b', Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [n, n]);
  g.output(g.op('MatMul', [a, b]), 'y', 'FLOAT', [n, n]);
  const session = await ort.InferenceSession.create(g.encode().bytes, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 });
  const input = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5), [n, n]);
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    await session.run({ a: input });
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  await session.release();
  return (2 * n * n * n) / best / 1e9;
}

/**
 * The worker bundled as the CLI is (esbuild, onnxruntime-node external), so its RSS is the trainer's and not tsx's
 * compiler (about 40 MB). It lives under node_modules/.cache so onnxruntime-node resolves from the repository.
 */
async function bundleWorker(repo: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = join(repo, 'node_modules', '.cache', 'taxonomy-studio-bench', 'train-step-worker.js');
  await build({ entryPoints: [join(repo, 'test', 'bench', 'trainStepWorker.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['onnxruntime-node'], logLevel: 'warning' });
  return out;
}

function worker(script: string, args: string[]): StepFigures {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`train bench worker ${args[1]} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as StepFigures;
}

/** The PyTorch reference, or why it could not run. */
function torchReference(repo: string, args: string[]): StepFigures | string {
  // Debian's python3-torch installs for the system interpreter; a python3 earlier on PATH (pyenv, venv) may lack it.
  const python = ['/usr/bin/python3', 'python3'].find((p) => p === 'python3' || existsSync(p))!;
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `PyTorch is not installed for ${python} (apt-get install python3-torch libopenblas0-pthread)`;
  const r = spawnSync(python, [join(repo, 'test', 'bench', 'torch', 'lora_step.py'), ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) return `the PyTorch reference failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as StepFigures;
}

export async function runTrainBench(args: string[]): Promise<void> {
  const repo = resolve(__dirname, '..', '..');
  const size = option(args, 'train-size', 'small') as FixtureSize;
  const rows = Number(option(args, 'train-rows', '4'));
  const seq = Number(option(args, 'train-seq', '128'));
  const steps = Number(option(args, 'train-steps', '3'));
  const threads = Number(option(args, 'train-threads', String(Math.min(2, cpus().length))));
  const dir = mkdtempSync(join(tmpdir(), 'train-bench-'));
  try {
    const modelDir = join(dir, 'model');
    await writeFixtureModel(modelDir, { size, seed: 5 });
    const config = configFromHf(JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>);
    const idsFile = join(dir, 'ids.bin');
    const ids = benchIds(config.vocab, rows, seq);
    writeFileSync(idsFile, new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    const common = [String(rows), String(seq), String(steps), String(threads)];

    const script = await bundleWorker(repo);
    const peak = await matmulPeak(threads);
    const results: StepFigures[] = [];
    for (const variant of ['lora', 'lora-no-checkpointing', 'qlora']) results.push(worker(script, [modelDir, variant, ...common]));
    const torch = torchReference(repo, [modelDir, idsFile, ...common, String(benchLora.rank), String(benchLora.alpha)]);

    const perToken = flopsPerToken(config, seq);
    const lora = results[0];
    const torchRate = typeof torch === 'string' ? undefined : torch.tokensPerSec;
    const rowsOut = [...results, ...(typeof torch === 'string' ? [] : [torch])].map((r) => {
      const gflops = (r.tokensPerSec * perToken) / 1e9;
      return {
        variant: r.variant,
        'tokens/s': r.tokensPerSec,
        'vs PyTorch': torchRate ? `${((100 * r.tokensPerSec) / torchRate).toFixed(0)}%` : 'n/a',
        'GFLOP/s': gflops,
        MFU: `${((100 * gflops) / peak).toFixed(1)}%`,
        'peak RSS MB': Math.round(r.maxRssMB),
        'RSS vs LoRA': `${((100 * r.maxRssMB) / lora.maxRssMB).toFixed(0)}%`,
        'first loss': r.firstLoss.toFixed(4),
      };
    });
    printTable(
      `Training step (${size} fixture, ${(matmulParameters(config) / 1e6).toFixed(1)}M matmul parameters, batch ${rows}×${seq}, LoRA r${benchLora.rank} on q/k/v/o/gate/up/down, fp32, ${threads} threads, ${steps} timed steps after one warm-up)`,
      rowsOut,
    );
    if (typeof torch === 'string') console.log(`PyTorch row left out: ${torch}`);
    const qlora = results[2];
    const targets = [
      { target: 'tokens/s ≥ PyTorch eager (LoRA fp32)', measured: torchRate ? `${((100 * lora.tokensPerSec) / torchRate).toFixed(0)}%` : 'n/a', pass: torchRate ? (lora.tokensPerSec >= torchRate ? 'yes' : 'no') : 'n/a' },
      {
        target: 'MFU ≥ 50% of the ORT matmul peak',
        measured: `${((100 * lora.tokensPerSec * perToken) / 1e9 / peak).toFixed(1)}% of ${peak.toFixed(1)} GFLOP/s`,
        pass: (lora.tokensPerSec * perToken) / 1e9 >= 0.5 * peak ? 'yes' : 'no',
      },
      { target: 'QLoRA peak RSS ≤ 40% of LoRA fp32', measured: `${((100 * qlora.maxRssMB) / lora.maxRssMB).toFixed(0)}%`, pass: qlora.maxRssMB <= 0.4 * lora.maxRssMB ? 'yes' : 'no' },
      {
        target: 'same computation: first loss equal to PyTorch',
        measured: typeof torch === 'string' ? 'n/a' : `|Δ| ${Math.abs(lora.firstLoss - torch.firstLoss).toExponential(1)}`,
        pass: typeof torch === 'string' ? 'n/a' : Math.abs(lora.firstLoss - torch.firstLoss) < 1e-3 ? 'yes' : 'no',
      },
    ];
    printTable(`Targets (FLOPs per trained token ≈ 4·N + attention = ${(perToken / 1e6).toFixed(1)} MFLOP)`, targets);

    // Peak memory is part fixed (Node, onnxruntime, one layer's activations, the head) and part per parameter, so the
    // QLoRA/LoRA ratio depends on the model's size: the same two variants on a larger fixture, one step each.
    const memorySize = option(args, 'train-memory-size', 'medium');
    if (memorySize !== 'none' && memorySize !== size) {
      const bigDir = join(dir, `model-${memorySize}`);
      await writeFixtureModel(bigDir, { size: memorySize as FixtureSize, seed: 5 });
      const bigConfig = configFromHf(JSON.parse(readFileSync(join(bigDir, 'config.json'), 'utf8')) as Record<string, unknown>);
      const big = ['lora', 'qlora'].map((variant) => worker(script, [bigDir, variant, String(rows), String(seq), '1', String(threads)]));
      printTable(
        `Peak memory on the ${memorySize} fixture (${(matmulParameters(bigConfig) / 1e6).toFixed(1)}M matmul parameters, the same batch, one timed step)`,
        big.map((r) => ({ variant: r.variant, 'peak RSS MB': Math.round(r.maxRssMB), 'RSS vs LoRA': `${((100 * r.maxRssMB) / big[0].maxRssMB).toFixed(0)}%`, 'tokens/s': r.tokensPerSec })),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
