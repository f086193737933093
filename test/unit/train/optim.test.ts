import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoraWeights, type LoraGrad } from '../../../engine/train/lora';
import { AdamW, clipGradients, gradientNorm, learningRate } from '../../../engine/train/optim';
import { TrainModel } from '../../../engine/train/model';
import { forwardBackward } from '../../../engine/train/step';
import { initLora, loraTargetNames } from '../../../engine/train/lora';
import { sampleBatch, tinyModel } from './helpers';

function oneModule(a: number[], b: number[]): LoraWeights {
  return new LoraWeights([
    { name: 'model.layers.0.self_attn.q_proj', layer: 0, module: 'self_attn.q_proj', rank: 1, inDim: a.length, outDim: b.length, scale: 1, a: Float32Array.from(a), b: Float32Array.from(b) },
  ]);
}

test('schedule: linear warmup from 0, cosine to the floor, flat after the end', () => {
  const s = { peakLr: 1e-3, warmupSteps: 4, totalSteps: 14 };
  assert.deepEqual([0, 1, 2, 4].map((t) => learningRate(t, s)), [0, 2.5e-4, 5e-4, 1e-3]);
  assert.ok(Math.abs(learningRate(9, s) - 5e-4) < 1e-15);
  assert.equal(learningRate(14, s), 0);
  assert.equal(learningRate(20, s), 0);
  assert.ok(Math.abs(learningRate(14, { ...s, minLrRatio: 0.1 }) - 1e-4) < 1e-15);
});

test('clipping scales to the max norm only when above it, and refuses a non-finite norm', () => {
  const grads = new Map<string, LoraGrad>([['m', { a: Float32Array.from([3, 0]), b: Float32Array.from([4]) }]]);
  assert.equal(clipGradients(grads, 10), 5);
  assert.deepEqual([...grads.get('m')!.a, ...grads.get('m')!.b], [3, 0, 4]);
  assert.equal(clipGradients(grads, 1), 5);
  assert.ok(Math.abs(gradientNorm(grads) - 1) < 1e-6);
  grads.get('m')!.b[0] = NaN;
  assert.throws(() => clipGradients(grads, 1), /gradient norm is NaN/);
});

test('AdamW: first step moves each weight by lr against the gradient sign, weight decay is decoupled', () => {
  const lora = oneModule([1, -2], [0.5]);
  const opt = new AdamW(lora, { weightDecay: 0.1, eps: 0 });
  opt.step(new Map([[lora.modules[0].name, { a: Float32Array.from([0.3, -7]), b: Float32Array.from([2]) }]]), 0.01);
  const m = lora.modules[0];
  // p·(1 − lr·wd) − lr·sign(g) on the first step (m̂ = g, v̂ = g²)
  assert.deepEqual([...m.a], [Math.fround(1 * 0.999 - 0.01), Math.fround(-2 * 0.999 + 0.01)]);
  assert.deepEqual([...m.b], [Math.fround(0.5 * 0.999 - 0.01)]);
  assert.equal(opt.state.step, 1);
  assert.throws(() => opt.step(new Map(), 0.01), /no gradient for model.layers.0.self_attn.q_proj/);
});

async function train(steps: number) {
  const { config, weights } = await tinyModel();
  const lora = initLora(config, { targets: loraTargetNames, rank: 4, alpha: 8 }, 21);
  const model = await TrainModel.build(config, weights, lora);
  const losses: number[] = [];
  try {
    const batch = sampleBatch();
    const opt = new AdamW(lora, { weightDecay: 0.01 });
    for (let step = 0; step < steps; step++) {
      const { loss, grads } = await forwardBackward(model, lora, batch);
      losses.push(loss);
      clipGradients(grads, 1);
      opt.step(grads, learningRate(step, { peakLr: 2e-2, warmupSteps: 2, totalSteps: steps }));
    }
    losses.push((await forwardBackward(model, lora, batch)).loss);
  } finally {
    await model.dispose();
  }
  return { losses, lora };
}

test('a few AdamW steps on a tiny batch lower the training loss clearly, and repeat bit for bit', async () => {
  const first = await train(12);
  const { losses } = first;
  console.log(`loss by step: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  // B starts at zero, so step 0 is the base model's loss; LoRA must then pull the batch's targets up.
  assert.ok(losses.at(-1)! < 0.6 * losses[0], `loss went from ${losses[0]} to ${losses.at(-1)}`);
  const second = await train(12);
  assert.deepEqual(second.losses, losses);
  assert.deepEqual([...second.lora.modules[5].b], [...first.lora.modules[5].b]);
});
