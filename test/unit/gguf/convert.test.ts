// The HF → GGUF converter without llama.cpp: RoPE row order, tensor names, metadata per architecture, tokenizer
// metadata, per-tensor types, the bytes written (read back by our reader and by @huggingface/gguf), sharded input,
// and every bad input the issue names. llamaConvert.test.ts runs the files through llama.cpp itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { open, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { runCli } from '../../../engine/cli/run';
import { ConvertError, convertHfToGguf, ggufTensorName, hparamsMetadata, isIgnoredTensor, permuteRopeRows, planConversion, preTokenizerName, TokenType, writePlan } from '../../../engine/gguf/convert';
import { parseModelConfig } from '../../../engine/hf/config';
import { GgufWriteError } from '../../../engine/gguf/errors';
import { asNumber, GgufType, type GgufValue } from '../../../engine/gguf/format';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { dequantize } from '../../../engine/gguf/quant';
import { openGguf, readTensor } from '../../../engine/gguf/reader';
import type { WritableFile } from '../../../engine/gguf/writer';
import { defaultChatTemplate } from '../../../engine/hf/chatTemplate';
import { ModelFolderError, SafetensorsError } from '../../../engine/hf/errors';
import { readModelFolder } from '../../../engine/hf/modelFolder';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { writeSafetensors } from '../../../engine/hf/safetensorsWriter';
import { rotateHeads, ropeAngles, ropeInvFreq } from '../../../engine/model/rope';
import { editJson, fixture, kQuantDims, readJson, tempFolder } from './convertFixtures';

const tmp = tempFolder('convert-');
after(() => tmp.remove());

/** Metadata of a GGUF file as plain values by key. */
async function metadataOf(path: string): Promise<Map<string, GgufValue>> {
  const file = await openGguf(path);
  await file.close();
  return new Map(file.metadata);
}

function value(m: Map<string, GgufValue>, key: string): unknown {
  const v = m.get(key);
  assert.ok(v, `metadata lacks ${key}`);
  return v.type === GgufType.ARRAY ? v.value.items : v.value;
}

describe('RoPE row order', () => {
  test('rows of each head go from halves to interleaved: row 2i+t takes row t*(d/2)+i', () => {
    // Two heads of four one-byte rows.
    const out = permuteRopeRows(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 1, 4);
    assert.deepEqual([...out], [0, 2, 1, 3, 4, 6, 5, 7]);
    // Rows of three bytes move whole.
    const wide = permuteRopeRows(Uint8Array.from({ length: 12 }, (_, i) => i), 3, 4);
    assert.deepEqual([...wide], [0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
  });

  test("transformers' rotate_half of a head equals llama.cpp's adjacent-pair rotation of the reordered head", () => {
    const headDim = 16;
    const invFreq = ropeInvFreq({ headDim, ropeTheta: 10000, ropeScaling: null });
    // A head's q (or k) values: output row r of q_proj gives x[r]; reordering the rows reorders x the same way.
    const x = Float32Array.from({ length: headDim * 2 }, (_, i) => Math.sin(i * 1.7) + i / 10);
    const reorder = (v: Float32Array) => new Float32Array(permuteRopeRows(new Uint8Array(v.slice().buffer), 4, headDim).buffer);
    for (const position of [0, 1, 7, 300]) {
      const angles = ropeAngles(invFreq, position);
      const hf = x.slice();
      rotateHeads(hf, 0, 2, angles); // rotate_half, as transformers does
      const cpp = reorder(x);
      for (let head = 0; head < 2; head++) {
        for (let i = 0; i < headDim / 2; i++) {
          // llama.cpp's normal RoPE: pair (2i, 2i+1).
          const a = cpp[head * headDim + 2 * i];
          const b = cpp[head * headDim + 2 * i + 1];
          cpp[head * headDim + 2 * i] = a * angles.cos[i] - b * angles.sin[i];
          cpp[head * headDim + 2 * i + 1] = b * angles.cos[i] + a * angles.sin[i];
        }
      }
      const expected = reorder(hf);
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(cpp[i] - expected[i]) < 1e-6, `position ${position} element ${i}: ${cpp[i]} vs ${expected[i]}`);
    }
  });

  test('refuses an odd head dimension and partial heads', () => {
    assert.throws(() => permuteRopeRows(new Uint8Array(6), 1, 3), /even head dimension/);
    assert.throws(() => permuteRopeRows(new Uint8Array(6), 1, 4), /not whole heads/);
  });
});

describe('tensor names', () => {
  test("every llama-family tensor maps to llama.cpp's name", () => {
    const cases: [string, string | undefined][] = [
      ['model.embed_tokens.weight', 'token_embd.weight'],
      ['model.norm.weight', 'output_norm.weight'],
      ['lm_head.weight', 'output.weight'],
      ['model.layers.0.input_layernorm.weight', 'blk.0.attn_norm.weight'],
      ['model.layers.11.self_attn.q_proj.weight', 'blk.11.attn_q.weight'],
      ['model.layers.3.self_attn.k_proj.bias', 'blk.3.attn_k.bias'],
      ['model.layers.3.self_attn.v_proj.weight', 'blk.3.attn_v.weight'],
      ['model.layers.3.self_attn.o_proj.weight', 'blk.3.attn_output.weight'],
      ['model.layers.3.post_attention_layernorm.weight', 'blk.3.ffn_norm.weight'],
      ['model.layers.3.mlp.gate_proj.weight', 'blk.3.ffn_gate.weight'],
      ['model.layers.3.mlp.up_proj.bias', 'blk.3.ffn_up.bias'],
      ['model.layers.3.mlp.down_proj.weight', 'blk.3.ffn_down.weight'],
      ['model.layers.3.input_layernorm.bias', undefined],
      ['model.layers.3.self_attn.q_norm.weight', undefined],
      ['model.vision_tower.weight', undefined],
    ];
    for (const [hf, expected] of cases) assert.equal(ggufTensorName(hf)?.gguf, expected, hf);
    assert.equal(ggufTensorName('model.layers.2.self_attn.q_proj.weight')?.role, 'attn_q');
    assert.equal(ggufTensorName('model.layers.2.self_attn.k_proj.bias')?.role, 'attn_k');
    assert.equal(ggufTensorName('model.layers.2.self_attn.v_proj.weight')?.role, 'other');
    assert.equal(isIgnoredTensor('model.layers.2.self_attn.rotary_emb.inv_freq'), true);
    assert.equal(isIgnoredTensor('model.layers.2.self_attn.q_proj.weight'), false);
  });
});

describe('an F32 llama conversion', () => {
  let dir: string;
  let out: string;
  before(async () => {
    dir = await fixture(tmp.dir);
    out = join(tmp.dir, 'llama-f32.gguf');
    await convertHfToGguf(dir, out, 'f32', { threads: 1 });
  });

  test("has the hyper-parameters llama.cpp reads, from config.json", async () => {
    const m = await metadataOf(out);
    const config = await readJson(join(dir, 'config.json'));
    const expected: [string, unknown, GgufType][] = [
      ['general.architecture', 'llama', GgufType.STRING],
      ['general.file_type', 0, GgufType.UINT32],
      ['llama.vocab_size', config.vocab_size, GgufType.UINT32],
      ['llama.context_length', config.max_position_embeddings, GgufType.UINT32],
      ['llama.embedding_length', config.hidden_size, GgufType.UINT32],
      ['llama.block_count', config.num_hidden_layers, GgufType.UINT32],
      ['llama.feed_forward_length', config.intermediate_size, GgufType.UINT32],
      ['llama.attention.head_count', config.num_attention_heads, GgufType.UINT32],
      ['llama.attention.head_count_kv', config.num_key_value_heads, GgufType.UINT32],
      ['llama.attention.layer_norm_rms_epsilon', Math.fround(config.rms_norm_eps as number), GgufType.FLOAT32],
      ['llama.rope.freq_base', config.rope_theta, GgufType.FLOAT32],
      ['llama.rope.dimension_count', (config.hidden_size as number) / (config.num_attention_heads as number), GgufType.UINT32],
    ];
    for (const [key, v, type] of expected) {
      assert.equal(m.get(key)?.type, type, `${key} type`);
      assert.equal(value(m, key), v, key);
    }
    assert.equal(m.has('general.quantization_version'), false, 'an unquantized file has no quantization version');
    assert.equal(m.has('llama.attention.key_length'), false, 'head_dim is hidden / heads, so key_length is implied');
  });

  test('has the tokenizer: tokens, types, merges, special ids, no BOS added, the gpt-2 pre-tokenizer and the chat template', async () => {
    const m = await metadataOf(out);
    const tokenizer = await readJson(join(dir, 'tokenizer.json'));
    const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
    const model = tokenizer.model as { vocab: Record<string, number>; merges: string[] };
    const added = tokenizer.added_tokens as { id: number; content: string; special: boolean }[];
    const tokens = value(m, 'tokenizer.ggml.tokens') as string[];
    const types = value(m, 'tokenizer.ggml.token_type') as number[];
    assert.equal(value(m, 'tokenizer.ggml.model'), 'gpt2');
    assert.equal(value(m, 'tokenizer.ggml.pre'), 'gpt-2');
    assert.equal(tokens.length, (await readJson(join(dir, 'config.json'))).vocab_size);
    for (const [token, id] of Object.entries(model.vocab)) assert.equal(tokens[id], token, `token ${id}`);
    for (const t of added) {
      assert.equal(tokens[t.id], t.content);
      assert.equal(types[t.id], TokenType.CONTROL, `${t.content} is a control token`);
    }
    assert.equal(types.filter((t) => t === TokenType.NORMAL).length, tokens.length - added.length);
    assert.deepEqual(value(m, 'tokenizer.ggml.merges'), model.merges);
    const id = (content: string) => added.find((t) => t.content === content)!.id;
    assert.equal(value(m, 'tokenizer.ggml.bos_token_id'), id(tokenizerConfig.bos_token as string));
    assert.equal(value(m, 'tokenizer.ggml.eos_token_id'), id(tokenizerConfig.eos_token as string));
    assert.equal(value(m, 'tokenizer.ggml.padding_token_id'), id(tokenizerConfig.pad_token as string));
    assert.equal(value(m, 'tokenizer.ggml.add_bos_token'), false);
    assert.equal(value(m, 'tokenizer.ggml.add_eos_token'), false);
    assert.equal(value(m, 'tokenizer.chat_template'), tokenizerConfig.chat_template);
  });

  test('tensors have GGUF names and dims; data is the safetensors bytes, q and k rows reordered per head', async () => {
    const file = await openGguf(out);
    const weights = await openSafetensors(join(dir, 'model.safetensors'));
    try {
      const config = await readJson(join(dir, 'config.json'));
      const headDim = (config.hidden_size as number) / (config.num_attention_heads as number);
      // Tied embeddings: no output.weight.
      assert.equal(file.tensor('output.weight'), undefined);
      assert.equal(file.tensors.length, weights.names.length);
      for (const hfName of weights.names) {
        const info = weights.info(hfName);
        const t = file.tensor(ggufTensorName(hfName)!.gguf)!;
        assert.ok(t, hfName);
        assert.deepEqual(t.dims, [...info.shape].reverse(), `${t.name} dims`);
        assert.equal(t.type, GgmlType.F32, t.name);
        const raw = await weights.readRaw(hfName);
        const written = await readTensor(file, t);
        const role = ggufTensorName(hfName)!.role;
        const expected = role === 'other' ? raw : permuteRopeRows(raw, info.shape[1] * 4, headDim);
        assert.ok(Buffer.from(expected).equals(written), `${t.name} data`);
        if (role !== 'other') assert.ok(!raw.equals(written), `${t.name} rows were reordered`);
      }
    } finally {
      await file.close();
      await weights.close();
    }
  });

  test('@huggingface/gguf, an independent reader, sees the same metadata and tensor infos', async () => {
    const theirs = await gguf(out, { allowLocalFile: true, typedMetadata: true });
    const ours = await openGguf(out);
    await ours.close();
    assert.equal(theirs.typedMetadata.version.value, 3);
    assert.equal(Number(theirs.typedMetadata.kv_count.value), ours.metadata.size);
    for (const [key, v] of ours.metadata) {
      const t = theirs.typedMetadata[key];
      assert.ok(t, `@huggingface/gguf lacks ${key}`);
      assert.equal(t.type, v.type, `${key} type`);
      assert.deepEqual(t.value, v.type === GgufType.ARRAY ? v.value.items : v.value, key);
    }
    assert.equal(Number(theirs.tensorDataOffset), ours.dataOffset);
    assert.deepEqual(
      theirs.tensorInfos.map((t) => ({ name: t.name, dims: t.shape.map(Number), type: Number(t.dtype), offset: Number(t.offset) })),
      ours.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, offset: t.offset })),
    );
  });
});

describe('types per tensor', () => {
  test('F16 halves every matrix (within half precision) and keeps norms in F32', async () => {
    const dir = await fixture(tmp.dir);
    const out = join(tmp.dir, 'f16.gguf');
    const result = await convertHfToGguf(dir, out, 'f16', { threads: 1 });
    assert.deepEqual(result.types, { F32: 5, F16: 15 });
    const file = await openGguf(out);
    const weights = await openModelWeights(dir);
    try {
      assert.equal(asNumber(file.metadata.get('general.file_type')), 1);
      const t = file.tensor('blk.1.ffn_down.weight')!;
      assert.equal(t.type, GgmlType.F16);
      const source = await weights.readFloat32('model.layers.1.mlp.down_proj.weight');
      const back = dequantize(GgmlType.F16, await readTensor(file, t), t.elements);
      let worst = 0;
      for (let i = 0; i < source.length; i++) worst = Math.max(worst, Math.abs(back[i] - source[i]) / Math.max(Math.abs(source[i]), 6.1e-5));
      assert.ok(worst <= 2 ** -11, `worst relative error ${worst}`);
      assert.equal(file.tensor('blk.0.attn_norm.weight')!.type, GgmlType.F32);
    } finally {
      await file.close();
      await weights.close();
    }
  });

  test("Q4_K_M: output (the tied token_embd) Q6_K, attn_v and ffn_down Q6_K on llama-quantize's layers, the rest Q4_K", async () => {
    const dir = await fixture(tmp.dir, { dims: { ...kQuantDims, numHiddenLayers: 4 } });
    const out = join(tmp.dir, 'q4km.gguf');
    const result = await convertHfToGguf(dir, out, 'q4_k_m', { threads: 1 });
    const type = (name: string) => result.tensors.find((t) => t.name === name)!.type;
    assert.equal(type('token_embd.weight'), 'Q6_K');
    // With 4 layers the first eighth is empty; layer 3 is the last eighth and layer 2 has (2 - 0) % 3 == 2.
    assert.deepEqual([0, 1, 2, 3].map((l) => type(`blk.${l}.attn_v.weight`)), ['Q4_K', 'Q4_K', 'Q6_K', 'Q6_K']);
    assert.deepEqual([0, 1, 2, 3].map((l) => type(`blk.${l}.ffn_down.weight`)), ['Q4_K', 'Q4_K', 'Q6_K', 'Q6_K']);
    assert.equal(type('blk.0.attn_q.weight'), 'Q4_K');
    assert.equal(type('blk.0.ffn_norm.weight'), 'F32');
    const m = await metadataOf(out);
    assert.equal(value(m, 'general.file_type'), 15);
    assert.equal(value(m, 'general.quantization_version'), 2);
  });

  test('rows that are not whole K-quant blocks fall back as llama-quantize does (Q4_K to Q5_0, Q6_K to Q8_0)', async () => {
    const dir = await fixture(tmp.dir); // hidden 64
    const result = await convertHfToGguf(dir, join(tmp.dir, 'q4km-tiny.gguf'), 'q4_k_m', { threads: 1 });
    assert.deepEqual(result.types, { Q8_0: 3, F32: 5, Q5_0: 12 });
  });

  test('threads and slice size change nothing in the bytes written', async () => {
    const dir = await fixture(tmp.dir, { dims: kQuantDims });
    const a = join(tmp.dir, 'one-thread.gguf');
    const b = join(tmp.dir, 'two-threads.gguf');
    await convertHfToGguf(dir, a, 'q4_k_m', { threads: 1 });
    // 4 KiB slices cut every matrix into many slices (q/k on whole heads); two threads use the worker pool.
    await convertHfToGguf(dir, b, 'q4_k_m', { threads: 2, sliceBytes: 4096 });
    assert.ok((await readFile(a)).equals(await readFile(b)));
  });
});

describe('architectures', () => {
  test('mistral is llama to llama.cpp, with the same q/k reorder', async () => {
    const dir = await fixture(tmp.dir, { arch: 'mistral' });
    const folder = await readModelFolder(dir);
    const weights = await folder.openWeights();
    try {
      const plan = planConversion(folder, weights, 'f16');
      assert.equal(plan.arch, 'llama');
      const q = plan.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!;
      assert.equal(q.source.kind === 'weights' && q.source.ropeHeadDim, 16);
    } finally {
      await weights.close();
    }
  });

  test('qwen2 keeps its name, its q/k/v biases, and its rows in order (NEOX RoPE rotates halves like transformers)', async () => {
    const dir = await fixture(tmp.dir, { arch: 'qwen2' });
    const out = join(tmp.dir, 'qwen2.gguf');
    const result = await convertHfToGguf(dir, out, 'f32', { threads: 1 });
    const m = await metadataOf(out);
    assert.equal(value(m, 'general.architecture'), 'qwen2');
    assert.equal(value(m, 'qwen2.embedding_length'), 64);
    assert.equal(m.has('llama.embedding_length'), false);
    for (const b of ['attn_q', 'attn_k', 'attn_v']) assert.ok(result.tensors.some((t) => t.name === `blk.1.${b}.bias` && t.type === 'F32'), b);
    const file = await openGguf(out);
    const weights = await openModelWeights(dir);
    try {
      const raw = await weights.readRaw('model.layers.0.self_attn.q_proj.weight');
      assert.ok(raw.equals(await readTensor(file, file.tensor('blk.0.attn_q.weight')!)), 'qwen2 q_proj rows unchanged');
    } finally {
      await file.close();
      await weights.close();
    }
  });

  test("granite writes its scales under llama.cpp's granite keys", async () => {
    const dir = await fixture(tmp.dir, { arch: 'granite' });
    const out = join(tmp.dir, 'granite.gguf');
    await convertHfToGguf(dir, out, 'f16', { threads: 1 });
    const m = await metadataOf(out);
    const config = await readJson(join(dir, 'config.json'));
    assert.equal(value(m, 'general.architecture'), 'granite');
    assert.equal(value(m, 'granite.attention.scale'), Math.fround(config.attention_multiplier as number));
    assert.equal(value(m, 'granite.embedding_scale'), config.embedding_multiplier);
    assert.equal(value(m, 'granite.residual_scale'), Math.fround(config.residual_multiplier as number));
    assert.equal(value(m, 'granite.logit_scale'), config.logits_scaling);
    assert.equal(value(m, 'granite.block_count'), 2);
  });

  test('head_dim other than hidden / heads is written as key_length and value_length', () => {
    const base = { architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 2, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 1000 };
    const implied = hparamsMetadata(parseModelConfig(base), 'config.json');
    assert.equal(implied.entries.some(([k]) => k === 'llama.attention.key_length'), false);
    assert.deepEqual(implied.entries.find(([k]) => k === 'llama.rope.dimension_count')![1].value, 128);
    const explicit = new Map(hparamsMetadata(parseModelConfig({ ...base, head_dim: 256 }), 'config.json').entries);
    assert.equal(explicit.get('llama.rope.dimension_count')!.value, 256);
    assert.equal(explicit.get('llama.attention.key_length')!.value, 256);
    assert.equal(explicit.get('llama.attention.value_length')!.value, 256);
  });

  test('a sliding window is not carried over, with a warning saying from which length outputs differ', () => {
    const { warnings } = hparamsMetadata(parseModelConfig({ architectures: ['MistralForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 10, sliding_window: 4096, max_position_embeddings: 32768 }), 'config.json');
    assert.deepEqual(warnings, ["config.json: sliding_window 4096 is not carried over; llama.cpp's llama architecture attends to the whole context, so outputs differ past 4096 tokens"]);
  });

  test('rope_scaling: linear and yarn become rope.scaling keys, llama3 a rope_freqs tensor of per-frequency divisors', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'config.json', (c) => (c.rope_scaling = { rope_type: 'linear', factor: 4 }));
    let m = await metadataOf((await convertHfToGguf(dir, join(tmp.dir, 'linear.gguf'), 'f16', { threads: 1 })).path);
    assert.equal(value(m, 'llama.rope.scaling.type'), 'linear');
    assert.equal(value(m, 'llama.rope.scaling.factor'), 4);

    await editJson(dir, 'config.json', (c) => (c.rope_scaling = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 1024 }));
    m = await metadataOf((await convertHfToGguf(dir, join(tmp.dir, 'yarn.gguf'), 'f16', { threads: 1 })).path);
    assert.equal(value(m, 'llama.rope.scaling.type'), 'yarn');
    assert.equal(value(m, 'llama.rope.scaling.original_context_length'), 1024);

    const scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    await editJson(dir, 'config.json', (c) => (c.rope_scaling = scaling));
    const out = join(tmp.dir, 'llama3.gguf');
    await convertHfToGguf(dir, out, 'f16', { threads: 1 });
    const file = await openGguf(out);
    try {
      const t = file.tensor('rope_freqs.weight')!;
      assert.deepEqual(t.dims, [8]);
      assert.equal(t.type, GgmlType.F32);
      assert.equal(file.metadata.has('llama.rope.scaling.type'), false);
      const divisors = dequantize(GgmlType.F32, await readTensor(file, t), 8);
      // The reference model's scaled inverse frequencies are the plain ones divided by these divisors.
      const plain = ropeInvFreq({ headDim: 16, ropeTheta: 10000, ropeScaling: null });
      const scaled = ropeInvFreq({ headDim: 16, ropeTheta: 10000, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } });
      for (let i = 0; i < 8; i++) assert.ok(Math.abs(plain[i] / divisors[i] - scaled[i]) <= 1e-6 * plain[i], `frequency ${i}`);
      assert.equal(divisors[0], 1, 'the highest frequency is kept');
      assert.equal(divisors[7], 8, 'the lowest is divided by the factor');
    } finally {
      await file.close();
    }
  });

  test('rope_scaling dynamic is dropped with a warning; an unknown type is refused naming the supported ones', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'config.json', (c) => (c.rope_scaling = { rope_type: 'dynamic', factor: 2 }));
    const result = await convertHfToGguf(dir, join(tmp.dir, 'dynamic.gguf'), 'f16', { threads: 1 });
    assert.ok(result.warnings.some((w) => /rope_scaling type dynamic is not carried over/.test(w)), result.warnings.join('\n'));
    await editJson(dir, 'config.json', (c) => (c.rope_scaling = { rope_type: 'longrope', factor: 2 }));
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'longrope.gguf'), 'f16'), (err: ConvertError) => {
      assert.ok(err instanceof ConvertError);
      assert.match(err.message, /config\.json: rope_scaling type longrope is not supported \(supported: linear, yarn, llama3/);
      return true;
    });
    assert.equal(existsSync(join(tmp.dir, 'longrope.gguf')), false);
  });
});

describe('tokenizer variants', () => {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const qwen2Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const split = (pattern: string) => ({ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false });

  test("pre-tokenizers are recognised by their pattern: gpt-2, llama 3's, qwen2's, GPT-2 after single digits", () => {
    assert.deepEqual(preTokenizerName({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true }, normalizer: null }), { name: 'gpt-2' });
    assert.deepEqual(preTokenizerName({ pre_tokenizer: { type: 'Sequence', pretokenizers: [split(llama3Pattern), byteLevel] } }), { name: 'llama-bpe' });
    assert.deepEqual(preTokenizerName({ pre_tokenizer: { type: 'Sequence', pretokenizers: [split(qwen2Pattern), byteLevel] }, normalizer: { type: 'NFC' } }), { name: 'qwen2' });
    assert.deepEqual(
      preTokenizerName({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, use_regex: true }] } }),
      { name: 'refact' },
    );
  });

  test('an unrecognised pre-tokenizer falls back to "default" with a warning naming it', () => {
    const choice = preTokenizerName({ pre_tokenizer: { type: 'Sequence', pretokenizers: [split('\\p{L}+'), byteLevel] } }, 'x/tokenizer.json');
    assert.equal(choice.name, 'default');
    assert.match(choice.warning!, /^x\/tokenizer\.json: the pre-tokenizer \(Sequence of Split, ByteLevel\) is not one this converter recognises; wrote tokenizer\.ggml\.pre "default"/);
    // A prefix space changes every token: not GPT-2's.
    assert.equal(preTokenizerName({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, use_regex: true } }).name, 'default');
  });

  test("a llama-3-style folder: pre-tokenizer llama-bpe, BOS added as its post-processor says, non-special '<|...|>' tokens as control", async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'tokenizer.json', (t) => {
      t.pre_tokenizer = { type: 'Sequence', pretokenizers: [split(llama3Pattern), byteLevel] };
      t.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] };
      (t.added_tokens as { content: string; special: boolean }[]).find((a) => a.content === '<|user|>')!.special = false;
    });
    await editJson(dir, 'tokenizer_config.json', (c) => delete c.add_bos_token);
    const out = join(tmp.dir, 'llama3-tok.gguf');
    const result = await convertHfToGguf(dir, out, 'f16', { threads: 1 });
    const m = await metadataOf(out);
    assert.equal(value(m, 'tokenizer.ggml.pre'), 'llama-bpe');
    assert.equal(value(m, 'tokenizer.ggml.add_bos_token'), true);
    const tokens = value(m, 'tokenizer.ggml.tokens') as string[];
    assert.equal((value(m, 'tokenizer.ggml.token_type') as number[])[tokens.indexOf('<|user|>')], TokenType.CONTROL);
    assert.ok(!result.warnings.some((w) => /pre-tokenizer/.test(w)), result.warnings.join('\n'));
  });

  test('a SentencePiece-style tokenizer (byte_fallback) is refused, saying which models use it', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'tokenizer.json', (t) => ((t.model as Record<string, unknown>).byte_fallback = true));
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'spm.gguf'), 'f16'), (err: Error) => {
      assert.ok(err instanceof ConvertError);
      assert.match(err.message, /tokenizer\.json: is a SentencePiece-style BPE tokenizer \(byte_fallback \/ Metaspace\), as llama 2 and mistral 7B v0\.x use/);
      return true;
    });
  });

  test('an embedding with more rows than tokens is padded with [PADn] user-defined tokens', async () => {
    const dir = await fixture(tmp.dir);
    // Drop the last added token from the tokenizer: the embedding keeps its row.
    let dropped = -1;
    await editJson(dir, 'tokenizer.json', (t) => {
      const added = t.added_tokens as { id: number }[];
      dropped = added.pop()!.id;
      for (const [k, id] of Object.entries((t.model as { vocab: Record<string, number> }).vocab)) if (id === dropped) delete (t.model as { vocab: Record<string, number> }).vocab[k];
    });
    await editJson(dir, 'tokenizer_config.json', (c) => {
      delete (c.added_tokens_decoder as Record<string, unknown>)[String(dropped)];
      c.additional_special_tokens = (c.additional_special_tokens as string[]).slice(0, -1);
    });
    const out = join(tmp.dir, 'padded.gguf');
    await convertHfToGguf(dir, out, 'f16', { threads: 1 });
    const m = await metadataOf(out);
    assert.equal((value(m, 'tokenizer.ggml.tokens') as string[])[dropped], `[PAD${dropped}]`);
    assert.equal((value(m, 'tokenizer.ggml.token_type') as number[])[dropped], TokenType.USER_DEFINED);
  });
});

describe('progress and cancelling', () => {
  test('progress comes once per tensor, in order, with the input bytes done so far', async () => {
    const dir = await fixture(tmp.dir);
    const seen: { tensor: string; index: number; bytesDone: number }[] = [];
    const result = await convertHfToGguf(dir, join(tmp.dir, 'progress.gguf'), 'f16', { threads: 1, onProgress: ({ tensor, index, bytesDone }) => seen.push({ tensor, index, bytesDone }) });
    assert.deepEqual(
      seen.map((p) => p.tensor),
      result.tensors.map((t) => t.name),
    );
    assert.deepEqual(
      seen.map((p) => p.index),
      result.tensors.map((_, i) => i),
    );
    assert.equal(seen[0].bytesDone, 0);
    assert.ok(seen.every((p, i) => i === 0 || p.bytesDone > seen[i - 1].bytesDone));
    assert.ok(seen[seen.length - 1].bytesDone < result.inputBytes);
  });

  test('an abort stops the conversion between slices, even inside a tensor; nothing is left behind', async () => {
    const dir = await fixture(tmp.dir);
    const out = join(tmp.dir, 'cancelled.gguf');
    const controller = new AbortController();
    // Slices of 2 KiB cut the first tensor (the 512 x 64 F32 embedding, 128 KiB) into 64 slices of 1 KiB of F16;
    // the first slice written cancels the conversion.
    let slicesWritten = 0;
    const watching = async (p: string): Promise<WritableFile> => {
      const handle = await open(p, 'w');
      return {
        async write(buffer, offset, length, position) {
          if (length === 1024 && ++slicesWritten === 1) controller.abort();
          return handle.write(buffer, offset, length, position);
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    };
    const run = convertHfToGguf(dir, out, 'f16', { threads: 1, sliceBytes: 2048, signal: controller.signal, writer: { openFile: watching } });
    await assert.rejects(run, (err: Error) => {
      assert.equal(err.name, 'AbortError');
      return true;
    });
    assert.equal(slicesWritten, 1, 'stopped after the slice that cancelled, inside the first tensor');
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('cancelled')), []);
  });
});

describe('sharded input', () => {
  test('a model split into two shards with an index converts to the same bytes as the single file', async () => {
    const dir = await fixture(tmp.dir);
    const single = join(tmp.dir, 'single.gguf');
    await convertHfToGguf(dir, single, 'q8_0', { threads: 1 });
    const weights = await openSafetensors(join(dir, 'model.safetensors'));
    const names = [...weights.names];
    const tensors = await Promise.all(names.map(async (name) => ({ name, dtype: weights.info(name).dtype, shape: weights.info(name).shape, data: new Uint8Array(await weights.readRaw(name)) })));
    await weights.close();
    const half = Math.ceil(names.length / 2);
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    await writeSafetensors(join(dir, shards[0]), tensors.slice(0, half));
    await writeSafetensors(join(dir, shards[1]), tensors.slice(half));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: Object.fromEntries(names.map((n, i) => [n, shards[i < half ? 0 : 1]])) }));
    await unlink(join(dir, 'model.safetensors'));
    const sharded = join(tmp.dir, 'sharded.gguf');
    await convertHfToGguf(dir, sharded, 'q8_0', { threads: 1 });
    assert.ok((await readFile(single)).equals(await readFile(sharded)));
  });
});

describe('bad input', () => {
  test('an unknown architecture is refused, listing the supported ones', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'config.json', (c) => {
      c.architectures = ['GPTNeoXForCausalLM'];
      c.model_type = 'gpt_neox';
    });
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'neox.gguf'), 'f16'), (err: Error) => {
      assert.ok(err instanceof ModelFolderError);
      assert.equal(err.message, `${join(dir, 'config.json')}: architecture GPTNeoXForCausalLM is not supported (supported: LlamaForCausalLM (llama), MistralForCausalLM (mistral), GraniteForCausalLM (granite), Qwen2ForCausalLM (qwen2))`);
      return true;
    });
  });

  test('a folder without config.json or tokenizer.json is refused naming the missing file', async () => {
    const dir = await fixture(tmp.dir);
    await rm(join(dir, 'tokenizer.json'));
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'x.gguf'), 'f16'), (err: Error) => {
      assert.ok(err instanceof ModelFolderError);
      assert.equal((err as ModelFolderError).file, join(dir, 'tokenizer.json'));
      assert.match(err.message, /tokenizer\.json: not found \(a Hugging Face model folder has tokenizer\.json beside config\.json/);
      return true;
    });
    await rm(join(dir, 'config.json'));
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'x.gguf'), 'f16'), /config\.json: not found/);
  });

  test('a truncated safetensors file is refused naming the file, the tensor and the byte offset; nothing is written', async () => {
    const dir = await fixture(tmp.dir);
    const path = join(dir, 'model.safetensors');
    const weights = await openSafetensors(path);
    const last = weights.header.tensors[weights.header.tensors.length - 1];
    await weights.close();
    const size = (await stat(path)).size;
    await truncate(path, size - 100);
    const out = join(tmp.dir, 'truncated.gguf');
    await assert.rejects(convertHfToGguf(dir, out, 'q8_0'), (err: Error) => {
      assert.ok(err instanceof SafetensorsError);
      assert.equal(err.file, path);
      assert.equal(err.tensor, last.name);
      assert.equal(err.offset, size - 100);
      assert.equal(err.message, `${path}: tensor '${last.name}' needs bytes ${last.fileOffset}..${size} but the file ends at ${size - 100} (the file is truncated; re-download or re-write it)`);
      return true;
    });
    assert.equal(existsSync(out), false);
  });

  test('a file that shrinks while it is converted: the read error (file, tensor, offset) comes through, no GGUF is left', async () => {
    const dir = await fixture(tmp.dir);
    const folder = await readModelFolder(dir);
    const weights = await folder.openWeights();
    const out = join(tmp.dir, 'shrunk.gguf');
    try {
      const plan = planConversion(folder, weights, 'f16');
      const path = join(dir, 'model.safetensors');
      await truncate(path, 4096); // after the header was checked
      await assert.rejects(writePlan(plan, weights, out, { threads: 1 }), (err: Error) => {
        assert.ok(err instanceof SafetensorsError, `${err.name}: ${err.message}`);
        assert.equal(err.file, path);
        assert.equal(err.offset, 4096);
        assert.ok(err.tensor);
        assert.match(err.message, /but the file ends at 4096/);
        return true;
      });
    } finally {
      await weights.close();
    }
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('shrunk')), []);
  });

  test('a tokenizer_config.json without chat_template: the default template is written, with a warning', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'tokenizer_config.json', (c) => delete c.chat_template);
    const out = join(tmp.dir, 'no-template.gguf');
    const seen: string[] = [];
    const result = await convertHfToGguf(dir, out, 'f16', { threads: 1, onWarning: (w) => seen.push(w) });
    const warning = result.warnings.find((w) => w.includes('has no chat_template'));
    assert.ok(warning, result.warnings.join('\n'));
    assert.match(warning, /tokenizer_config\.json has no chat_template; using the default <\|system\|>\/<\|user\|>\/<\|assistant\|> template/);
    assert.deepEqual(seen, result.warnings);
    assert.equal(value(await metadataOf(out), 'tokenizer.chat_template'), defaultChatTemplate);
  });

  test('a tensor the llama family does not have is refused by name', async () => {
    const dir = await fixture(tmp.dir);
    const path = join(dir, 'model.safetensors');
    const weights = await openSafetensors(path);
    const tensors = await Promise.all(weights.names.map(async (name) => ({ name, dtype: weights.info(name).dtype, shape: weights.info(name).shape, data: new Uint8Array(await weights.readRaw(name)) })));
    await weights.close();
    tensors.push({ name: 'model.layers.0.self_attn.q_norm.weight', dtype: 'F32', shape: [16], data: new Uint8Array(64) });
    await writeSafetensors(path, tensors);
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'extra.gguf'), 'f16'), (err: Error) => {
      assert.ok(err instanceof ConvertError);
      assert.equal((err as ConvertError).tensor, 'model.layers.0.self_attn.q_norm.weight');
      assert.match(err.message, /model\.safetensors: tensor 'model\.layers\.0\.self_attn\.q_norm\.weight' is not a tensor of a llama model \(this converter maps the llama family's tensors/);
      return true;
    });
  });

  test('weights that do not match config.json are refused naming the tensor and both shapes; a missing tensor by name', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'config.json', (c) => (c.intermediate_size = 128));
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'shape.gguf'), 'f16'), /model\.safetensors: tensor 'model\.layers\.0\.mlp\.down_proj\.weight' has shape \[64, 192\], config\.json implies \[64, 128\] \(the weights and config\.json do not belong together\)/);
    await editJson(dir, 'config.json', (c) => {
      c.intermediate_size = 192;
      c.tie_word_embeddings = false;
    });
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'missing.gguf'), 'f16'), (err: Error) => {
      assert.ok(err instanceof ConvertError);
      assert.match(err.message, /the weights lack tensor 'lm_head\.weight' \(set tie_word_embeddings in config\.json if the model shares its embeddings\)/);
      return true;
    });
  });

  test('a NaN weight stops a quantized conversion naming the tensor and element; F16 carries it', async () => {
    const dir = await fixture(tmp.dir);
    const path = join(dir, 'model.safetensors');
    const weights = await openSafetensors(path);
    const info = weights.info('model.layers.1.mlp.up_proj.weight');
    await weights.close();
    const handle = await open(path, 'r+');
    const nan = Buffer.alloc(4);
    nan.writeFloatLE(NaN);
    await handle.write(nan, 0, 4, info.fileOffset + 4 * 1000);
    await handle.close();
    await assert.rejects(convertHfToGguf(dir, join(tmp.dir, 'nan.gguf'), 'q8_0', { threads: 1 }), (err: Error) => {
      assert.ok(err instanceof ConvertError, `${err.name}: ${err.message}`);
      assert.equal(err.message, `${path}: tensor 'model.layers.1.mlp.up_proj.weight' element 1000 is NaN; Q8_0 holds finite values only (the weights are corrupt or overflowed; re-save them)`);
      return true;
    });
    assert.equal(existsSync(join(tmp.dir, 'nan.gguf')), false);
    await convertHfToGguf(dir, join(tmp.dir, 'nan-f16.gguf'), 'f16', { threads: 1 });
  });

  test('out of disk space: the write fails with ENOSPC, nothing is left under the final name, an older file there survives', async () => {
    const dir = await fixture(tmp.dir);
    const out = join(tmp.dir, 'full-disk.gguf');
    await writeFile(out, 'older file');
    // A test double for the file system: accepts 100 KB, then reports a full disk, as a real one would.
    let budget = 100_000;
    const fullDisk = async (p: string): Promise<WritableFile> => {
      const handle = await open(p, 'w');
      return {
        async write(buffer, offset, length, position) {
          if (budget <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          const n = Math.min(length, budget);
          budget -= n;
          return handle.write(buffer, offset, n, position);
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    };
    await assert.rejects(convertHfToGguf(dir, out, 'f32', { threads: 1, writer: { openFile: fullDisk } }), (err: Error) => {
      assert.ok(err instanceof GgufWriteError, `${err.name}: ${err.message}`);
      assert.equal((err as GgufWriteError).code, 'ENOSPC');
      assert.match(err.message, /full-disk\.gguf: writing failed \(ENOSPC\); nothing was written \(the disk is full; free disk space on the drive holding/);
      return true;
    });
    assert.equal(await readFile(out, 'utf8'), 'older file');
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('full-disk.gguf.')), [], 'no temporary file is left');
  });
});

describe('taxonomy-studio convert', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp.dir, env: {} });
    return { code, stdout, stderr };
  }

  test('converts a folder and prints what it wrote', async () => {
    const dir = await fixture(tmp.dir);
    const r = await cli(['convert', dir, '--out', 'cli.gguf', '--type', 'Q8_0', '--threads', '1', '--name', 'Fixture']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cli\.gguf: llama, Q8_0, 20 tensors \(15 Q8_0, 5 F32\), 151 KiB from 513 KiB in \d+\.\d s\n$/);
    assert.equal(r.stderr, '');
    assert.equal(value(await metadataOf(join(tmp.dir, 'cli.gguf')), 'general.name'), 'Fixture');
  });

  test('warnings go to stderr and the file is still written', async () => {
    const dir = await fixture(tmp.dir);
    await editJson(dir, 'tokenizer_config.json', (c) => delete c.chat_template);
    const r = await cli(['convert', dir, '-o', 'warned.gguf', '--threads', '1']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^taxonomy-studio convert: warning: .*tokenizer_config\.json has no chat_template; using the default/m);
    assert.match(r.stdout, /warned\.gguf: llama, F16, /);
  });

  test('bad usage exits 2 naming what to fix; an unconvertible folder exits 1 with the reason', async () => {
    const dir = await fixture(tmp.dir);
    let r = await cli(['convert', dir, '--out', 'x.gguf', '--type', 'q3_k']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown quantization type 'q3_k'; use one of: f32, f16, bf16, q8_0, q4_0, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k/);
    r = await cli(['convert', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /convert needs --out <file\.gguf>/);
    r = await cli(['convert', join(tmp.dir, 'nowhere'), '--out', 'x.gguf']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such folder: .*nowhere/);
    r = await cli(['convert', dir, '--out', 'x.gguf', '--threads', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--threads must be a whole number from 1 to 256, not '0'/);
    await editJson(dir, 'config.json', (c) => {
      c.architectures = ['PhiForCausalLM'];
      c.model_type = 'phi';
    });
    r = await cli(['convert', dir, '--out', 'x.gguf']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^taxonomy-studio convert: .*config\.json: architecture PhiForCausalLM is not supported \(supported: LlamaForCausalLM \(llama\), MistralForCausalLM \(mistral\), GraniteForCausalLM \(granite\), Qwen2ForCausalLM \(qwen2\)\)\n$/);
    assert.equal(existsSync(join(tmp.dir, 'x.gguf')), false);
  });
});

