import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineConfig } from '../../../engine/model/config';
import { LoraError } from '../../../engine/model/errors';
import { forward } from '../../../engine/model/forward';
import { loraFromPeft, mergeLora, peftTensorNames } from '../../../engine/model/lora';
import { maxAbsDiff } from '../../../engine/model/metrics';
import { weightSourceFromMap, type Tensor, type WeightSource } from '../../../engine/model/weights';
import { randomModel, randomPeftAdapter, rowOf, tinyConfig } from './helpers';
import { naiveForward } from './naive';

const allLinear = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const tokens = [3, 141, 59, 26, 5, 358, 97, 93];

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const { max, index } = maxAbsDiff(actual, expected);
  assert.ok(max < tol, `${what}: |diff| ${max} at ${index} (${actual[index]} vs ${expected[index]}), tolerance ${tol}`);
}

/** W + (alpha/r) · B A with explicit sums, for the naive pass. */
function naiveMerge(weights: WeightSource, adapter: ReturnType<typeof randomPeftAdapter>): WeightSource {
  const { r, lora_alpha } = adapter.adapterConfig;
  const map = new Map<string, Tensor>();
  for (const name of weights.names()) {
    const shape = weights.shape(name);
    const module = name.replace(/\.weight$/, '');
    const names = peftTensorNames(module);
    if (!adapter.tensors.has(names.a)) {
      map.set(name, { data: weights.get(name), shape });
      continue;
    }
    const [out, inn] = shape;
    const A = adapter.tensors.get(names.a);
    const B = adapter.tensors.get(names.b);
    const W = weights.get(name);
    const data = new Float32Array(out * inn);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inn; i++) {
        let delta = 0;
        for (let k = 0; k < r; k++) delta += B[o * r + k] * A[k * inn + i];
        data[o * inn + i] = W[o * inn + i] + (lora_alpha / r) * delta;
      }
    }
    map.set(name, { data, shape });
  }
  return weightSourceFromMap(map);
}

test('PEFT tensor names map to the base weights they adapt, scale alpha / r', () => {
  const adapter = randomPeftAdapter(tinyConfig, ['q_proj', 'v_proj'], 4, 16, 1);
  assert.ok(adapter.tensors.has('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'));
  const lora = loraFromPeft(adapter.adapterConfig, adapter.tensors);
  assert.deepEqual([...lora.layers.keys()].sort(), [
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.0.self_attn.v_proj.weight',
    'model.layers.1.self_attn.q_proj.weight',
    'model.layers.1.self_attn.v_proj.weight',
  ]);
  const q = lora.layers.get('model.layers.0.self_attn.q_proj.weight')!;
  assert.deepEqual([q.rank, q.inDim, q.outDim, q.scale], [4, 64, 64, 4]);
  const rs = loraFromPeft({ ...adapter.adapterConfig, use_rslora: true }, adapter.tensors);
  assert.equal(rs.layers.get('model.layers.0.self_attn.q_proj.weight')!.scale, 8); // 16 / sqrt(4)
});

test('LoRA on the fly equals the merged weights, and both equal the naive pass over naively merged weights', () => {
  const weights = randomModel(tinyConfig, 2);
  const adapter = randomPeftAdapter(tinyConfig, [...allLinear, 'lm_head'], 8, 16, 3);
  const lora = loraFromPeft(adapter.adapterConfig, adapter.tensors);
  const onTheFly = forward(tinyConfig, weights, tokens, { lora });
  const merged = forward(tinyConfig, mergeLora(weights, lora), tokens);
  assertClose(onTheFly, merged, 1e-5, 'on the fly vs merged');
  const naive = naiveForward(tinyConfig, naiveMerge(weights, adapter), tokens);
  for (let i = 0; i < tokens.length; i++) assertClose(rowOf(merged, i, tinyConfig.vocab), naive[i], 1e-4, `token ${i}`);
  assert.ok(maxAbsDiff(onTheFly, forward(tinyConfig, weights, tokens)).max > 0.1, 'the adapter changes the logits');
});

test('mergeLora leaves the base weights untouched and other tensors shared', () => {
  const weights = randomModel(tinyConfig, 4);
  const before = weights.get('model.layers.0.self_attn.q_proj.weight').slice();
  const adapter = randomPeftAdapter(tinyConfig, ['q_proj'], 2, 4, 5);
  const lora = loraFromPeft(adapter.adapterConfig, adapter.tensors);
  const merged = mergeLora(weights, lora);
  const q = merged.get('model.layers.0.self_attn.q_proj.weight');
  assert.deepEqual(weights.get('model.layers.0.self_attn.q_proj.weight'), before);
  assert.notDeepEqual(q, before);
  assert.equal(
    merged.get('model.layers.0.self_attn.k_proj.weight'),
    weights.get('model.layers.0.self_attn.k_proj.weight'),
  );
  assert.equal(merged.get('model.layers.0.self_attn.q_proj.weight'), q, 'merged once, then cached');
});

test('alpha scales the update: doubling lora_alpha equals doubling B', () => {
  const weights = randomModel(tinyConfig, 6);
  const adapter = randomPeftAdapter(tinyConfig, ['o_proj', 'down_proj'], 4, 8, 7);
  const doubledB = new Map<string, Tensor>();
  for (const name of adapter.tensors.names()) {
    const data = adapter.tensors.get(name);
    doubledB.set(name, {
      data: name.includes('lora_B') ? data.map((v) => v * 2) : data,
      shape: adapter.tensors.shape(name),
    });
  }
  const a = forward(tinyConfig, weights, tokens, {
    lora: loraFromPeft({ ...adapter.adapterConfig, lora_alpha: 16 }, adapter.tensors),
  });
  const b = forward(tinyConfig, weights, tokens, {
    lora: loraFromPeft(adapter.adapterConfig, weightSourceFromMap(doubledB)),
  });
  assertClose(a, b, 1e-5, 'alpha 16 vs B × 2');
});

test('rank_pattern and alpha_pattern override r and lora_alpha per module', () => {
  const adapter = randomPeftAdapter(tinyConfig, ['q_proj', 'v_proj'], 4, 16, 8);
  const lora = loraFromPeft(
    { ...adapter.adapterConfig, alpha_pattern: { 'model.layers.1.self_attn.v_proj': 2, q_proj: 8 } },
    adapter.tensors,
  );
  assert.equal(lora.layers.get('model.layers.1.self_attn.v_proj.weight')!.scale, 0.5);
  assert.equal(lora.layers.get('model.layers.0.self_attn.v_proj.weight')!.scale, 4);
  assert.equal(lora.layers.get('model.layers.0.self_attn.q_proj.weight')!.scale, 2);
  assert.throws(
    () => loraFromPeft({ ...adapter.adapterConfig, rank_pattern: { q_proj: 8 } }, adapter.tensors),
    /adapter module model\.layers\.0\.self_attn\.q_proj: tensors have rank 4, adapter_config\.json says r = 8/,
  );
});

test('adapters that do not fit are refused with the module named', () => {
  const adapter = randomPeftAdapter(tinyConfig, ['q_proj', 'v_proj'], 4, 16, 9);
  const refuses = (fn: () => unknown, message: string) =>
    assert.throws(fn, (e: unknown) => e instanceof LoraError && e.message === message);
  refuses(
    () => loraFromPeft({ ...adapter.adapterConfig, target_modules: ['q_proj'] }, adapter.tensors),
    'adapter module model.layers.0.self_attn.v_proj is not named by target_modules ["q_proj"]',
  );
  refuses(
    () => loraFromPeft({ ...adapter.adapterConfig, use_dora: true }, adapter.tensors),
    'adapter_config.json use_dora: DoRA adapters are not supported',
  );
  const embedding = weightSourceFromMap({
    'base_model.model.model.embed_tokens.lora_embedding_A': { data: new Float32Array(4), shape: [1, 4] },
  });
  refuses(
    () => loraFromPeft(adapter.adapterConfig, embedding),
    'adapter tensor base_model.model.model.embed_tokens.lora_embedding_A: LoRA on embeddings is not supported',
  );
  // An lm_head adapter on a model whose lm_head is the tied embedding matrix has nothing to adapt.
  const tied = defineConfig({ ...tinyConfig, tieWordEmbeddings: true });
  const headAdapter = randomPeftAdapter(tinyConfig, ['lm_head'], 2, 2, 10);
  const headLora = loraFromPeft(headAdapter.adapterConfig, headAdapter.tensors);
  refuses(
    () => forward(tied, randomModel(tied, 11), [1], { lora: headLora }),
    'LoRA adapts lm_head.weight, which this model does not use (tie_word_embeddings)',
  );
  refuses(
    () => mergeLora(randomModel(tied, 11), headLora),
    'LoRA adapts lm_head.weight, which the base model does not have',
  );
  // A rank-4 adapter for a model of another width.
  const wide = defineConfig({ ...tinyConfig, hidden: 128 });
  refuses(
    () => forward(wide, randomModel(wide, 12), [1], { lora: loraFromPeft(adapter.adapterConfig, adapter.tensors) }),
    'LoRA for model.layers.0.self_attn.q_proj.weight is [64, 64], the weight is [64, 128]',
  );
});
