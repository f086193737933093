import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { renderChatTemplate } from '../../../engine/hf/chatTemplate';
import { readModelConfig } from '../../../engine/hf/config';
import { ModelFolderError } from '../../../engine/hf/errors';
import { fixtureConfig, fixtureSizes, fixtureTokenizer, llamaFamilyTensors, writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { readModelFolder } from '../../../engine/hf/modelFolder';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { exampleCorpus } from '../../../engine/hf/corpus';
import { loadTokenizer } from '../../../engine/hf/tokenizer/files';
import { runCli } from '../../../engine/cli/run';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-fixture-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function folderHash(folder: string): string {
  const h = createHash('sha256');
  for (const name of readdirSync(folder).sort()) h.update(name).update('\0').update(readFileSync(join(folder, name))).update('\0');
  return h.digest('hex');
}

function stats(values: Float32Array): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (const v of values) {
    s += v;
    s2 += v * v;
  }
  const mean = s / values.length;
  return { mean, std: Math.sqrt(s2 / values.length - mean * mean) };
}

describe('tiny llama fixture', () => {
  let tiny: string;
  before(async () => {
    tiny = join(dir, 'tiny');
    await writeFixtureModel(tiny, { seed: 7 });
  });

  test('the files of a Hugging Face model folder, nothing else left behind', () => {
    assert.deepEqual(readdirSync(tiny).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(readdirSync(dir), ['tiny']);
  });

  test('config.json: llama with grouped-query attention, tied embeddings, vocabulary of the tokenizer', async () => {
    const c = await readModelConfig(tiny);
    assert.equal(c.architecture, 'LlamaForCausalLM');
    assert.deepEqual(
      [c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads, c.headDim, c.vocabSize],
      [64, 192, 2, 4, 2, 16, 512],
    );
    assert.equal(c.tieWordEmbeddings, true);
    assert.equal(c.torchDtype, 'float32');
    assert.deepEqual([c.bosTokenId, c.eosTokenId, c.padTokenId], [506, 507, 508]);
    assert.deepEqual(JSON.parse(readFileSync(join(tiny, 'generation_config.json'), 'utf8')), { bos_token_id: 506, eos_token_id: 507, pad_token_id: 508 });
  });

  test("weights: transformers' tensor names and shapes, normal(0, 0.02) matrices, norms near 1, no lm_head when tied", async () => {
    const w = await openModelWeights(tiny);
    try {
      const layer = (i: number) => [
        `model.layers.${i}.input_layernorm.weight`,
        `model.layers.${i}.mlp.down_proj.weight`,
        `model.layers.${i}.mlp.gate_proj.weight`,
        `model.layers.${i}.mlp.up_proj.weight`,
        `model.layers.${i}.post_attention_layernorm.weight`,
        `model.layers.${i}.self_attn.k_proj.weight`,
        `model.layers.${i}.self_attn.o_proj.weight`,
        `model.layers.${i}.self_attn.q_proj.weight`,
        `model.layers.${i}.self_attn.v_proj.weight`,
      ];
      assert.deepEqual([...w.names].sort(), ['model.embed_tokens.weight', ...layer(0), ...layer(1), 'model.norm.weight'].sort());
      assert.deepEqual(w.info('model.embed_tokens.weight').shape, [512, 64]);
      assert.deepEqual(w.info('model.layers.1.self_attn.q_proj.weight').shape, [64, 64]);
      assert.deepEqual(w.info('model.layers.1.self_attn.k_proj.weight').shape, [32, 64]);
      assert.deepEqual(w.info('model.layers.1.mlp.down_proj.weight').shape, [64, 192]);
      assert.equal(w.info('model.norm.weight').dtype, 'F32');
      const embed = stats(await w.readFloat32('model.embed_tokens.weight'));
      assert.ok(Math.abs(embed.mean) < 0.002 && Math.abs(embed.std - 0.02) < 0.001, JSON.stringify(embed));
      const norm = stats(await w.readFloat32('model.layers.0.input_layernorm.weight'));
      assert.ok(Math.abs(norm.mean - 1) < 0.05 && norm.std > 0.05 && norm.std < 0.15, JSON.stringify(norm));
      // Different tensors get different streams.
      const q0 = await w.readFloat32Range('model.layers.0.self_attn.q_proj.weight', 0, 8);
      const q1 = await w.readFloat32Range('model.layers.1.self_attn.q_proj.weight', 0, 8);
      assert.notDeepEqual(q0, q1);
    } finally {
      await w.close();
    }
  });

  test('the tokenizer loads in @huggingface/tokenizers and in ours, and both read a rendered chat the same way', async () => {
    const json = JSON.parse(readFileSync(join(tiny, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(tiny, 'tokenizer_config.json'), 'utf8'));
    const theirs = new Tokenizer(json, config);
    const ours = await loadTokenizer(tiny);
    const text = renderChatTemplate(config.chat_template, [{ role: 'user', content: 'Which telescope does the observatory use?' }], { addGenerationPrompt: true, eosToken: config.eos_token });
    assert.equal(text, '<|user|>\nWhich telescope does the observatory use?\n<|assistant|>\n');
    const ids = ours.encode(text);
    assert.deepEqual(theirs.encode(text).ids, ids);
    assert.equal(ids[0], theirs.token_to_id('<|user|>'));
    assert.equal(ids[0], 510);
    assert.equal(ids.at(-2), 511); // <|assistant|>, then "\n"
    assert.equal(theirs.decode(ids), text);
  });

  test('readModelFolder: everything a converter needs, without warnings', async () => {
    const m = await readModelFolder(tiny);
    assert.deepEqual(m.warnings, []);
    assert.deepEqual(m.bos, { id: 506, content: '<|begin_of_text|>' });
    assert.deepEqual(m.eos, { id: 507, content: '<|end_of_text|>' });
    assert.deepEqual(m.pad, { id: 508, content: '<|pad|>' });
    assert.equal(m.addBosToken, false);
    assert.equal(m.vocabulary.preTokenizer, 'gpt-2');
    assert.equal(m.vocabulary.tokens.length, 512);
    assert.equal(m.vocabulary.tokens[32], 'Ġ');
    assert.deepEqual(m.vocabulary.specialIds, [506, 507, 508, 509, 510, 511]);
    assert.equal(m.vocabulary.merges.length, 512 - 256 - 6);
    assert.equal(m.chatTemplate.source, join(tiny, 'tokenizer_config.json'));
    const w = await m.openWeights();
    assert.equal(w.names.length, 20); // embeddings, 9 per layer, final norm
    await w.close();
  });
});

describe('determinism and variants', () => {
  test('the same seed gives a byte-identical folder; another seed other weights and the same tokenizer', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    await writeFixtureModel(a, { seed: 3 });
    await writeFixtureModel(b, { seed: 3 });
    await writeFixtureModel(c, { seed: 4 });
    assert.equal(folderHash(a), folderHash(b));
    assert.notEqual(readFileSync(join(a, 'model.safetensors')).toString('hex'), readFileSync(join(c, 'model.safetensors')).toString('hex'));
    assert.equal(readFileSync(join(a, 'tokenizer.json'), 'utf8'), readFileSync(join(c, 'tokenizer.json'), 'utf8'));
  });

  test('qwen2 has q/k/v biases; granite its multipliers; mistral reads back as mistral; BF16 weights', async () => {
    const qwen = join(dir, 'qwen2');
    await writeFixtureModel(qwen, { arch: 'qwen2', dtype: 'BF16' });
    const qc = await readModelConfig(qwen);
    assert.equal(qc.architecture, 'Qwen2ForCausalLM');
    assert.equal(qc.torchDtype, 'bfloat16');
    const w = await openModelWeights(qwen);
    try {
      assert.deepEqual(w.info('model.layers.0.self_attn.q_proj.bias').shape, [64]);
      assert.deepEqual(w.info('model.layers.0.self_attn.k_proj.bias').shape, [32]);
      assert.ok(!w.has('model.layers.0.self_attn.o_proj.bias'));
      assert.equal(w.info('model.layers.0.self_attn.q_proj.weight').dtype, 'BF16');
    } finally {
      await w.close();
    }
    const granite = join(dir, 'granite');
    await writeFixtureModel(granite, { arch: 'granite' });
    assert.deepEqual((await readModelConfig(granite)).granite, { embeddingMultiplier: 12, residualMultiplier: 0.22, attentionMultiplier: 1 / 16, logitsScaling: 8 });
    const mistral = join(dir, 'mistral');
    await writeFixtureModel(mistral, { arch: 'mistral', dims: { tieWordEmbeddings: false } });
    const mw = await openModelWeights(mistral);
    try {
      assert.equal((await readModelConfig(mistral)).architecture, 'MistralForCausalLM');
      assert.deepEqual(mw.info('lm_head.weight').shape, [512, 64]);
    } finally {
      await mw.close();
    }
    // A tensor's values depend on the seed and its name only, not on the architecture around it.
    const [a, b] = await Promise.all([qwen, granite].map(async (f) => {
      const weights = await openModelWeights(f);
      const v = await weights.readFloat32('model.layers.1.mlp.up_proj.weight');
      await weights.close();
      return v;
    }));
    assert.ok(a.every((x, i) => Math.abs(x - b[i]) <= Math.abs(b[i]) * 2 ** -8), 'the BF16 copy rounds the F32 one');
  });

  test('small: about 27M parameters, every matrix row a multiple of 256 (K-quants apply)', async () => {
    const { texts } = await exampleCorpus();
    const config = fixtureConfig(fixtureSizes.small, 'llama', fixtureTokenizer(texts, fixtureSizes.small.vocabSize), 'F32');
    const tensors = llamaFamilyTensors(config);
    const params = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(config.vocabSize, 2048);
    assert.equal(params, 27_271_680);
    for (const t of tensors.filter((x) => x.shape.length === 2)) assert.equal(t.shape[1] % 256, 0, `${t.name} rows of ${t.shape[1]}`);
    assert.ok(tensors.some((t) => t.name === 'lm_head.weight'));
  });

  test('medium: about 185M parameters (past a CPU cache as Q8_0), rows multiples of 256, four query heads per key/value head', async () => {
    const { texts } = await exampleCorpus();
    const config = fixtureConfig(fixtureSizes.medium, 'llama', fixtureTokenizer(texts, fixtureSizes.medium.vocabSize), 'F32');
    const tensors = llamaFamilyTensors(config);
    const params = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(params, 184_583_168);
    assert.equal(config.numAttentionHeads / config.numKeyValueHeads, 4);
    for (const t of tensors.filter((x) => x.shape.length === 2)) assert.equal(t.shape[1] % 256, 0, `${t.name} rows of ${t.shape[1]}`);
  });
});

describe('writing safely', () => {
  test('a non-empty folder is refused unless forced, and then replaced whole', async () => {
    const target = join(dir, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'notes.txt'), 'mine');
    await assert.rejects(writeFixtureModel(target), (err: unknown) => err instanceof ModelFolderError && err.message === `${target}: is not empty (pick an empty or new folder, or pass --force to replace it)`);
    assert.deepEqual(readdirSync(target), ['notes.txt']);
    await writeFixtureModel(target, { force: true });
    assert.ok(!existsSync(join(target, 'notes.txt')));
    assert.ok(existsSync(join(target, 'model.safetensors')));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
  });

  test('an empty folder is filled; bad options write nothing', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await writeFixtureModel(empty);
    assert.equal(readdirSync(empty).length, 6);
    const bad = join(dir, 'bad');
    await assert.rejects(writeFixtureModel(bad, { dims: { numKeyValueHeads: 3 } }), /4 heads do not share 3 key\/value heads evenly/);
    await assert.rejects(writeFixtureModel(bad, { seed: -1 }), /seed -1 is not an integer from 0 to 4294967295/);
    assert.ok(!existsSync(bad));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
  });
});

describe('taxonomy-studio fixture-model', () => {
  async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir, env: {} });
    return { code, stdout, stderr };
  }

  test('writes the folder and says what it wrote', async () => {
    const r = await cli('fixture-model', '--out', 'cli-tiny', '--seed', '5', '--arch', 'granite', '--dtype', 'f16');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'cli-tiny: GraniteForCausalLM (tiny, seed 5), 2 layers, hidden 64, 4/2 heads, vocabulary 512, 131.4K parameters, F16\n');
    assert.equal(r.code, 0);
    assert.equal((await readModelConfig(join(dir, 'cli-tiny'))).torchDtype, 'float16');
    const again = await cli('fixture-model', '--out', 'cli-tiny');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `taxonomy-studio fixture-model: ${join(dir, 'cli-tiny')}: is not empty (pick an empty or new folder, or pass --force to replace it)\n`);
  });

  test('a corpus of your own', async () => {
    const corpus = join(dir, 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.md'), 'the quick brown fox jumps over the lazy dog. '.repeat(50));
    const r = await cli('fixture-model', '-o', 'cli-corpus', '--corpus', 'corpus');
    assert.equal(r.code, 0, r.stderr);
    const vocab = JSON.parse(readFileSync(join(dir, 'cli-corpus', 'tokenizer.json'), 'utf8')).model.vocab;
    assert.ok('Ġquick' in vocab);
    assert.match(r.stdout, /vocabulary (\d+),/);
    assert.ok(Number(/vocabulary (\d+),/.exec(r.stdout)![1]) < 512, 'a small corpus runs out of pairs before 512');
    const none = await cli('fixture-model', '-o', 'cli-none', '--corpus', 'cli-corpus-missing');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^taxonomy-studio fixture-model: .*cli-corpus-missing: cannot read: ENOENT/);
  });

  test('bad usage', async () => {
    for (const [args, message] of [
      [['--size', 'huge', '--out', 'x'], "--size must be tiny, small or medium, not 'huge'"],
      [['--arch', 'gemma', '--out', 'x'], "--arch must be one of llama, mistral, granite, qwen2, not 'gemma'"],
      [['--seed', '1.5', '--out', 'x'], "--seed must be an integer from 0 to 4294967295, not '1.5'"],
      [['--dtype', 'q4', '--out', 'x'], "--dtype must be f32, f16 or bf16, not 'q4'"],
      [[], 'fixture-model needs --out <dir>'],
    ] as const) {
      const r = await cli('fixture-model', ...args);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.startsWith(`taxonomy-studio fixture-model: ${message}\n`), r.stderr);
    }
  });
});
