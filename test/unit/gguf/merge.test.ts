// Merging a PEFT LoRA adapter into a Hugging Face base folder: the merged weights, run through the reference forward
// pass, give what the base with the adapter applied on the fly gives; the folder keeps the base's files, dtypes and
// shards; memory is bounded by merging row blocks; adapters that do not fit are refused with nothing written. Merging
// straight to GGUF gives the bytes converting the merged folder gives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdapterError } from '../../../engine/gguf/lora/errors';
import { gguf } from '@huggingface/gguf';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { mergeAdapterToGguf } from '../../../engine/gguf/merge/gguf';
import { mergeAdapterToHf } from '../../../engine/gguf/merge/hf';
import { mergeRowsInto } from '../../../engine/gguf/merge/mergeRows';
import { ModelFolderError } from '../../../engine/hf/errors';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { writeSafetensors } from '../../../engine/hf/safetensorsWriter';
import { forward } from '../../../engine/model/forward';
import { cli, fixtureAdapter, fixtureBase, handMadeAdapter, peftNames, referenceLora, referenceModel, tempFolder, tokens, worst } from './loraHelpers';

const tmp = tempFolder('lora-merge-');
after(() => tmp.remove());
const at = (...parts: string[]) => join(tmp.dir, ...parts);

let base: string;
let adapter: string;
let merged: string;
before(async () => {
  base = await fixtureBase(at('base'));
  adapter = await fixtureAdapter(at('adapter'), base);
  merged = (await mergeAdapterToHf({ baseDir: base, peftDir: adapter, out: at('merged') })).dir;
});

describe('merge into a Hugging Face folder', () => {
  test('the merged model through the reference forward equals the base with the adapter applied on the fly', async () => {
    const ref = await referenceModel(base);
    const lora = await referenceLora(adapter);
    const onTheFly = forward(ref.config, ref.weights, tokens, { lora });
    const m = await referenceModel(merged);
    const fromMerged = forward(m.config, m.weights, tokens);
    const diff = worst(fromMerged, onTheFly);
    assert.ok(diff.max < 1e-5, `merged vs on the fly over ${tokens.length} positions: ${diff.text}`);
    // The adapter must matter, or the comparison above proves nothing.
    const plain = forward(ref.config, ref.weights, tokens);
    assert.ok(worst(plain, onTheFly).max > 0.05, `the adapter changes the logits (${worst(plain, onTheFly).text})`);
  });

  test('an adapted weight is W + (alpha / r) · B A, element by element', async () => {
    const w = await openModelWeights(base);
    const mw = await openModelWeights(merged);
    const a = await openSafetensors(join(adapter, 'adapter_model.safetensors'));
    try {
      const name = 'model.layers.1.self_attn.k_proj.weight';
      const [out, inn] = w.info(name).shape;
      const W = await w.readFloat32(name);
      const M = await mw.readFloat32(name);
      const names = peftNames('model.layers.1.self_attn.k_proj');
      const A = await a.readFloat32(names.a);
      const B = await a.readFloat32(names.b);
      const r = 8;
      for (const [o, i] of [[0, 0], [out - 1, inn - 1], [17, 42]]) {
        let delta = 0;
        for (let k = 0; k < r; k++) delta += B[o * r + k] * A[k * inn + i];
        const expected = W[o * inn + i] + (16 / r) * delta;
        assert.ok(Math.abs(M[o * inn + i] - expected) < 1e-7, `[${o}, ${i}]: ${M[o * inn + i]} vs ${expected}`);
      }
    } finally {
      await Promise.all([w.close(), mw.close(), a.close()]);
    }
  });

  test('the base files are copied as they are; only the adapted weights change', async () => {
    assert.deepEqual(readdirSync(merged).sort(), readdirSync(base).sort());
    for (const f of ['config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']) {
      assert.deepEqual(readFileSync(join(merged, f)), readFileSync(join(base, f)), f);
    }
    const w = await openModelWeights(base);
    const mw = await openModelWeights(merged);
    try {
      assert.deepEqual([...mw.names].sort(), [...w.names].sort());
      for (const name of w.names) {
        assert.equal(mw.info(name).dtype, w.info(name).dtype, name);
        assert.deepEqual(mw.info(name).shape, w.info(name).shape, name);
        const same = Buffer.compare(await w.readRaw(name), await mw.readRaw(name)) === 0;
        assert.equal(same, !/_proj\.weight$/.test(name), `${name} ${same ? 'unchanged' : 'changed'}`);
      }
    } finally {
      await Promise.all([w.close(), mw.close()]);
    }
  });

  test('merging one row at a time writes the same bytes as the default blocks', async () => {
    await mergeAdapterToHf({ baseDir: base, peftDir: adapter, out: at('merged-rows'), blockValues: 1, copyChunkBytes: 100 });
    assert.deepEqual(readFileSync(join(at('merged-rows'), 'model.safetensors')), readFileSync(join(merged, 'model.safetensors')));
  });

  test('mergeRowsInto: a block in the middle of the weight takes the rows of B it covers', () => {
    // W = 0, A = [[1, 2, 3]], B = [[1], [10], [100]]: (B A) row o is B[o] · [1, 2, 3].
    const lora = { a: Float32Array.of(1, 2, 3), b: Float32Array.of(1, 10, 100), rank: 1, inDim: 3, outDim: 3, scale: 0.5 };
    assert.deepEqual([...mergeRowsInto(new Float32Array(3), 1, lora)], [5, 10, 15]);
    assert.deepEqual([...mergeRowsInto(Float32Array.of(1, 1, 1, 1, 1, 1), 1, lora)], [6, 11, 16, 51, 101, 151]);
    assert.throws(() => mergeRowsInto(new Float32Array(6), 2, lora), /rows 2\.\.4 are outside the weight's 3 rows/);
  });

  test('an F16 base stays F16, within F16 rounding of the on-the-fly result', async () => {
    const b16 = await fixtureBase(at('base-f16'), { dtype: 'F16' });
    const out = (await mergeAdapterToHf({ baseDir: b16, peftDir: adapter, out: at('merged-f16') })).dir;
    const mw = await openModelWeights(out);
    try {
      assert.deepEqual(new Set(mw.names.map((n) => mw.info(n).dtype)), new Set(['F16']));
    } finally {
      await mw.close();
    }
    const ref = await referenceModel(b16);
    const onTheFly = forward(ref.config, ref.weights, tokens, { lora: await referenceLora(adapter) });
    const m = await referenceModel(out);
    const diff = worst(forward(m.config, m.weights, tokens), onTheFly);
    assert.ok(diff.max > 0 && diff.max < 5e-3, `F16 merged vs on the fly: ${diff.text}`);
  });

  test('a sharded base gives the same shards and index, merged', async () => {
    const sharded = at('base-sharded');
    mkdirSync(sharded);
    for (const f of readdirSync(base)) if (f !== 'model.safetensors') writeFileSync(join(sharded, f), readFileSync(join(base, f)));
    const w = await openModelWeights(base);
    const weightMap: Record<string, string> = {};
    try {
      const names = [...w.names];
      const shards = [names.filter((n) => !n.includes('layers.1.')), names.filter((n) => n.includes('layers.1.'))];
      for (const [i, list] of shards.entries()) {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        await writeSafetensors(join(sharded, file), await Promise.all(list.map(async (n) => ({ name: n, dtype: 'F32' as const, shape: w.info(n).shape, data: await w.readFloat32(n) }))));
        for (const n of list) weightMap[n] = file;
      }
    } finally {
      await w.close();
    }
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const out = (await mergeAdapterToHf({ baseDir: sharded, peftDir: adapter, out: at('merged-sharded') })).dir;
    assert.deepEqual(readdirSync(out).sort(), readdirSync(sharded).sort());
    assert.deepEqual(readFileSync(join(out, 'model.safetensors.index.json')), readFileSync(join(sharded, 'model.safetensors.index.json')));
    const a = await referenceModel(out);
    const b = await referenceModel(merged);
    assert.equal(worst(forward(a.config, a.weights, tokens), forward(b.config, b.weights, tokens)).max, 0);
  });

  test('use_rslora and alpha_pattern scale each module as PEFT does', async () => {
    const scaled = await fixtureAdapter(at('adapter-rslora'), base, { rank: 4, alpha: 8, extraConfig: { use_rslora: true, alpha_pattern: { v_proj: 2, 'model.layers.1.mlp.down_proj': 32 } } });
    const out = (await mergeAdapterToHf({ baseDir: base, peftDir: scaled, out: at('merged-rslora') })).dir;
    const ref = await referenceModel(base);
    const onTheFly = forward(ref.config, ref.weights, tokens, { lora: await referenceLora(scaled) });
    const m = await referenceModel(out);
    const diff = worst(forward(m.config, m.weights, tokens), onTheFly);
    assert.ok(diff.max < 1e-5, `rslora merged vs on the fly: ${diff.text}`);
  });
});

describe('merge refuses what does not fit, and writes nothing', () => {
  test('an adapter for a model of another width names the tensor and both shapes', async () => {
    const wide = await fixtureBase(at('base-wide'), { dims: { hiddenSize: 128, numAttentionHeads: 8, numKeyValueHeads: 4 } });
    const before = readdirSync(tmp.dir).sort();
    await assert.rejects(
      mergeAdapterToHf({ baseDir: wide, peftDir: adapter, out: at('never') }),
      (e: unknown) =>
        e instanceof AdapterError &&
        e.tensor === 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' &&
        e.message ===
          `${join(adapter, 'adapter_model.safetensors')}: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' is [8, 64] but the base weight model.layers.0.self_attn.q_proj.weight is [128, 128] (64 inputs, not 128) (the adapter was trained on another base model; pass the --base it was trained on)`,
    );
    assert.deepEqual(readdirSync(tmp.dir).sort(), before, 'no folder, not even a temporary one, is left');
  });

  test('an adapter for layers the base does not have', async () => {
    const shallow = await fixtureBase(at('base-shallow'), { dims: { numHiddenLayers: 1 } });
    await assert.rejects(mergeAdapterToHf({ baseDir: shallow, peftDir: adapter, out: at('never') }), /adapts layer 1, but the base model has 1 layers/);
    assert.equal(existsSync(at('never')), false);
  });

  test('a base weight missing from the safetensors files', async () => {
    const holey = at('base-holey');
    mkdirSync(holey);
    writeFileSync(join(holey, 'config.json'), readFileSync(join(base, 'config.json')));
    const w = await openModelWeights(base);
    try {
      const keep = w.names.filter((n) => n !== 'model.layers.0.mlp.up_proj.weight');
      await writeSafetensors(join(holey, 'model.safetensors'), await Promise.all(keep.map(async (n) => ({ name: n, dtype: 'F32' as const, shape: w.info(n).shape, data: await w.readFloat32(n) }))));
    } finally {
      await w.close();
    }
    await assert.rejects(
      mergeAdapterToHf({ baseDir: holey, peftDir: adapter, out: at('never') }),
      (e: unknown) => e instanceof AdapterError && e.tensor === peftNames('model.layers.0.mlp.up_proj').a && /adapts model\.layers\.0\.mlp\.up_proj\.weight, which the base weights in .* do not have/.test(e.message),
    );
  });

  test('an output folder that is not empty, or is the base itself', async () => {
    mkdirSync(at('occupied'));
    writeFileSync(at('occupied', 'keep.txt'), 'mine');
    await assert.rejects(mergeAdapterToHf({ baseDir: base, peftDir: adapter, out: at('occupied') }), (e: unknown) => e instanceof ModelFolderError && e.message === `${at('occupied')}: is not empty (pick an empty or new folder, or pass --force to replace it)`);
    assert.equal(readFileSync(at('occupied', 'keep.txt'), 'utf8'), 'mine');
    await assert.rejects(mergeAdapterToHf({ baseDir: base, peftDir: adapter, out: base, force: true }), /is the base model folder \(write the merged model to a new folder\)/);
    const forced = await mergeAdapterToHf({ baseDir: base, peftDir: adapter, out: at('occupied'), force: true });
    assert.deepEqual(readdirSync(forced.dir).sort(), readdirSync(base).sort());
  });

  test('a LoRA on the tied output matrix', async () => {
    const head = await handMadeAdapter(at('adapter-head'), { target_modules: ['lm_head'] }, [
      { name: peftNames('lm_head').a, shape: [4, 64] },
      { name: peftNames('lm_head').b, shape: [512, 4] },
    ]);
    await assert.rejects(mergeAdapterToHf({ baseDir: base, peftDir: head, out: at('never') }), /adapts lm_head, which this base shares with the token embeddings \(tie_word_embeddings in .*config\.json\)/);
  });
});

describe('merge straight to GGUF', () => {
  for (const type of ['f16', 'q8_0'] as const) {
    test(`${type}: the same bytes as converting the merged folder`, async () => {
      const direct = await mergeAdapterToGguf({ baseDir: base, peftDir: adapter, out: at(`direct-${type}.gguf`), type, name: 'fixture', threads: 1 });
      const viaFolder = await convertHfToGguf(merged, at(`via-folder-${type}.gguf`), type, { name: 'fixture', threads: 1 });
      assert.equal(direct.size, viaFolder.size);
      assert.deepEqual(readFileSync(direct.path), readFileSync(viaFolder.path));
      assert.equal(direct.merged.length, 14);
      const plain = await convertHfToGguf(base, at(`plain-${type}.gguf`), type, { name: 'fixture', threads: 1 });
      assert.notDeepEqual(readFileSync(plain.path), readFileSync(direct.path), 'and not the base model');
    });
  }

  test('an adapter that does not fit leaves no file', async () => {
    const wide = await fixtureBase(at('base-wide-gguf'), { dims: { hiddenSize: 128, numAttentionHeads: 8, numKeyValueHeads: 4 } });
    await assert.rejects(mergeAdapterToGguf({ baseDir: wide, peftDir: adapter, out: at('never.gguf'), type: 'f16' }), AdapterError);
    assert.equal(readdirSync(tmp.dir).some((f) => f.startsWith('never.gguf')), false);
  });
});

describe('taxonomy-studio merge', () => {
  test('writes the merged folder and says what it did', async () => {
    const r = await cli(tmp.dir, 'merge', 'base', '--adapter', 'adapter', '--out', 'cli-merged');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'cli-merged: base + adapter merged: 14 weights updated, 5 files copied, 1 safetensors file (F32)\n');
    assert.deepEqual(readFileSync(at('cli-merged', 'model.safetensors')), readFileSync(join(merged, 'model.safetensors')));
  });

  test('--out *.gguf writes GGUF, --type picks the quantization', async () => {
    const r = await cli(tmp.dir, 'merge', 'base', '--adapter', 'adapter', '--out', 'cli-merged.gguf', '--type', 'Q8_0');
    assert.equal(r.code, 0, r.stderr);
    const size = readFileSync(at('cli-merged.gguf')).length;
    assert.match(r.stdout, new RegExp(`^cli-merged\\.gguf: base \\+ adapter merged: 14 weights updated, llama GGUF, (\\d+ [A-Z0-9_]+, )*\\d+ Q8_0(, \\d+ [A-Z0-9_]+)*, ${(size / 1024).toFixed(1).replace('.', '\\.')} KiB\\n$`));
    const { typedMetadata } = await gguf(at('cli-merged.gguf'), { allowLocalFile: true, typedMetadata: true });
    assert.equal(typedMetadata['general.file_type']?.value, 7);
    const bad = await cli(tmp.dir, 'merge', 'base', '--adapter', 'adapter', '--out', 'x.gguf', '--type', 'q3_x');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--type: unknown quantization type 'q3_x'; use one of: f32, f16/);
  });

  test('bad usage and bad input', async () => {
    const r1 = await cli(tmp.dir, 'merge', 'base', '--out', 'x');
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /^taxonomy-studio merge: merge needs --adapter <peft-dir>/);
    const r2 = await cli(tmp.dir, 'merge', 'nowhere', '--adapter', 'adapter', '--out', 'x');
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /^taxonomy-studio merge: no such folder: nowhere \(the base model folder\)/);
    const r3 = await cli(tmp.dir, 'merge', 'base', '--adapter', 'adapter', '--out', 'x', '--format', 'onnx');
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /--format must be hf or gguf, not 'onnx'/);
    const r4 = await cli(tmp.dir, 'merge', 'base', '--adapter', 'adapter', '--out', 'x', '--type', 'q8_0');
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /--type applies to GGUF output/);
    mkdirSync(at('empty-adapter'));
    const r5 = await cli(tmp.dir, 'merge', 'base', '--adapter', 'empty-adapter', '--out', 'x');
    assert.equal(r5.code, 1);
    assert.equal(
      r5.stderr,
      'taxonomy-studio merge: empty-adapter/adapter_config.json: not found (give the folder PEFT saved the adapter in, with adapter_config.json and adapter_model.safetensors)\n',
    );
    assert.equal(existsSync(at('x')), false);
  });
});
