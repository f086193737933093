import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configJson, parseModelConfig, readModelConfig } from '../../../engine/hf/config';
import { ModelFolderError } from '../../../engine/hf/errors';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const llama = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  max_position_embeddings: 131072,
  vocab_size: 128256,
  tie_word_embeddings: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  torch_dtype: 'bfloat16',
};

function fails(json: unknown, message: string, field?: string): void {
  assert.throws(
    () => parseModelConfig(json, 'm/config.json'),
    (err: unknown) => err instanceof ModelFolderError && err.message === message && err.field === field,
  );
}

test('a Llama 3.1 config: GQA, llama3 rope scaling, several EOS ids', () => {
  const c = parseModelConfig(llama);
  assert.equal(c.architecture, 'LlamaForCausalLM');
  assert.equal(c.modelType, 'llama');
  assert.equal(c.headDim, 128);
  assert.equal(c.numKeyValueHeads, 8);
  assert.deepEqual(c.eosTokenId, [128001, 128008, 128009]);
  assert.equal(c.ropeScaling?.ropeType, 'llama3');
  assert.equal(c.ropeScaling?.factor, 8);
  assert.equal(c.ropeScaling?.lowFreqFactor, 1);
  assert.equal(c.ropeScaling?.highFreqFactor, 4);
  assert.equal(c.ropeScaling?.originalMaxPositionEmbeddings, 8192);
  assert.equal(c.qkvBias, false);
  assert.equal(c.slidingWindow, null);
  assert.equal(c.torchDtype, 'bfloat16');
  assert.equal(c.granite, undefined);
});

test("transformers' defaults for what a config leaves out", () => {
  const c = parseModelConfig({ model_type: 'mistral', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 100, sliding_window: 4096 });
  assert.equal(c.architecture, 'MistralForCausalLM');
  assert.equal(c.numKeyValueHeads, 4);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.maxPositionEmbeddings, 131072);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.slidingWindow, 4096);
  assert.equal(c.bosTokenId, null);
});

test('qwen2 has q/k/v biases; granite has its four multipliers', () => {
  const qwen = parseModelConfig({ architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768 });
  assert.equal(qwen.qkvBias, true);
  assert.equal(qwen.oProjBias, false);
  assert.equal(qwen.headDim, 64);
  assert.equal(qwen.slidingWindow, null);
  const granite = parseModelConfig({
    architectures: ['GraniteForCausalLM'],
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 40,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    vocab_size: 49155,
    embedding_multiplier: 12.0,
    residual_multiplier: 0.22,
    attention_multiplier: 0.015625,
    logits_scaling: 8.0,
  });
  assert.deepEqual(granite.granite, { embeddingMultiplier: 12, residualMultiplier: 0.22, attentionMultiplier: 0.015625, logitsScaling: 8 });
});

test('explicit head_dim wins over hidden_size / heads', () => {
  assert.equal(parseModelConfig({ ...llama, head_dim: 64 }).headDim, 64);
});

test('bad configs: unknown architecture lists the supported ones; missing and wrong fields are named', () => {
  fails(
    { ...llama, architectures: ['GemmaForCausalLM'], model_type: 'gemma' },
    'm/config.json: architecture GemmaForCausalLM is not supported (supported: LlamaForCausalLM (llama), MistralForCausalLM (mistral), GraniteForCausalLM (granite), Qwen2ForCausalLM (qwen2))',
    'architectures',
  );
  fails({ ...llama, model_type: 'qwen2' }, 'm/config.json: model_type "qwen2" does not match architecture LlamaForCausalLM (model_type llama) (fix one of the two)', 'model_type');
  fails({ hidden_size: 1 }, 'm/config.json: has neither architectures nor model_type (say which architecture the model is; supported: LlamaForCausalLM (llama), MistralForCausalLM (mistral), GraniteForCausalLM (granite), Qwen2ForCausalLM (qwen2))', 'architectures');
  const { hidden_size: _, ...noHidden } = llama;
  fails(noHidden, 'm/config.json: has no hidden_size (every LlamaForCausalLM config.json gives it)', 'hidden_size');
  fails({ ...llama, num_hidden_layers: 0 }, 'm/config.json: num_hidden_layers is 0, not a positive integer', 'num_hidden_layers');
  fails({ ...llama, num_key_value_heads: 5 }, 'm/config.json: num_attention_heads 32 is not a multiple of num_key_value_heads 5 (grouped-query attention shares each key/value head among a whole number of query heads)', 'num_key_value_heads');
  fails({ ...llama, num_attention_heads: 30, num_key_value_heads: 10 }, 'm/config.json: hidden_size 4096 is not a multiple of num_attention_heads 30 (give head_dim, or fix one of the two)', 'num_attention_heads');
  fails({ ...llama, bos_token_id: 128256 }, 'm/config.json: bos_token_id 128256 is not below vocab_size 128256', 'bos_token_id');
  fails({ ...llama, tie_word_embeddings: 'yes' }, 'm/config.json: tie_word_embeddings is "yes", not true or false', 'tie_word_embeddings');
  fails({ ...llama, rope_scaling: { rope_type: 'linear' } }, 'm/config.json: rope_scaling of type linear has no factor', 'rope_scaling');
  fails([1], 'm/config.json: is not a JSON object');
});

test('readModelConfig: a missing or broken file', async () => {
  await assert.rejects(readModelConfig(dir), { message: `${join(dir, 'config.json')}: not found (a Hugging Face model folder has a config.json beside its weights)` });
  writeFileSync(join(dir, 'config.json'), '{"architectures": [');
  await assert.rejects(readModelConfig(dir), { message: new RegExp(`^${join(dir, 'config.json')}: is not valid JSON: `) });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(llama));
  assert.equal((await readModelConfig(dir)).numHiddenLayers, 32);
});

test('configJson writes what parseModelConfig reads back, for each architecture', () => {
  for (const modelType of ['llama', 'mistral', 'granite', 'qwen2'] as const) {
    const c = parseModelConfig({ ...llama, architectures: undefined, model_type: modelType, logits_scaling: 4, attention_multiplier: 0.5 });
    const back = parseModelConfig(JSON.parse(configJson(c)));
    const strip = ({ raw: _r, ...rest }: typeof c) => rest;
    assert.deepEqual(strip({ ...back, ropeScaling: back.ropeScaling && { ...back.ropeScaling, raw: {} } }), strip({ ...c, ropeScaling: c.ropeScaling && { ...c.ropeScaling, raw: {} } }), modelType);
  }
});
