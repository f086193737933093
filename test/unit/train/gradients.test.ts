import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ropeInvFreq } from '../../../engine/model/rope';
import type { ModelConfig } from '../../../engine/model/config';
import type { WeightSource } from '../../../engine/model/weights';
import { Xoshiro128 } from '../../../engine/hf/random';
import { loraTargetNames, type LoraWeights } from '../../../engine/train/lora';
import { TrainModel, type TrainModelOptions } from '../../../engine/train/model';
import { dequantizedLinears, qloraLinear } from '../../../engine/train/quant';
import { forwardBackward } from '../../../engine/train/step';
import type { Batch } from '../../../engine/train/batch';
import { dropoutMask, type DropoutDraw } from '../../../engine/train/dropout';
import { f64Loss, f64Model, type F64Dropout } from './f64model';
import { sampleBatch, tinyModel, trainedLikeLora } from './helpers';

/**
 * Central differences of the float64 loss for a sample of each module's A and B entries (the largest-gradient entry
 * and `random` seeded others), against the ONNX gradients. Returns the worst relative L2 error over the sample of
 * any matrix, with its name.
 */
async function checkGradients(
  config: ModelConfig,
  weights: WeightSource,
  lora: LoraWeights,
  batch: Batch,
  random = 3,
  options: TrainModelOptions = {},
  refWeights = weights,
  draw?: DropoutDraw,
) {
  const model = await TrainModel.build(config, weights, lora, options);
  let result;
  try {
    result = await forwardBackward(model, lora, batch, { dropout: draw });
  } finally {
    await model.dispose();
  }
  const inv = ropeInvFreq(config);
  const ref = f64Model(config, refWeights, lora);
  const p = options.loraDropout ?? 0;
  const masks = new Map<string, Uint8Array>();
  const dropout: F64Dropout | undefined =
    draw && p > 0
      ? { p, mask: (name, inDim) => masks.get(name) ?? masks.set(name, dropoutMask(draw, name, batch.batch * batch.seq, inDim, p)).get(name)! }
      : undefined;
  const loss64 = () => f64Loss(ref, batch, inv, dropout);
  const lossF64 = loss64();
  assert.ok(Math.abs(result.loss - lossF64) / lossF64 < 1e-5, `loss ${result.loss} vs float64 ${lossF64}`);

  const eps = 1e-4;
  const rng = new Xoshiro128(5);
  const report: { name: string; rel: number; norm: number }[] = [];
  for (const m of lora.modules) {
    const grad = result.grads.get(m.name);
    assert.ok(grad, `no gradient for ${m.name}`);
    const lin = ref.layers[m.layer].lin[m.module].lora!;
    for (const [which, onnxGrad, values] of [['A', grad.a, lin.a], ['B', grad.b, lin.b]] as const) {
      assert.equal(onnxGrad.length, values.length, `${m.name} ${which}: gradient size`);
      let top = 0;
      for (let i = 1; i < onnxGrad.length; i++) if (Math.abs(onnxGrad[i]) > Math.abs(onnxGrad[top])) top = i;
      const picks = [top, ...Array.from({ length: random }, () => (rng.nextI32() >>> 0) % values.length)];
      let num = 0;
      let den = 0;
      for (const i of picks) {
        const keep = values[i];
        values[i] = keep + eps;
        const up = loss64();
        values[i] = keep - eps;
        const down = loss64();
        values[i] = keep;
        const fd = (up - down) / (2 * eps);
        num += (onnxGrad[i] - fd) ** 2;
        den += fd ** 2;
      }
      assert.ok(den > 0, `${m.name} ${which}: finite differences are all zero`);
      report.push({ name: `${m.name}.lora_${which}`, rel: Math.sqrt(num / den), norm: Math.sqrt(den) });
    }
  }
  report.sort((a, b) => b.rel - a.rel);
  return { report, loss: result.loss, lossF64, grads: result.grads };
}

/** Largest |x − y| / max|y| over every gradient matrix. */
function maxRelDiff(x: Map<string, { a: Float32Array; b: Float32Array }>, y: Map<string, { a: Float32Array; b: Float32Array }>): number {
  let worst = 0;
  for (const [name, g] of y) {
    for (const k of ['a', 'b'] as const) {
      const u = x.get(name)![k];
      const v = g[k];
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < v.length; i++) {
        scale = Math.max(scale, Math.abs(v[i]));
        diff = Math.max(diff, Math.abs(u[i] - v[i]));
      }
      worst = Math.max(worst, diff / scale);
    }
  }
  return worst;
}

test('every LoRA gradient (7 modules × 2 layers, A and B) equals central differences of the float64 loss, with checkpointing', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 4, alpha: 8 }, 3);
  const { report, loss, lossF64 } = await checkGradients(config, weights, lora, sampleBatch());
  assert.equal(report.length, 28);
  console.log(`llama loss ${loss} (float64 ${lossF64}); worst gradient rel-L2 errors: ${report.slice(0, 4).map((r) => `${r.name} ${r.rel.toExponential(2)}`).join(', ')}`);
  for (const r of report) assert.ok(r.rel < 1e-3, `${r.name}: relative error ${r.rel} (|fd| ${r.norm})`);
});

test('granite (residual, attention, embedding and logits multipliers): LoRA gradients equal finite differences', async () => {
  const { config, weights } = await tinyModel({ arch: 'granite' });
  const lora = trainedLikeLora(config, { targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj'], rank: 2, alpha: 4 }, 4);
  const { report } = await checkGradients(config, weights, lora, sampleBatch(), 2);
  console.log(`granite worst gradient rel-L2 error: ${report[0].name} ${report[0].rel.toExponential(2)}`);
  for (const r of report) assert.ok(r.rel < 1e-3, `${r.name}: relative error ${r.rel} (|fd| ${r.norm})`);
});

test('QLoRA (4-bit MatMulNBits base, block 32): LoRA gradients equal finite differences of the float64 loss over the dequantized base', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 2, alpha: 4 }, 6);
  const { report, loss, lossF64 } = await checkGradients(config, weights, lora, sampleBatch(), 2, { baseLinear: qloraLinear }, dequantizedLinears(weights));
  console.log(`qlora loss ${loss} (float64 ${lossF64}); worst gradient rel-L2 error: ${report[0].name} ${report[0].rel.toExponential(2)}`);
  for (const r of report) assert.ok(r.rel < 1e-3, `${r.name}: relative error ${r.rel} (|fd| ${r.norm})`);
});

test('LoRA dropout (p 0.3, a mask per module and token): gradients equal finite differences of the float64 loss under the same masks, with and without checkpointing', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 2, alpha: 4 }, 8);
  const draw = { seed: 42, key: '0:0:3' };
  const runs = [];
  for (const checkpointing of [true, false]) {
    const { report, loss, lossF64, grads } = await checkGradients(config, weights, lora, sampleBatch(), 2, { loraDropout: 0.3, checkpointing }, weights, draw);
    console.log(`dropout, checkpointing ${checkpointing}: loss ${loss} (float64 ${lossF64}); worst gradient rel-L2 error: ${report[0].name} ${report[0].rel.toExponential(2)}`);
    for (const r of report) assert.ok(r.rel < 1e-3, `${r.name}: relative error ${r.rel} (|fd| ${r.norm})`);
    runs.push(grads);
  }
  assert.ok(maxRelDiff(runs[0], runs[1]) < 1e-5, `checkpointed and kept-activation gradients differ by ${maxRelDiff(runs[0], runs[1])}`);
});

test('without checkpointing (the forward returns its activations, the backward takes them): LoRA and QLoRA gradients equal finite differences and the checkpointed gradients', async () => {
  const { config, weights } = await tinyModel();
  for (const qlora of [false, true]) {
    const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 2, alpha: 4 }, 6);
    const base = qlora ? { baseLinear: qloraLinear } : {};
    const ref = qlora ? dequantizedLinears(weights) : weights;
    const kept = await checkGradients(config, weights, lora, sampleBatch(), 2, { ...base, checkpointing: false }, ref);
    console.log(`${qlora ? 'qlora' : 'lora'} without checkpointing: worst gradient rel-L2 error ${kept.report[0].name} ${kept.report[0].rel.toExponential(2)}`);
    assert.equal(kept.report.length, 28);
    for (const r of kept.report) assert.ok(r.rel < 1e-3, `${r.name}: relative error ${r.rel} (|fd| ${r.norm})`);
    const model = await TrainModel.build(config, weights, lora, base);
    try {
      const recomputed = await forwardBackward(model, lora, sampleBatch());
      const d = maxRelDiff(kept.grads, recomputed.grads);
      assert.ok(d < 1e-5, `${qlora ? 'qlora' : 'lora'}: checkpointed and kept-activation gradients differ by ${d}`);
    } finally {
      await model.dispose();
    }
  }
});
