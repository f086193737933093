import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward } from '../../../engine/model/forward';
import { maxAbsDiff } from '../../../engine/model/metrics';
import { ropeInvFreq } from '../../../engine/model/rope';
import { loraTargetNames } from '../../../engine/train/lora';
import { TrainModel } from '../../../engine/train/model';
import { forwardLogits } from '../../../engine/train/step';
import { dequantize4, dequantizedLinears, qloraLinear, quantize4 } from '../../../engine/train/quant';
import { f64Logits, f64Model } from './f64model';
import { sampleBatch, sampleSequences, tinyModel, trainedLikeLora } from './helpers';

for (const arch of ['llama', 'granite', 'qwen2'] as const) {
  test(`${arch}: ONNX logits equal the reference forward pass with the same LoRA (all seven modules)`, async () => {
    const { config, weights } = await tinyModel({ arch });
    const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 4, alpha: 8 }, 3);
    const model = await TrainModel.build(config, weights, lora);
    try {
      const batch = sampleBatch();
      const logits = await forwardLogits(model, lora, batch);
      const V = config.vocab;
      let worst = 0;
      for (const [b, ids] of sampleSequences.entries()) {
        const ref = forward(config, weights, ids, { lora: lora.toAdapter() });
        const plain = forward(config, weights, ids);
        const got = logits.subarray(b * batch.seq * V, (b * batch.seq + ids.length) * V);
        const { max, index } = maxAbsDiff(got, ref);
        worst = Math.max(worst, max);
        assert.ok(max < 1e-4, `row ${b}: |onnx − reference| ${max} at ${index} (${got[index]} vs ${ref[index]})`);
        // The adapter must matter, or the comparison would not show that LoRA is applied.
        assert.ok(maxAbsDiff(ref, plain).max > 0.05, `row ${b}: the LoRA barely changes the logits`);
      }
      console.log(`${arch}: worst |onnx − reference| logit ${worst.toExponential(2)}`);
    } finally {
      await model.dispose();
      await model.dispose();
    }
  });
}

test('the float64 test model agrees with the reference forward pass (so its finite differences check the right loss)', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: ['q_proj', 'down_proj'], rank: 2, alpha: 4 }, 9);
  const ids = sampleSequences[0];
  const ref = forward(config, weights, ids, { lora: lora.toAdapter() });
  const mine = f64Logits(f64Model(config, weights, lora), ids, ropeInvFreq(config));
  const { max, index } = maxAbsDiff(mine, ref);
  assert.ok(max < 2e-5, `|f64 − reference| ${max} at ${index}`);
});

test('QLoRA: 4-bit ONNX logits equal the reference forward over the dequantized weights, and differ from the fp32 base', async () => {
  const { config, weights } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: loraTargetNames, rank: 4, alpha: 8 }, 3);
  const model = await TrainModel.build(config, weights, lora, { baseLinear: qloraLinear });
  try {
    const batch = sampleBatch();
    const logits = await forwardLogits(model, lora, batch);
    const ids = sampleSequences[0];
    const got = logits.subarray(0, ids.length * config.vocab);
    const ref = forward(config, dequantizedLinears(weights), ids, { lora: lora.toAdapter() });
    const { max, index } = maxAbsDiff(got, ref);
    console.log(`qlora: worst |onnx − reference| logit ${max.toExponential(2)}`);
    assert.ok(max < 1e-4, `|onnx − dequantized reference| ${max} at ${index}`);
    const fp32 = forward(config, weights, ids, { lora: lora.toAdapter() });
    assert.ok(maxAbsDiff(got, fp32).max > 1e-3, 'the 4-bit model gives the fp32 logits: the base was not quantized');
  } finally {
    await model.dispose();
  }
});

test('4-bit quantization round trip: blocks of 32, error at most half a step, exact for values on the grid', () => {
  const w = new Float32Array(2 * 64).map((_, i) => Math.sin(i * 0.7) * (i < 64 ? 1 : 0.01));
  const q = quantize4(w, 2, 64);
  assert.equal(q.packed.length, 64);
  assert.equal(q.scales.length, 4);
  const back = dequantize4(q);
  for (let i = 0; i < w.length; i++) {
    const scale = q.scales[Math.floor(i / 32)];
    assert.ok(Math.abs(back[i] - w[i]) <= scale / 2 + 1e-7, `element ${i}: ${back[i]} vs ${w[i]}`);
  }
  assert.deepEqual([...dequantize4(quantize4(back, 2, 64))], [...back]);
  assert.throws(() => quantize4(new Float32Array(40), 1, 40), /multiple of 32/);
});
