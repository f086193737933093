// One variant of the training benchmark in its own process, so its peak RSS is its own: builds the trainer's graphs
// for the model folder, runs warm-up steps and then timed steps (forward + backward + AdamW) on the bench's batch, and
// prints one JSON line.
//   node <this file bundled, or --import tsx> <model-dir> <lora|lora-no-checkpointing|qlora> <rows> <seq> <steps> <threads>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelWeights } from '../../engine/hf/modelWeights';
import { configFromHf } from '../../engine/model/config';
import { initLora, loraTargetNames } from '../../engine/train/lora';
import { TrainModel } from '../../engine/train/model';
import { AdamW } from '../../engine/train/optim';
import { qloraLinear } from '../../engine/train/quant';
import { forwardBackward } from '../../engine/train/step';
import { benchBatch, benchLora } from './trainBatch';

async function main(): Promise<void> {
  const [dir, variant, rowsArg, seqArg, stepsArg, threadsArg] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const seq = Number(seqArg);
  const steps = Number(stepsArg);
  const threads = Number(threadsArg);
  const config = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const reader = await openModelWeights(dir);
  const lora = initLora(config, { targets: loraTargetNames, rank: benchLora.rank, alpha: benchLora.alpha }, benchLora.seed);
  const model = await TrainModel.build(config, { reader }, lora, {
    threads,
    ...(variant === 'qlora' ? { baseLinear: qloraLinear } : {}),
    ...(variant === 'lora-no-checkpointing' ? { checkpointing: false } : {}),
  }).finally(() => reader.close());
  const batch = benchBatch(config.vocab, rows, seq);
  const optimizer = new AdamW(lora, { weightDecay: 0.01 });
  const losses: number[] = [];
  const times: number[] = [];
  let tokens = 0;
  for (let s = 0; s < steps + 1; s++) {
    const started = performance.now();
    const r = await forwardBackward(model, lora, batch);
    optimizer.step(r.grads, 1e-4);
    times.push((performance.now() - started) / 1000);
    losses.push(r.loss);
    tokens = r.tokens;
  }
  await model.dispose();
  // The first step pays for ORT's first-run allocations; the rest are the steady state.
  const steady = times.slice(1);
  const seconds = steady.reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({ variant, firstLoss: losses[0], tokensPerStep: tokens, seconds, tokensPerSec: (tokens * steady.length) / seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
