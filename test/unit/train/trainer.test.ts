import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { readMessagesJsonl } from '../../../engine/train/data';
import { estimateMemory, MemoryLimitError } from '../../../engine/train/memory';
import { initLora, loraTargetNames } from '../../../engine/train/lora';
import { defaultRunSettings, runTraining, type RunOptions, type RunSettings } from '../../../engine/train/run';
import { forwardBackward } from '../../../engine/train/step';
import { ResumeError, TrainingCancelledError, TrainingDivergedError, type StepFunction } from '../../../engine/train/trainer';
import { tinyModel, toyDatasetLines } from './helpers';

const root = mkdtempSync(join(tmpdir(), 'trainer-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

const settings: RunSettings = { ...defaultRunSettings, rank: 4, alpha: 8, epochs: 3, lr: 1e-2, batchTokens: 256, maxSeqLen: 64, evalFraction: 0.2, warmupRatio: 0.1 };

async function setup(lines = toyDatasetLines()): Promise<{ modelDir: string; data: string; out: string }> {
  const { dir } = await tinyModel();
  const n = runs++;
  const data = join(root, `data-${n}.jsonl`);
  writeFileSync(data, lines.join('\n') + '\n');
  return { modelDir: dir, data, out: join(root, `out-${n}`) };
}

function run(o: { modelDir: string; data: string; out: string }, extra: Partial<RunOptions> = {}, s: Partial<RunSettings> = {}) {
  return runTraining({ modelDir: o.modelDir, data: o.data, outDir: o.out, settings: { ...settings, ...s }, ...extra });
}

/** A test double of the step that returns a NaN loss on its `at`-th call (1-based) and runs the real step otherwise. */
function nanOnCall(at: number): StepFunction {
  let calls = 0;
  return async (model, lora, batch, opts) => {
    const r = await forwardBackward(model, lora, batch, opts);
    return ++calls === at ? { ...r, loss: NaN } : r;
  };
}

/** A test double that dies (as a killed process would, without cleanup) on its `at`-th call. */
function crashOnCall(at: number): StepFunction {
  let calls = 0;
  return async (model, lora, batch, opts) => {
    if (++calls === at) throw new Error('simulated kill');
    return forwardBackward(model, lora, batch, opts);
  };
}

test('a short run lowers the held-out loss clearly and writes adapter, checkpoints, loss.csv and train.json', async () => {
  const o = await setup([...toyDatasetLines().slice(0, 3), 'not json', ...toyDatasetLines().slice(3)]);
  const steps: number[] = [];
  const r = await run(o, { events: { onStep: (p) => steps.push(p.step) } });
  console.log(`held-out loss ${r.initialEvalLoss!.toFixed(3)} -> ${r.finalEvalLoss!.toFixed(3)} in ${r.steps} steps; estimate ${(r.estimate.total / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(r.finalEvalLoss! < 0.6 * r.initialEvalLoss!, `held-out loss went from ${r.initialEvalLoss} to ${r.finalEvalLoss}`);
  assert.deepEqual(steps, Array.from({ length: r.steps }, (_, i) => i + 1));
  assert.deepEqual([r.samples, r.heldOut], [19, 5]);
  assert.deepEqual(r.problems.map((p) => p.line), [4]);
  assert.deepEqual(readdirSync(join(o.out, 'adapter')).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
  assert.deepEqual(readdirSync(join(o.out, 'checkpoints')), ['step-000004', 'step-000008', 'step-000012']);
  const csv = readFileSync(join(o.out, 'loss.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'step,phase,epoch,batch,loss,lr,grad_norm,tokens,eval_loss');
  assert.equal(csv.length, 2 + r.steps);
  assert.equal(Number(csv.at(-1)!.split(',')[8]), r.finalEvalLoss);
  const json = JSON.parse(readFileSync(join(o.out, 'train.json'), 'utf8'));
  assert.equal(json.data[0].sha256, (await readMessagesJsonl(o.data)).sha256);
  assert.equal(json.settings.rank, 4);
  assert.equal(json.skippedLines, 1);
});

test('resume after a kill or a cancel gives the same adapter, byte for byte, as an uninterrupted run', async () => {
  const o = await setup();
  const s = { checkpointEvery: 2, accumulate: 2, epochs: 2 };
  const straight = await run(o, {}, s);
  const expected = readFileSync(join(o.out, 'adapter', 'adapter_model.safetensors'));

  const killed = { ...o, out: `${o.out}-killed` };
  // Dies during step 4's second micro-batch (call 8): the newest checkpoint is step 2's.
  await assert.rejects(run(killed, { step: crashOnCall(8) }, s), /simulated kill/);
  assert.deepEqual(readdirSync(join(killed.out, 'checkpoints')), ['step-000002']);
  const resumed = await run(killed, { resume: true }, s);
  assert.equal(resumed.resumedFromStep, 2);
  assert.equal(resumed.steps, straight.steps);
  assert.ok(readFileSync(join(killed.out, 'adapter', 'adapter_model.safetensors')).equals(expected));
  assert.equal(readFileSync(join(killed.out, 'loss.csv'), 'utf8'), readFileSync(join(o.out, 'loss.csv'), 'utf8'));

  const cancelled = { ...o, out: `${o.out}-cancelled` };
  const controller = new AbortController();
  await assert.rejects(
    run(cancelled, { signal: controller.signal, events: { onStep: (p) => p.step === 3 && controller.abort() } }, s),
    (err: unknown) => err instanceof TrainingCancelledError && err.step === 3 && /step-000003/.test(err.message),
  );
  await run(cancelled, { resume: true }, s);
  assert.ok(readFileSync(join(cancelled.out, 'adapter', 'adapter_model.safetensors')).equals(expected));

  // Other settings refuse to resume, naming what changed.
  await assert.rejects(run(cancelled, { resume: true }, { ...s, lr: 5e-3 }), (err: unknown) => err instanceof ResumeError && /other settings/.test(err.message));
});

test('a NaN loss stops before the update, names step and batch, and keeps the last good checkpoint', async () => {
  const o = await setup();
  const lines: string[] = [];
  await assert.rejects(run(o, { step: nanOnCall(5), events: { onLog: (t) => lines.push(t) } }, { checkpointEvery: 2 }), (err: unknown) => {
    assert.ok(err instanceof TrainingDivergedError);
    assert.equal(err.step, 5);
    assert.equal(err.batch, 0);
    assert.equal(err.epoch, 1);
    assert.match(err.message, /^loss is NaN at step 5 \(phase train, epoch 2, micro-batch 1: .*data-\d+\.jsonl:\d+/);
    assert.match(err.message, /last good checkpoint is .*step-000004/);
    return true;
  });
  assert.deepEqual(readdirSync(join(o.out, 'checkpoints')), ['step-000002', 'step-000004']);
  assert.equal(existsSync(join(o.out, 'adapter')), false);
  // The checkpoint is good: resuming from it with the real step finishes the run.
  const r = await run(o, { resume: true }, { checkpointEvery: 2 });
  assert.equal(r.resumedFromStep, 4);
  assert.ok(Number.isFinite(r.finalEvalLoss));
});

test('the memory estimate refuses a run over the limit with the figure, before building anything', async () => {
  const o = await setup();
  await assert.rejects(run(o, { maxMemory: 64 * 2 ** 20 }), (err: unknown) => {
    assert.ok(err instanceof MemoryLimitError);
    assert.match(err.message, /^the run needs about \d+\.\d MiB: base weights .* more than the memory limit \(64\.0 MiB\)/);
    return true;
  });
  assert.equal(existsSync(o.out), false);
  // 4-bit base weights take less than float32 ones, for the same run.
  const { config } = await tinyModel();
  const lora = initLora(config, { targets: loraTargetNames, rank: 8, alpha: 16 }, 1);
  const shape = { config, loraParameters: lora.parameterCount(), batchTokens: 4096, maxSeqLen: 1024 };
  const fp32 = estimateMemory({ ...shape, qlora: false });
  const q4 = estimateMemory({ ...shape, qlora: true });
  assert.ok(q4.baseWeights < fp32.baseWeights);
  assert.equal(fp32.lora, lora.parameterCount() * 16);
});

test('QLoRA (4-bit base) training lowers the held-out loss too', async () => {
  const o = await setup();
  const r = await run(o, {}, { qlora: true });
  console.log(`qlora held-out loss ${r.initialEvalLoss!.toFixed(3)} -> ${r.finalEvalLoss!.toFixed(3)}`);
  assert.ok(r.finalEvalLoss! < 0.6 * r.initialEvalLoss!, `held-out loss went from ${r.initialEvalLoss} to ${r.finalEvalLoss}`);
});
