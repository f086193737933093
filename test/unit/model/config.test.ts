import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromHf, defineConfig } from '../../../engine/model/config';
import { ModelConfigError } from '../../../engine/model/errors';
import { expectedTensors } from '../../../engine/model/weights';

const llama32 = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  head_dim: 64,
  hidden_act: 'silu',
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  tie_word_embeddings: true,
  attention_bias: false,
  mlp_bias: false,
  vocab_size: 128256,
};

test('llama 3.2 config.json', () => {
  assert.deepEqual(configFromHf(llama32), {
    architecture: 'llama',
    hidden: 2048,
    layers: 16,
    heads: 32,
    kvHeads: 8,
    headDim: 64,
    intermediate: 8192,
    vocab: 128256,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    embeddingMultiplier: 1,
    residualMultiplier: 1,
    attentionMultiplier: null,
    logitsScaling: 1,
    slidingWindow: null,
  });
});

test('defaults for keys a config.json leaves out', () => {
  const c = configFromHf({
    model_type: 'llama',
    hidden_size: 64,
    intermediate_size: 128,
    num_attention_heads: 4,
    num_hidden_layers: 2,
    vocab_size: 100,
  });
  assert.equal(c.kvHeads, 4);
  assert.equal(c.headDim, 16);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.ropeScaling, null);
  assert.equal(c.tieWordEmbeddings, false);
});

test('qwen2, granite and mistral specifics', () => {
  const base = {
    hidden_size: 64,
    intermediate_size: 128,
    num_attention_heads: 4,
    num_hidden_layers: 2,
    vocab_size: 100,
  };
  const qwen = configFromHf({
    ...base,
    model_type: 'qwen2',
    num_key_value_heads: 2,
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: 4096,
  });
  assert.deepEqual([qwen.qkvBias, qwen.oBias, qwen.tieWordEmbeddings, qwen.slidingWindow], [true, false, true, null]);
  const granite = configFromHf({
    ...base,
    model_type: 'granite',
    embedding_multiplier: 12.0,
    residual_multiplier: 0.22,
    attention_multiplier: 0.0078125,
    logits_scaling: 8.0,
    attention_bias: true,
  });
  assert.deepEqual(
    [granite.embeddingMultiplier, granite.residualMultiplier, granite.attentionMultiplier, granite.logitsScaling],
    [12, 0.22, 0.0078125, 8],
  );
  assert.deepEqual([granite.qkvBias, granite.oBias], [true, true]);
  // GraniteConfig's own default attention_multiplier is 1.0, not 1/sqrt(head_dim).
  assert.equal(configFromHf({ ...base, model_type: 'granite' }).attentionMultiplier, 1);
  // Llama ignores granite keys.
  assert.equal(configFromHf({ ...base, model_type: 'llama', logits_scaling: 8 }).logitsScaling, 1);
  assert.equal(configFromHf({ ...base, model_type: 'mistral' }).slidingWindow, 4096);
  assert.equal(configFromHf({ ...base, model_type: 'mistral', sliding_window: null }).slidingWindow, null);
});

test('transformers v5 rope_parameters', () => {
  const c = configFromHf({
    ...llama32,
    rope_theta: undefined,
    rope_scaling: undefined,
    rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 1e6 },
  });
  assert.equal(c.ropeTheta, 1e6);
  assert.deepEqual(c.ropeScaling, { type: 'linear', factor: 2 });
});

test('configs the forward cannot run are refused, naming the key', () => {
  const fails = (json: Record<string, unknown>, message: string) =>
    assert.throws(
      () => configFromHf(json),
      (e: unknown) => e instanceof ModelConfigError && e.message === message,
    );
  fails(
    { ...llama32, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] },
    'config model_type: unsupported architecture "gpt2" (GPT2LMHeadModel); supported: llama, mistral, qwen2, granite',
  );
  fails(
    { ...llama32, rope_scaling: { rope_type: 'yarn', factor: 4 } },
    'config rope_scaling.rope_type: unsupported rope type "yarn"; supported: default, linear, llama3',
  );
  fails(
    { ...llama32, num_key_value_heads: 5 },
    'config num_key_value_heads: 5 does not divide num_attention_heads 32 (each key/value head serves a whole group)',
  );
  fails({ ...llama32, hidden_act: 'gelu' }, 'config hidden_act: only "silu" (SwiGLU) is supported, found "gelu"');
  fails({ ...llama32, hidden_size: undefined }, 'config hidden_size: missing');
  fails({ ...llama32, vocab_size: '12' }, 'config vocab_size: expected a number, found "12"');
  fails(
    { ...llama32, model_type: 'qwen2', use_sliding_window: true },
    'config use_sliding_window: qwen2 per-layer sliding window attention is not supported',
  );
  assert.throws(
    () => defineConfig({ hidden: 30, layers: 1, heads: 4, intermediate: 8, vocab: 8 }),
    /config head_dim: expected a positive integer, found 7.5/,
  );
});

test('expectedTensors lists HF names and shapes in file order', () => {
  const c = defineConfig({
    architecture: 'qwen2',
    hidden: 8,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    intermediate: 12,
    vocab: 10,
    tieWordEmbeddings: true,
  });
  assert.deepEqual(expectedTensors(c), [
    { name: 'model.embed_tokens.weight', shape: [10, 8] },
    { name: 'model.layers.0.input_layernorm.weight', shape: [8] },
    { name: 'model.layers.0.self_attn.q_proj.weight', shape: [8, 8] },
    { name: 'model.layers.0.self_attn.q_proj.bias', shape: [8] },
    { name: 'model.layers.0.self_attn.k_proj.weight', shape: [4, 8] },
    { name: 'model.layers.0.self_attn.k_proj.bias', shape: [4] },
    { name: 'model.layers.0.self_attn.v_proj.weight', shape: [4, 8] },
    { name: 'model.layers.0.self_attn.v_proj.bias', shape: [4] },
    { name: 'model.layers.0.self_attn.o_proj.weight', shape: [8, 8] },
    { name: 'model.layers.0.post_attention_layernorm.weight', shape: [8] },
    { name: 'model.layers.0.mlp.gate_proj.weight', shape: [12, 8] },
    { name: 'model.layers.0.mlp.up_proj.weight', shape: [12, 8] },
    { name: 'model.layers.0.mlp.down_proj.weight', shape: [8, 12] },
    { name: 'model.norm.weight', shape: [8] },
  ]);
  const untied = expectedTensors(
    defineConfig({ ...c, architecture: 'llama', qkvBias: false, tieWordEmbeddings: false }),
  );
  assert.deepEqual(untied.at(-1), { name: 'lm_head.weight', shape: [10, 8] });
  assert.equal(untied.filter((t) => t.name.endsWith('.bias')).length, 0);
});
