// PEFT adapters read and checked, and exported as llama.cpp's GGUF LoRA format: metadata and tensor layout read back
// by our reader and by @huggingface/gguf, A as PEFT stores it, B with q/k rows reordered for the archs the converter
// reorders, per-module scales folded into B, tensor types; and every bad input refused with the file, what and a hint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gguf, GGUFValueType } from '@huggingface/gguf';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { AdapterError } from '../../../engine/gguf/lora/errors';
import { exportLoraAdapter, type AdapterType } from '../../../engine/gguf/lora/export';
import { openPeftAdapter, parsePeftConfig } from '../../../engine/gguf/lora/peft';
import { dequantize } from '../../../engine/gguf/quant/index';
import { openGguf, readTensor } from '../../../engine/gguf/reader';
import { SafetensorsError } from '../../../engine/hf/errors';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { cli, fixtureAdapter, fixtureBase, handMadeAdapter, peftNames, tempFolder } from './loraHelpers';

const tmp = tempFolder('lora-export-');
after(() => tmp.remove());
const at = (...parts: string[]) => join(tmp.dir, ...parts);

let base: string;
let adapter: string;
before(async () => {
  base = await fixtureBase(at('base'));
  adapter = await fixtureAdapter(at('adapter'), base);
});

/** Every tensor of a GGUF file as float32, with its dims and type. */
async function readAll(path: string): Promise<Map<string, { dims: number[]; type: GgmlType; values: Float32Array }>> {
  const file = await openGguf(path);
  try {
    const out = new Map<string, { dims: number[]; type: GgmlType; values: Float32Array }>();
    for (const t of file.tensors) out.set(t.name, { dims: t.dims, type: t.type, values: dequantize(t.type, await readTensor(file, t), t.elements) });
    return out;
  } finally {
    await file.close();
  }
}

/** A PEFT tensor as float32. */
async function peftTensor(dir: string, name: string): Promise<Float32Array> {
  const f = await openSafetensors(join(dir, 'adapter_model.safetensors'));
  try {
    return await f.readFloat32(name);
  } finally {
    await f.close();
  }
}

/** Row `r` of a [rows, cols] matrix. */
const rowOf = (m: Float32Array, r: number, cols: number) => [...m.subarray(r * cols, (r + 1) * cols)];

describe('fixture adapters and the PEFT reader', () => {
  test('the fixture adapter is laid out as peft saves one, deterministic for a seed, with B non-zero', async () => {
    const config = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 8);
    assert.equal(config.lora_alpha, 16);
    assert.deepEqual(config.target_modules, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    assert.equal(config.base_model_name_or_path, base);
    const f = await openSafetensors(join(adapter, 'adapter_model.safetensors'));
    try {
      assert.equal(f.names.length, 2 * 7 * 2);
      assert.deepEqual(f.info(peftNames('model.layers.0.self_attn.q_proj').a).shape, [8, 64]);
      assert.deepEqual(f.info(peftNames('model.layers.0.self_attn.k_proj').b).shape, [32, 8]);
      assert.deepEqual(f.info(peftNames('model.layers.1.mlp.down_proj').a).shape, [8, 192]);
      assert.deepEqual(f.info(peftNames('model.layers.1.mlp.down_proj').b).shape, [64, 8]);
      const b = await f.readFloat32(peftNames('model.layers.1.mlp.up_proj').b);
      assert.ok(b.every((v) => v !== 0), 'every B value is non-zero');
    } finally {
      await f.close();
    }
    const again = await fixtureAdapter(at('adapter-again'), base);
    assert.deepEqual(readFileSync(join(again, 'adapter_model.safetensors')), readFileSync(join(adapter, 'adapter_model.safetensors')));
    const other = await fixtureAdapter(at('adapter-seed6'), base, { seed: 6 });
    assert.notDeepEqual(readFileSync(join(other, 'adapter_model.safetensors')), readFileSync(join(adapter, 'adapter_model.safetensors')));
  });

  test('modules come in base order with their rank, shapes and PEFT scale', async () => {
    const a = await openPeftAdapter(adapter);
    try {
      assert.deepEqual(
        a.modules.slice(0, 8).map((m) => m.module),
        [
          'model.layers.0.self_attn.q_proj',
          'model.layers.0.self_attn.k_proj',
          'model.layers.0.self_attn.v_proj',
          'model.layers.0.self_attn.o_proj',
          'model.layers.0.mlp.gate_proj',
          'model.layers.0.mlp.up_proj',
          'model.layers.0.mlp.down_proj',
          'model.layers.1.self_attn.q_proj',
        ],
      );
      const down = a.modules[6];
      assert.deepEqual([down.target, down.layer, down.rank, down.inDim, down.outDim, down.alpha, down.scale], ['down_proj', 0, 8, 192, 64, 16, 2]);
    } finally {
      await a.close();
    }
  });

  test('use_rslora, rank_pattern and alpha_pattern set per-module scales as PEFT does', () => {
    const c = parsePeftConfig({ r: 8, lora_alpha: 16, use_rslora: true, alpha_pattern: { v_proj: 4 }, rank_pattern: { 'layers.1.mlp.up_proj': 2 } });
    assert.deepEqual([c.r, c.loraAlpha, c.useRslora, c.alphaPattern, c.rankPattern], [8, 16, true, { v_proj: 4 }, { 'layers.1.mlp.up_proj': 2 }]);
    assert.equal(parsePeftConfig({ r: 4 }).loraAlpha, 8, "LoraConfig's default lora_alpha");
  });
});

describe('export-adapter', () => {
  let out: string;
  before(async () => {
    out = (await exportLoraAdapter({ peftDir: adapter, baseDir: base, out: at('adapter.gguf') })).path;
  });

  test('the metadata llama.cpp checks, read by @huggingface/gguf', async () => {
    const { typedMetadata, tensorInfos } = await gguf(out, { allowLocalFile: true, typedMetadata: true });
    assert.deepEqual(typedMetadata['general.architecture'], { type: GGUFValueType.STRING, value: 'llama' });
    assert.deepEqual(typedMetadata['general.type'], { type: GGUFValueType.STRING, value: 'adapter' });
    assert.deepEqual(typedMetadata['adapter.type'], { type: GGUFValueType.STRING, value: 'lora' });
    assert.deepEqual(typedMetadata['adapter.lora.alpha'], { type: GGUFValueType.FLOAT32, value: 16 });
    assert.deepEqual(typedMetadata['general.file_type'], { type: GGUFValueType.UINT32, value: 0 });
    assert.equal(tensorInfos.length, 28);
    assert.deepEqual(
      tensorInfos.slice(0, 4).map((t) => [t.name, t.shape.map(Number), t.dtype]),
      [
        ['blk.0.attn_q.weight.lora_a', [64, 8], 0],
        ['blk.0.attn_q.weight.lora_b', [8, 64], 0],
        ['blk.0.attn_k.weight.lora_a', [64, 8], 0],
        ['blk.0.attn_k.weight.lora_b', [8, 32], 0],
      ],
    );
    assert.deepEqual(
      tensorInfos.filter((t) => t.name.endsWith('lora_a')).map((t) => t.name.replace(/\.weight\.lora_a$/, '')),
      [0, 1].flatMap((l) => ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'].map((n) => `blk.${l}.${n}`)),
    );
    const down = tensorInfos.find((t) => t.name === 'blk.1.ffn_down.weight.lora_b')!;
    assert.deepEqual(down.shape.map(Number), [8, 64], 'lora_b is ne = [r, out]');
  });

  test('lora_a is PEFT A as stored; lora_b of v, o and the MLP is PEFT B as stored', async () => {
    const tensors = await readAll(out);
    for (const [gg, module] of [
      ['blk.0.attn_v.weight', 'model.layers.0.self_attn.v_proj'],
      ['blk.1.attn_output.weight', 'model.layers.1.self_attn.o_proj'],
      ['blk.1.ffn_gate.weight', 'model.layers.1.mlp.gate_proj'],
      ['blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj'],
    ]) {
      assert.deepEqual(tensors.get(`${gg}.lora_a`)!.values, await peftTensor(adapter, peftNames(module).a), `${gg}.lora_a`);
      if (!gg.includes('attn_q')) assert.deepEqual(tensors.get(`${gg}.lora_b`)!.values, await peftTensor(adapter, peftNames(module).b), `${gg}.lora_b`);
    }
  });

  test("lora_b of q and k has its rows in llama.cpp's RoPE order, head by head", async () => {
    // head_dim 16: converted row h·16 + 2i + j is PEFT row h·16 + 8j + i.
    const tensors = await readAll(out);
    for (const [gg, module, rows] of [
      ['blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj', 64],
      ['blk.1.attn_k.weight', 'model.layers.1.self_attn.k_proj', 32],
    ] as const) {
      const mine = tensors.get(`${gg}.lora_b`)!.values;
      const peft = await peftTensor(adapter, peftNames(module).b);
      for (const [to, from] of [[0, 0], [1, 8], [2, 1], [23, 27], [31, 31], [rows - 2, rows - 9]]) {
        assert.deepEqual(rowOf(mine, to, 8), rowOf(peft, from, 8), `${gg}.lora_b row ${to} is PEFT row ${from}`);
      }
    }
  });

  test('qwen2 keeps the rows of q and k as they are; mistral says llama, granite granite', async () => {
    for (const arch of ['qwen2', 'mistral', 'granite'] as const) {
      const b = await fixtureBase(at(`base-${arch}`), { arch });
      const r = await exportLoraAdapter({ peftDir: adapter, baseDir: b, out: at(`adapter-${arch}.gguf`) });
      assert.equal(r.architecture, arch === 'mistral' ? 'llama' : arch);
      const q = (await readAll(r.path)).get('blk.0.attn_q.weight.lora_b')!.values;
      const peft = await peftTensor(adapter, peftNames('model.layers.0.self_attn.q_proj').b);
      assert.equal(rowOf(q, 1, 8).join() === rowOf(peft, 1, 8).join(), arch === 'qwen2', `${arch}: q rows ${arch === 'qwen2' ? 'kept' : 'reordered'}`);
    }
  });

  test('rslora is written as an equivalent alpha; alpha_pattern is folded into B of the modules it names', async () => {
    const rs = await fixtureAdapter(at('adapter-rs'), base, { rank: 4, alpha: 8, extraConfig: { use_rslora: true } });
    const r1 = await exportLoraAdapter({ peftDir: rs, baseDir: base, out: at('rs.gguf') });
    // PEFT scale 8 / sqrt(4) = 4; llama.cpp's alpha / rank = 16 / 4 = 4.
    assert.equal(r1.alpha, 16);
    assert.deepEqual(r1.folded, []);

    const pat = await fixtureAdapter(at('adapter-pattern'), base, { extraConfig: { alpha_pattern: { 'model.layers.1.self_attn.v_proj': 2 } } });
    const r2 = await exportLoraAdapter({ peftDir: pat, baseDir: base, out: at('pattern.gguf') });
    assert.equal(r2.alpha, 16);
    assert.deepEqual(r2.folded, ['model.layers.1.self_attn.v_proj']);
    const t = await readAll(r2.path);
    const peftB = await peftTensor(pat, peftNames('model.layers.1.self_attn.v_proj').b);
    // PEFT scale 2 / 8; the file's 16 / 8: B carries the ratio 1/8.
    assert.deepEqual(t.get('blk.1.attn_v.weight.lora_b')!.values, peftB.map((v) => v / 8));
    assert.deepEqual(t.get('blk.0.attn_v.weight.lora_b')!.values, await peftTensor(pat, peftNames('model.layers.0.self_attn.v_proj').b));
  });

  test('f16, bf16 and q8_0: lora_b rows of r values are not Q8_0 blocks and go F16, as llama.cpp does', async () => {
    const types = async (type: AdapterType, dir = adapter) => {
      const r = await exportLoraAdapter({ peftDir: dir, baseDir: base, out: at(`adapter-${type}-${dir === adapter ? 8 : 32}.gguf`), type });
      const t = await readAll(r.path);
      return { r, a: t.get('blk.0.ffn_up.weight.lora_a')!, b: t.get('blk.0.ffn_up.weight.lora_b')! };
    };
    const peftA = await peftTensor(adapter, peftNames('model.layers.0.mlp.up_proj').a);
    const f16 = await types('f16');
    assert.deepEqual([f16.a.type, f16.b.type], [GgmlType.F16, GgmlType.F16]);
    assert.ok(f16.a.values.every((v, i) => Math.abs(v - peftA[i]) <= Math.abs(peftA[i]) * 2 ** -11), 'F16 rounding only');
    const bf16 = await types('bf16');
    assert.deepEqual([bf16.a.type, bf16.b.type], [GgmlType.BF16, GgmlType.BF16]);
    const q8 = await types('q8_0');
    assert.deepEqual([q8.a.type, q8.b.type], [GgmlType.Q8_0, GgmlType.F16]);
    assert.equal(q8.r.fallbacks.length, 14);
    assert.equal(q8.r.fallbacks[0], 'blk.0.attn_q.weight.lora_b');
    const max = peftA.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(q8.a.values.every((v, i) => Math.abs(v - peftA[i]) <= max / 127), 'Q8_0 within half a step of the block scale');
    const { typedMetadata } = await gguf(q8.r.path, { allowLocalFile: true, typedMetadata: true });
    assert.equal(typedMetadata['general.file_type']?.value, 7);
    assert.equal(typedMetadata['general.quantization_version']?.value, 2);

    const r32 = await fixtureAdapter(at('adapter-r32'), base, { rank: 32, alpha: 32, targetModules: ['up_proj'] });
    const q8r32 = await types('q8_0', r32);
    assert.deepEqual([q8r32.a.type, q8r32.b.type, q8r32.r.fallbacks.length], [GgmlType.Q8_0, GgmlType.Q8_0, 0]);
  });

  test('lm_head of a base with its own output matrix becomes output.weight', async () => {
    const untied = await fixtureBase(at('base-untied'), { dims: { tieWordEmbeddings: false } });
    const head = await fixtureAdapter(at('adapter-head'), untied, { targetModules: ['v_proj', 'lm_head'] });
    const r = await exportLoraAdapter({ peftDir: head, baseDir: untied, out: at('head.gguf') });
    assert.deepEqual(
      r.tensors.map((t) => [t.name, t.dims]),
      [
        ['blk.0.attn_v.weight.lora_a', [64, 8]],
        ['blk.0.attn_v.weight.lora_b', [8, 32]],
        ['blk.1.attn_v.weight.lora_a', [64, 8]],
        ['blk.1.attn_v.weight.lora_b', [8, 32]],
        ['output.weight.lora_a', [64, 8]],
        ['output.weight.lora_b', [8, 512]],
      ],
    );
  });

  test('lora_alpha 0 is written as alpha r with B zero (llama.cpp reads alpha 0 as "scale 1")', async () => {
    const zero = await fixtureAdapter(at('adapter-zero'), base, { alpha: 0, targetModules: ['o_proj'] });
    const r = await exportLoraAdapter({ peftDir: zero, baseDir: base, out: at('zero.gguf') });
    assert.equal(r.alpha, 8);
    assert.ok((await readAll(r.path)).get('blk.0.attn_output.weight.lora_b')!.values.every((v) => v === 0));
  });
});

describe('export-adapter refuses what it cannot export, naming the file', () => {
  /** Expects exportLoraAdapter to fail with exactly `message`, and no output file. */
  async function refuses(peftDir: string, message: string | RegExp, baseDir = base, check?: (e: Error) => void): Promise<void> {
    const target = at('refused.gguf');
    await assert.rejects(exportLoraAdapter({ peftDir, baseDir, out: target }), (e: Error) => {
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      check?.(e);
      return true;
    });
    assert.equal(existsSync(target), false, 'no output file');
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('refused')), [], 'no temporary file either');
  }
  const q = peftNames('model.layers.0.self_attn.q_proj');
  const made = (name: string, config: Record<string, unknown>, tensors: { name: string; shape: number[] }[]) => handMadeAdapter(at(name), config, tensors);

  test('missing files', async () => {
    mkdirSync(at('no-config'));
    await refuses(at('no-config'), `${at('no-config', 'adapter_config.json')}: not found (give the folder PEFT saved the adapter in, with adapter_config.json and adapter_model.safetensors)`);
    mkdirSync(at('bin-only'));
    writeFileSync(at('bin-only', 'adapter_config.json'), JSON.stringify({ r: 4, lora_alpha: 8, peft_type: 'LORA' }));
    writeFileSync(at('bin-only', 'adapter_model.bin'), 'pickle');
    await refuses(at('bin-only'), `${at('bin-only', 'adapter_model.safetensors')}: not found (found adapter_model.bin: only safetensors adapters are read; save the adapter with safe_serialization=True)`);
    mkdirSync(at('base-no-config'));
    await refuses(adapter, /base-no-config\/config\.json: not found \(a Hugging Face model folder has a config\.json beside its weights\)$/, at('base-no-config'));
  });

  test('a config that is not a LoRA, or one the GGUF format cannot express', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ peft_type: 'IA3' }, 'peft_type is "IA3"; only LORA adapters can be exported or merged (train a LoRA adapter (peft LoraConfig))'],
      [{ use_dora: true }, 'use_dora is true: DoRA adapters have no GGUF form (train with use_dora=false, or merge with peft and convert the merged model)'],
      [{ bias: 'all' }, 'bias is "all": trained biases have no place in a GGUF LoRA adapter (train with bias="none")'],
      [{ r: 0 }, 'r is 0, not a positive integer'],
      [{ target_modules: ['q_proj', 'embed_tokens'] }, 'target_modules names "embed_tokens", which has no tensor in a llama-family GGUF to adapt (LoRA can target q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head)'],
      [{ target_modules: ['mlp.q_proj'] }, 'target_modules names "mlp.q_proj", which has no tensor in a llama-family GGUF to adapt (LoRA can target q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head)'],
      [{ modules_to_save: ['lm_head'] }, 'modules_to_save lists "lm_head": whole trained modules cannot be applied as a LoRA (train without modules_to_save)'],
    ];
    for (const [i, [config, what]] of cases.entries()) {
      const dir = await made(`bad-config-${i}`, config, [
        { name: q.a, shape: [4, 64] },
        { name: q.b, shape: [64, 4] },
      ]);
      await refuses(dir, `${join(dir, 'adapter_config.json')}: ${what}`, base, (e) => assert.ok(e instanceof AdapterError && e.field !== undefined));
    }
    mkdirSync(at('bad-json'));
    writeFileSync(at('bad-json', 'adapter_config.json'), '{"r": 4,');
    await refuses(at('bad-json'), /bad-json\/adapter_config\.json: is not valid JSON: .* \(fix the file or save the adapter again\)$/);
  });

  test('tensors of modules with no GGUF tensor, of embeddings, or whole weights', async () => {
    const fc = peftNames('model.layers.0.mlp.fc1');
    const d1 = await made('module-fc1', {}, [
      { name: fc.a, shape: [4, 64] },
      { name: fc.b, shape: [64, 4] },
    ]);
    await refuses(
      d1,
      `${join(d1, 'adapter_model.safetensors')}: tensor '${fc.a}' adapts model.layers.0.mlp.fc1, which has no tensor in a llama-family GGUF (LoRA can target q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head (as model.layers.N.self_attn.* / model.layers.N.mlp.* / lm_head))`,
      base,
      (e) => assert.equal((e as AdapterError).tensor, fc.a),
    );
    const d2 = await made('embedding', {}, [{ name: 'base_model.model.model.embed_tokens.lora_embedding_A', shape: [4, 512] }]);
    await refuses(d2, /tensor 'base_model\.model\.model\.embed_tokens\.lora_embedding_A': LoRA on the token embeddings has no GGUF form here/);
    const d3 = await made('whole-weight', {}, [{ name: 'base_model.model.lm_head.weight', shape: [512, 64] }]);
    await refuses(d3, /tensor 'base_model\.model\.lm_head\.weight': a whole trained weight \(modules_to_save or added tokens\) cannot be applied as a LoRA/);
    const d4 = await made('a-only', {}, [{ name: q.a, shape: [4, 64] }]);
    await refuses(d4, `${join(d4, 'adapter_model.safetensors')}: module model.layers.0.self_attn.q_proj has lora_A but no lora_B (the file is incomplete; save the adapter again)`);
    const d5 = await made('untargeted', { target_modules: ['v_proj'] }, [
      { name: q.a, shape: [4, 64] },
      { name: q.b, shape: [64, 4] },
    ]);
    await refuses(d5, `${join(d5, 'adapter_config.json')}: target_modules ["v_proj"] does not name module model.layers.0.self_attn.q_proj, which adapter_model.safetensors adapts (the config and the weights come from different adapters)`);
  });

  test('ranks that disagree', async () => {
    const d1 = await made('rank-vs-r', { r: 4 }, [
      { name: q.a, shape: [8, 64] },
      { name: q.b, shape: [64, 8] },
    ]);
    await refuses(d1, `${join(d1, 'adapter_model.safetensors')}: module model.layers.0.self_attn.q_proj has rank 8 ([8, 64]) but adapter_config.json says r = 4 (the config and the weights come from different adapters)`);
    const d2 = await made('rank-a-vs-b', {}, [
      { name: q.a, shape: [4, 64] },
      { name: q.b, shape: [64, 2] },
    ]);
    await refuses(d2, `${join(d2, 'adapter_model.safetensors')}: module model.layers.0.self_attn.q_proj: lora_A is [4, 64] (rank 4) but lora_B is [64, 2] (rank 2) (A is [r, in] and B is [out, r] with the same r; the file is damaged or mixes adapters)`);
    const d3 = await made('rank-pattern', { rank_pattern: { q_proj: 2 } }, [
      { name: q.a, shape: [4, 64] },
      { name: q.b, shape: [64, 4] },
    ]);
    await refuses(d3, /module model\.layers\.0\.self_attn\.q_proj has rank 4 \(\[4, 64\]\) but adapter_config\.json says rank_pattern = 2/);
  });

  test('an adapter for another base: width, layer count, tied output', async () => {
    const wide = await fixtureBase(at('base-wide'), { dims: { hiddenSize: 128, numAttentionHeads: 8, numKeyValueHeads: 4 } });
    await refuses(
      adapter,
      `${join(adapter, 'adapter_model.safetensors')}: tensor '${q.a}' is [8, 64] but the base weight model.layers.0.self_attn.q_proj.weight is [128, 128] (64 inputs, not 128) (the adapter was trained on another base model; pass the --base it was trained on)`,
      wide,
    );
    const ffn = await fixtureBase(at('base-ffn'), { dims: { intermediateSize: 256 } });
    const gate = peftNames('model.layers.0.mlp.gate_proj');
    await refuses(adapter, `${join(adapter, 'adapter_model.safetensors')}: tensor '${gate.b}' is [192, 8] but the base weight model.layers.0.mlp.gate_proj.weight is [256, 64] (192 outputs, not 256) (the adapter was trained on another base model; pass the --base it was trained on)`, ffn);
    const shallow = await fixtureBase(at('base-shallow'), { dims: { numHiddenLayers: 1 } });
    await refuses(adapter, new RegExp(`tensor '${peftNames('model.layers.1.self_attn.q_proj').a.replace(/\./g, '\\.')}' adapts layer 1, but the base model has 1 layers \\(.*base-shallow/config\\.json\\)`), shallow);
    const head = await made('head', { target_modules: ['lm_head'] }, [
      { name: peftNames('lm_head').a, shape: [4, 64] },
      { name: peftNames('lm_head').b, shape: [512, 4] },
    ]);
    await refuses(head, /adapts lm_head, which this base shares with the token embeddings \(tie_word_embeddings in .*\) \(llama\.cpp cannot apply a LoRA to a tied output; train without lm_head in target_modules\)$/);
  });

  test('a NaN in A or B names the tensor and the element', async () => {
    const dir = await made('nan', {}, [
      { name: q.a, shape: [4, 64] },
      { name: q.b, shape: [64, 4] },
    ]);
    const file = join(dir, 'adapter_model.safetensors');
    const f = await openSafetensors(file);
    const info = f.info(q.b);
    await f.close();
    const bytes = readFileSync(file);
    bytes.writeFloatLE(Number.NaN, info.fileOffset + 4 * (2 * 4 + 3));
    writeFileSync(file, bytes);
    await refuses(dir, `${file}: tensor '${q.b}' element 11 [2, 3] is NaN (the adapter diverged or was saved from a broken run; train it again or use an earlier checkpoint)`);
  });

  test('a truncated adapter_model.safetensors names the file, the tensor and the byte offset', async () => {
    cpSync(adapter, at('truncated'), { recursive: true });
    const file = at('truncated', 'adapter_model.safetensors');
    const f = await openSafetensors(file);
    const last = f.header.tensors[f.header.tensors.length - 1];
    const size = f.fileSize;
    await f.close();
    truncateSync(file, size - 100);
    await refuses(at('truncated'), `${file}: tensor '${last.name}' needs bytes ${last.fileOffset}..${last.fileOffset + last.byteLength} but the file ends at ${size - 100} (the file is truncated; re-download or re-write it)`, base, (e) => {
      assert.ok(e instanceof SafetensorsError);
      assert.deepEqual([e.file, e.tensor, e.offset, e.problem], [file, last.name, size - 100, 'truncated']);
    });
  });
});

describe('taxonomy-studio export-adapter', () => {
  test('writes the adapter and says what it wrote', async () => {
    const r = await cli(tmp.dir, 'export-adapter', 'adapter', '--base', 'base', '--out', 'cli.gguf', '--type', 'q8_0');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const size = readFileSync(at('cli.gguf')).length;
    assert.equal(
      r.stdout,
      `cli.gguf: LoRA adapter for llama, 14 modules (28 tensors), alpha 16, Q8_0, ${(size / 1024).toFixed(1)} KiB\n` +
        '  14 tensors written as F16: their rows are not whole Q8_0 blocks (e.g. blk.0.attn_q.weight.lora_b)\n',
    );
  });

  test('bad usage exits 2; a bad adapter exits 1 with the path as typed', async () => {
    const usage = async (args: string[], message: RegExp) => {
      const r = await cli(tmp.dir, 'export-adapter', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    };
    await usage([], /export-adapter needs the PEFT adapter folder/);
    await usage(['adapter', '--out', 'x.gguf'], /export-adapter needs --base <hf-dir>/);
    await usage(['adapter', '--base', 'base'], /export-adapter needs --out <adapter\.gguf>/);
    await usage(['adapter', '--base', 'base', '--out', 'x.gguf', '--type', 'q4_0'], /--type must be one of f32, f16, bf16, q8_0, not 'q4_0'/);
    await usage(['missing', '--base', 'base', '--out', 'x.gguf'], /no such folder: missing \(the PEFT adapter folder\)/);
    await usage(['adapter', '--base', 'cli.gguf', '--out', 'x.gguf'], /cli\.gguf is a file; give the base model folder \(--base\)/);

    mkdirSync(at('cli-bad'));
    writeFileSync(at('cli-bad', 'adapter_config.json'), JSON.stringify({ r: 4, peft_type: 'LORA', use_dora: true }));
    const r = await cli(tmp.dir, 'export-adapter', 'cli-bad', '--base', 'base', '--out', 'x.gguf');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'taxonomy-studio export-adapter: cli-bad/adapter_config.json: use_dora is true: DoRA adapters have no GGUF form (train with use_dora=false, or merge with peft and convert the merged model)\n');
    assert.equal(existsSync(at('x.gguf')), false);
    rmSync(at('cli-bad'), { recursive: true });
  });
});
