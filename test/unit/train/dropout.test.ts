import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { dropoutMask } from '../../../engine/train/dropout';
import { loraTargetNames } from '../../../engine/train/lora';
import { TrainModel } from '../../../engine/train/model';
import { defaultRunSettings, runTraining, type RunSettings } from '../../../engine/train/run';
import { forwardBackward, forwardLoss, type StepResult } from '../../../engine/train/step';
import type { StepFunction } from '../../../engine/train/trainer';
import { sampleBatch, tinyModel, toyDatasetLines, trainedLikeLora } from './helpers';

const root = mkdtempSync(join(tmpdir(), 'dropout-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sameResult(x: StepResult, y: StepResult): boolean {
  if (x.loss !== y.loss || x.grads.size !== y.grads.size) return false;
  for (const [name, g] of x.grads) {
    const h = y.grads.get(name);
    if (!h || !Buffer.from(g.a.buffer).equals(Buffer.from(h.a.buffer)) || !Buffer.from(g.b.buffer).equals(Buffer.from(h.b.buffer))) return false;
  }
  return true;
}

test('dropout masks: seeded per (seed, micro-batch, module), about p of them dropped', () => {
  const draw = { seed: 7, key: '0:1:2' };
  const m = dropoutMask(draw, 'model.layers.0.self_attn.q_proj', 100, 64, 0.25);
  assert.deepEqual(m, dropoutMask(draw, 'model.layers.0.self_attn.q_proj', 100, 64, 0.25));
  assert.notDeepEqual(m, dropoutMask(draw, 'model.layers.0.self_attn.k_proj', 100, 64, 0.25));
  assert.notDeepEqual(m, dropoutMask({ seed: 7, key: '0:1:3' }, 'model.layers.0.self_attn.q_proj', 100, 64, 0.25));
  const dropped = m.length - m.reduce((n, v) => n + v, 0);
  assert.ok(Math.abs(dropped / m.length - 0.25) < 0.03, `dropped ${dropped} of ${m.length}`);
  assert.ok(dropoutMask(draw, 'x', 10, 10, 0).every((v) => v === 1));
  assert.throws(() => dropoutMask(draw, 'x', 1, 1, 1), /not in \[0, 1\)/);
});

test('dropout 0 gives the graphs and numbers of no dropout; dropout is off at evaluation; p > 0 changes gradients deterministically', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 2, alpha: 4 }, 9);
  const batch = sampleBatch();
  const draw = { seed: 42, key: '0:0:0' };
  const plain = await TrainModel.build(config, weights, lora);
  const zero = await TrainModel.build(config, weights, lora, { loraDropout: 0 });
  const dropped = await TrainModel.build(config, weights, lora, { loraDropout: 0.2 });
  try {
    const base = await forwardBackward(plain, lora, batch);
    // p = 0: a draw changes nothing, bit for bit.
    assert.ok(sameResult(base, await forwardBackward(zero, lora, batch, { dropout: draw })));
    // p > 0 without a draw (evaluation) is the model without dropout, bit for bit, for the loss and the gradients.
    assert.ok(sameResult(base, await forwardBackward(dropped, lora, batch)));
    assert.equal((await forwardLoss(dropped, lora, batch)).loss, (await forwardLoss(plain, lora, batch)).loss);
    // p > 0 with a draw: other gradients, the same ones for the same draw, others for another micro-batch's draw.
    const a = await forwardBackward(dropped, lora, batch, { dropout: draw });
    assert.ok(!sameResult(base, a));
    assert.notEqual(a.loss, base.loss);
    assert.ok(sameResult(a, await forwardBackward(dropped, lora, batch, { dropout: { ...draw } })));
    assert.ok(!sameResult(a, await forwardBackward(dropped, lora, batch, { dropout: { seed: 42, key: '0:0:1' } })));
  } finally {
    await plain.dispose();
    await zero.dispose();
    await dropped.dispose();
  }
});

test('training with dropout: repeatable, differs from no dropout, and a killed run resumes to the same adapter byte for byte', async () => {
  const { dir } = await tinyModel();
  const data = join(root, 'data.jsonl');
  writeFileSync(data, toyDatasetLines().join('\n') + '\n');
  const settings: RunSettings = { ...defaultRunSettings, rank: 4, alpha: 8, epochs: 2, lr: 1e-2, batchTokens: 256, maxSeqLen: 64, evalFraction: 0.2, checkpointEvery: 2 };
  const adapter = (out: string) => readFileSync(join(out, 'adapter', 'adapter_model.safetensors'));
  const run = (out: string, s: Partial<RunSettings>, extra: { resume?: boolean; step?: StepFunction } = {}) =>
    runTraining({ modelDir: dir, data, outDir: join(root, out), settings: { ...settings, ...s }, ...extra });

  await run('none', { dropout: 0 });
  const straight = await run('straight', { dropout: 0.2 });
  assert.ok(!adapter(join(root, 'straight')).equals(adapter(join(root, 'none'))), 'dropout 0.2 trained the same adapter as no dropout');
  const config = JSON.parse(readFileSync(join(root, 'straight', 'adapter', 'adapter_config.json'), 'utf8'));
  assert.equal(config.lora_dropout, 0.2);

  let calls = 0;
  const crash: StepFunction = async (model, lora, batch, opts) => {
    if (++calls === 4) throw new Error('simulated kill');
    return forwardBackward(model, lora, batch, opts);
  };
  await assert.rejects(run('killed', { dropout: 0.2 }, { step: crash }), /simulated kill/);
  const resumed = await run('killed', { dropout: 0.2 }, { resume: true });
  assert.equal(resumed.resumedFromStep, 2);
  assert.equal(resumed.steps, straight.steps);
  assert.ok(adapter(join(root, 'killed')).equals(adapter(join(root, 'straight'))), 'the resumed adapter differs from the uninterrupted one');
});
