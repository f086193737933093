import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineConfig, type ModelConfig } from '../../../engine/model/config';
import { MissingTensorError, TensorShapeError } from '../../../engine/model/errors';
import { createSession, forward } from '../../../engine/model/forward';
import { maxAbsDiff } from '../../../engine/model/metrics';
import { weightSourceFromMap, type Tensor, type WeightSource } from '../../../engine/model/weights';
import { prng, randomModel, randomWeights, rowOf, tinyConfig } from './helpers';
import { naiveForward } from './naive';

/** Asserts two logit vectors agree within tol, naming the worst element when they do not. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const { max, index } = maxAbsDiff(actual, expected);
  assert.ok(max < tol, `${what}: |diff| ${max} at ${index} (${actual[index]} vs ${expected[index]}), tolerance ${tol}`);
}

function randomTokens(n: number, vocab: number, seed: number): number[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => Math.floor(rand() * vocab));
}

// A 1-layer model small enough to follow by hand: hidden 2, one head of dim 2 (RoPE rotates the single pair by
// `position` radians since inv_freq = theta^0 = 1), identity attention projections, eps 0.
const handConfig = defineConfig({ hidden: 2, layers: 1, heads: 1, intermediate: 1, vocab: 3, rmsNormEps: 0 });
const t = (data: number[], shape: number[]): Tensor => ({ data: Float32Array.from(data), shape });
const identity = t([1, 0, 0, 1], [2, 2]);
const handWeights = weightSourceFromMap({
  'model.embed_tokens.weight': t([2, -2, 0, 3, 1, 1], [3, 2]),
  'model.layers.0.input_layernorm.weight': t([1, 1], [2]),
  'model.layers.0.self_attn.q_proj.weight': identity,
  'model.layers.0.self_attn.k_proj.weight': identity,
  'model.layers.0.self_attn.v_proj.weight': identity,
  'model.layers.0.self_attn.o_proj.weight': identity,
  'model.layers.0.post_attention_layernorm.weight': t([1, 1], [2]),
  'model.layers.0.mlp.gate_proj.weight': t([1, 0], [1, 2]),
  'model.layers.0.mlp.up_proj.weight': t([0, -2], [1, 2]),
  'model.layers.0.mlp.down_proj.weight': t([1, 0], [2, 1]),
  'model.norm.weight': t([1, 1], [2]),
  'lm_head.weight': t([1, 0, 0, 1, 1, 1], [3, 2]),
});
const silu = (z: number) => z / (1 + Math.exp(-z));
/** Final norm (eps 0) and the lm_head rows [1,0], [0,1], [1,1]. */
const handLogits = (h: number[]) => {
  const r = Math.sqrt((h[0] * h[0] + h[1] * h[1]) / 2);
  return [h[0] / r, h[1] / r, (h[0] + h[1]) / r];
};

test('hand-computed model, one token: attention of a lone token is its value vector', () => {
  // e = [2,-2] -> norm [1,-1] -> v = [1,-1] -> h = [3,-3] -> norm [1,-1] -> gate 1, up 2 -> down [2 silu(1), 0].
  const act = 2 * silu(1);
  const expected = handLogits([3 + act, -3]);
  assertClose(forward(handConfig, handWeights, [0]), expected, 1e-6, 'logits');
});

test('hand-computed model, two tokens: RoPE-rotated causal attention', () => {
  // Token 1 at position 1: e = [0,3] -> norm [0,√2]; its query and key are rotated by 1 radian, token 0's are not.
  const n1 = [0, Math.SQRT2];
  const q1 = [-n1[1] * Math.sin(1), n1[1] * Math.cos(1)];
  const k0 = [1, -1];
  const scale = 1 / Math.SQRT2;
  const s0 = (q1[0] * k0[0] + q1[1] * k0[1]) * scale;
  const s1 = 2 * scale; // q1·k1 with both rotated by the same angle is |n1|² = 2
  const p0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
  const attn = [p0 * 1 + (1 - p0) * n1[0], p0 * -1 + (1 - p0) * n1[1]];
  const h = [0 + attn[0], 3 + attn[1]];
  const r = Math.sqrt((h[0] * h[0] + h[1] * h[1]) / 2);
  const x = [h[0] / r, h[1] / r];
  const act = silu(x[0]) * (-2 * x[1]);
  const expected1 = handLogits([h[0] + act, h[1]]);
  const logits = forward(handConfig, handWeights, [0, 1]);
  assert.equal(logits.length, 6);
  assertClose(rowOf(logits, 0, 3), handLogits([3 + 2 * silu(1), -3]), 1e-6, 'token 0');
  assertClose(rowOf(logits, 1, 3), expected1, 1e-6, 'token 1');
});

test('random GQA model agrees with the naive implementation at every position', () => {
  const weights = randomModel(tinyConfig, 1);
  const tokens = randomTokens(12, tinyConfig.vocab, 2);
  const logits = forward(tinyConfig, weights, tokens);
  const naive = naiveForward(tinyConfig, weights, tokens);
  for (let i = 0; i < tokens.length; i++) {
    assertClose(rowOf(logits, i, tinyConfig.vocab), naive[i], 1e-4, `token ${i}`);
  }
  // Logits spread enough that the comparison means something.
  const row = rowOf(logits, 11, tinyConfig.vocab);
  assert.ok(Math.max(...row) - Math.min(...row) > 1, 'logits should not be flat');
});

test('lastOnly returns the final row of the full pass', () => {
  const weights = randomModel(tinyConfig, 3);
  const tokens = randomTokens(7, tinyConfig.vocab, 4);
  const all = forward(tinyConfig, weights, tokens);
  const last = forward(tinyConfig, weights, tokens, { lastOnly: true });
  assert.equal(last.length, tinyConfig.vocab);
  assert.deepEqual(last, rowOf(all, 6, tinyConfig.vocab));
});

test('causality: appending tokens leaves earlier logits unchanged', () => {
  const weights = randomModel(tinyConfig, 5);
  const tokens = randomTokens(10, tinyConfig.vocab, 6);
  const short = forward(tinyConfig, weights, tokens.slice(0, 5));
  const long = forward(tinyConfig, weights, tokens);
  // Bit-identical: each row is summed in the same order however many rows share the batch.
  assert.deepEqual(long.subarray(0, short.length), short);
  // The new tokens do get different logits (the comparison is not vacuous).
  assert.ok(maxAbsDiff(rowOf(long, 5, tinyConfig.vocab), rowOf(long, 4, tinyConfig.vocab)).max > 0.1);
});

test('KV-cache session equals the full forward pass, fed in chunks or token by token', () => {
  const weights = randomModel(tinyConfig, 7);
  const tokens = randomTokens(32, tinyConfig.vocab, 8);
  const full = forward(tinyConfig, weights, tokens);
  const vocab = tinyConfig.vocab;

  const byToken = createSession(tinyConfig, weights);
  for (let i = 0; i < tokens.length; i++) {
    assertClose(byToken.eval([tokens[i]]), rowOf(full, i, vocab), 1e-5, `token ${i} alone`);
  }
  assert.equal(byToken.position, 32);

  const chunked = createSession(tinyConfig, weights);
  let at = 0;
  for (const size of [3, 1, 5, 2, 17, 4]) {
    const last = chunked.eval(tokens.slice(at, at + size));
    at += size;
    assertClose(last, rowOf(full, at - 1, vocab), 1e-5, `chunk ending at ${at}`);
  }
});

test('session rewind forgets later tokens', () => {
  const weights = randomModel(tinyConfig, 9);
  const tokens = randomTokens(9, tinyConfig.vocab, 10);
  const session = createSession(tinyConfig, weights);
  session.eval(tokens.slice(0, 6));
  session.rewind(4);
  const other = [1, 2, 3];
  const got = session.evalAll(other);
  const fresh = forward(tinyConfig, weights, [...tokens.slice(0, 4), ...other]);
  assertClose(got, fresh.subarray(4 * tinyConfig.vocab), 1e-5, 'after rewind');
  assert.throws(() => session.rewind(8), /rewind to 8: expected an integer in \[0, 7\]/);
});

/** An MHA model equal to a GQA one: kv head g's rows copied to every query head of its group. */
function expandKvHeads(config: ModelConfig, weights: WeightSource, order: 'grouped' | 'interleaved'): WeightSource {
  const map = new Map<string, Tensor>();
  for (const name of weights.names()) map.set(name, { data: weights.get(name), shape: weights.shape(name) });
  const { heads, kvHeads, headDim, hidden } = config;
  for (let l = 0; l < config.layers; l++) {
    for (const m of ['k_proj', 'v_proj']) {
      const name = `model.layers.${l}.self_attn.${m}.weight`;
      const src = weights.get(name);
      const data = new Float32Array(heads * headDim * hidden);
      for (let h = 0; h < heads; h++) {
        const g = order === 'grouped' ? Math.floor(h / (heads / kvHeads)) : h % kvHeads;
        data.set(src.subarray(g * headDim * hidden, (g + 1) * headDim * hidden), h * headDim * hidden);
      }
      map.set(name, { data, shape: [heads * headDim, hidden] });
    }
  }
  return weightSourceFromMap(map);
}

test('GQA: query head h reads kv head h / (heads / kvHeads), as MHA with the kv heads repeated', () => {
  const config = defineConfig({ hidden: 64, layers: 2, heads: 8, kvHeads: 2, intermediate: 96, vocab: 64 });
  const mha = defineConfig({ ...config, kvHeads: 8 });
  const weights = randomModel(config, 11);
  const tokens = randomTokens(9, config.vocab, 12);
  const gqaLogits = forward(config, weights, tokens);
  assertClose(forward(mha, expandKvHeads(config, weights, 'grouped'), tokens), gqaLogits, 1e-5, 'GQA vs MHA');
  // The other plausible mapping (h % kvHeads) is a different model: the test can tell them apart.
  assert.ok(maxAbsDiff(forward(mha, expandKvHeads(config, weights, 'interleaved'), tokens), gqaLogits).max > 1e-2);
});

test('tied embeddings: lm_head is model.embed_tokens.weight and lm_head.weight is not needed', () => {
  const tied = defineConfig({ ...tinyConfig, tieWordEmbeddings: true });
  const map = randomWeights(tinyConfig, 13);
  const untiedLogits = forward(tinyConfig, weightSourceFromMap(map), [5, 6, 7]);
  map.delete('lm_head.weight');
  const tiedWeights = weightSourceFromMap(map);
  const tiedLogits = forward(tied, tiedWeights, [5, 6, 7]);
  map.set('lm_head.weight', map.get('model.embed_tokens.weight')!);
  assert.deepEqual(forward(tinyConfig, weightSourceFromMap(map), [5, 6, 7]), tiedLogits);
  assert.ok(maxAbsDiff(tiedLogits, untiedLogits).max > 0.1, 'a separate lm_head gives other logits');
  assert.throws(
    () => forward(tinyConfig, tiedWeights, [1]),
    (e: unknown) =>
      e instanceof MissingTensorError &&
      e.message === 'missing tensor lm_head.weight (set tie_word_embeddings to share model.embed_tokens.weight)',
  );
});

test('granite: logits_scaling divides the logits, attention_multiplier replaces 1/sqrt(headDim)', () => {
  const weights = randomModel(tinyConfig, 14);
  const tokens = randomTokens(6, tinyConfig.vocab, 15);
  const base = forward(tinyConfig, weights, tokens);
  const scaled = forward(defineConfig({ ...tinyConfig, architecture: 'granite', logitsScaling: 8 }), weights, tokens);
  assert.deepEqual(
    scaled,
    base.map((v) => v / 8),
  );
  const explicit = defineConfig({ ...tinyConfig, architecture: 'granite', attentionMultiplier: 1 / Math.sqrt(16) });
  assert.deepEqual(forward(explicit, weights, tokens), base);
  const sharper = defineConfig({ ...tinyConfig, architecture: 'granite', attentionMultiplier: 1 });
  assert.ok(maxAbsDiff(forward(sharper, weights, tokens), base).max > 1e-2);
});

test('granite: embedding and residual multipliers as specified (against the naive pass and a scale invariance)', () => {
  const granite = defineConfig({
    ...tinyConfig,
    architecture: 'granite',
    embeddingMultiplier: 12,
    residualMultiplier: 0.22,
    attentionMultiplier: 0.0078125,
    logitsScaling: 8,
  });
  const weights = randomModel(granite, 16);
  const tokens = randomTokens(8, granite.vocab, 17);
  const logits = forward(granite, weights, tokens);
  const naive = naiveForward(granite, weights, tokens);
  for (let i = 0; i < tokens.length; i++) assertClose(rowOf(logits, i, granite.vocab), naive[i], 1e-4, `token ${i}`);

  // With eps 0 RMSNorm ignores scale, so multiplying the embeddings and every residual branch by the same m
  // multiplies the whole residual stream by m and leaves the logits as they were; m on one of them alone does not.
  const plain = defineConfig({ ...tinyConfig, rmsNormEps: 0 });
  const both = defineConfig({ ...plain, architecture: 'granite', embeddingMultiplier: 3, residualMultiplier: 3 });
  const embOnly = defineConfig({ ...plain, architecture: 'granite', embeddingMultiplier: 3 });
  const ref = forward(plain, weights, tokens);
  assertClose(forward(both, weights, tokens), ref, 1e-4, 'm on embeddings and residuals');
  assert.ok(maxAbsDiff(forward(embOnly, weights, tokens), ref).max > 1e-2, 'm on embeddings alone changes logits');
});

test('qwen2: q/k/v biases are added (zero biases change nothing, o_proj has none)', () => {
  const qwen = defineConfig({ ...tinyConfig, architecture: 'qwen2' });
  assert.equal(qwen.qkvBias, true);
  assert.equal(qwen.oBias, false);
  const weights = randomModel(qwen, 18);
  const tokens = randomTokens(7, qwen.vocab, 19);
  const logits = forward(qwen, weights, tokens);
  const naive = naiveForward(qwen, weights, tokens);
  for (let i = 0; i < tokens.length; i++) assertClose(rowOf(logits, i, qwen.vocab), naive[i], 1e-4, `token ${i}`);

  const map = new Map<string, Tensor>();
  for (const name of weights.names()) {
    const data = name.endsWith('.bias') ? new Float32Array(weights.get(name).length) : weights.get(name);
    map.set(name, { data, shape: weights.shape(name) });
  }
  const zeroBias = forward(qwen, weightSourceFromMap(map), tokens);
  assert.deepEqual(zeroBias, forward(tinyConfig, weights, tokens));
  assert.ok(maxAbsDiff(zeroBias, logits).max > 1e-2, 'non-zero biases change the logits');

  map.delete('model.layers.1.self_attn.k_proj.bias');
  assert.throws(
    () => forward(qwen, weightSourceFromMap(map), tokens),
    /missing tensor model\.layers\.1\.self_attn\.k_proj\.bias/,
  );
});

test('mistral sliding window: keys further back than the window are not attended to', () => {
  const mistral = defineConfig({ ...tinyConfig, architecture: 'mistral', slidingWindow: 3 });
  const weights = randomModel(mistral, 20);
  const tokens = randomTokens(8, mistral.vocab, 21);
  const logits = forward(mistral, weights, tokens);
  const naive = naiveForward(mistral, weights, tokens);
  for (let i = 0; i < tokens.length; i++) assertClose(rowOf(logits, i, mistral.vocab), naive[i], 1e-4, `token ${i}`);
  const session = createSession(mistral, weights);
  for (let i = 0; i < tokens.length; i++)
    assertClose(session.eval([tokens[i]]), rowOf(logits, i, mistral.vocab), 1e-5, `cached ${i}`);
  // Within the window nothing changes; beyond it the output differs from full attention.
  const full = forward(tinyConfig, weights, tokens);
  assert.deepEqual(logits.subarray(0, 3 * mistral.vocab), full.subarray(0, 3 * mistral.vocab));
  assert.ok(maxAbsDiff(rowOf(logits, 7, mistral.vocab), rowOf(full, 7, mistral.vocab)).max > 1e-3);
});

test('bad input: token ids out of range, wrong tensor shapes', () => {
  const weights = randomModel(tinyConfig, 22);
  assert.throws(
    () => forward(tinyConfig, weights, [3, 512]),
    /token 1 is 512; token ids must be integers in \[0, 512\)/,
  );
  assert.throws(() => createSession(tinyConfig, weights).eval([]), /eval needs at least one token/);
  assert.equal(forward(tinyConfig, weights, []).length, 0);
  const map = randomWeights(tinyConfig, 22);
  map.set('model.norm.weight', { data: new Float32Array(32), shape: [32] });
  assert.throws(
    () => forward(tinyConfig, weightSourceFromMap(map), [1]),
    (e: unknown) =>
      e instanceof TensorShapeError && e.message === 'tensor model.norm.weight: expected shape [64], found [32]',
  );
});
