import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFolderError } from '../../../engine/hf/errors';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { writeSafetensors } from '../../../engine/hf/safetensorsWriter';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-weights-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function folder(name: string): string {
  const p = join(dir, name);
  mkdirSync(p);
  return p;
}

const t = (name: string, values: number[]) => ({ name, dtype: 'F32' as const, shape: [values.length], data: new Float32Array(values) });

test('a single model.safetensors', async () => {
  const f = folder('single');
  await writeSafetensors(join(f, 'model.safetensors'), [t('model.norm.weight', [1, 2]), t('lm_head.weight', [3])]);
  const w = await openModelWeights(f);
  try {
    assert.deepEqual([...w.names].sort(), ['lm_head.weight', 'model.norm.weight']);
    assert.deepEqual(w.files, [join(f, 'model.safetensors')]);
    assert.deepEqual([...(await w.readFloat32('model.norm.weight'))], [1, 2]);
    assert.equal(w.info('lm_head.weight').file, join(f, 'model.safetensors'));
  } finally {
    await w.close();
  }
});

test('shards behind model.safetensors.index.json read as one map of tensors', async () => {
  const f = folder('sharded');
  await writeSafetensors(join(f, 'model-00001-of-00002.safetensors'), [t('model.embed_tokens.weight', [1, 2, 3]), t('model.norm.weight', [4])]);
  await writeSafetensors(join(f, 'model-00002-of-00002.safetensors'), [t('lm_head.weight', [5, 6])]);
  writeFileSync(
    join(f, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: { total_size: 24 },
      weight_map: {
        'lm_head.weight': 'model-00002-of-00002.safetensors',
        'model.embed_tokens.weight': 'model-00001-of-00002.safetensors',
        'model.norm.weight': 'model-00001-of-00002.safetensors',
      },
    }),
  );
  const w = await openModelWeights(f);
  try {
    assert.deepEqual(w.names, ['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    assert.deepEqual(w.files, [join(f, 'model-00002-of-00002.safetensors'), join(f, 'model-00001-of-00002.safetensors')]);
    assert.deepEqual([...(await w.readFloat32('lm_head.weight'))], [5, 6]);
    assert.deepEqual([...(await w.readFloat32Range('model.embed_tokens.weight', 1, 2))], [2, 3]);
    assert.equal(w.info('model.norm.weight').file, join(f, 'model-00001-of-00002.safetensors'));
    assert.throws(() => w.info('model.layers.0.mlp.up_proj.weight'), (err: unknown) => err instanceof ModelFolderError && /has no tensor 'model\.layers\.0\.mlp\.up_proj\.weight'/.test(err.message));
  } finally {
    await w.close();
  }
});

test('an index that lies about a shard, or names a missing one', async () => {
  const f = folder('lying');
  await writeSafetensors(join(f, 'a.safetensors'), [t('x', [1])]);
  const index = join(f, 'model.safetensors.index.json');
  writeFileSync(index, JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }));
  await assert.rejects(openModelWeights(f), {
    name: 'ModelFolderError',
    message: `${index}: says tensor 'y' is in a.safetensors, but a.safetensors has no such tensor (the index and the shards come from different saves; download them again)`,
  });
  writeFileSync(index, JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
  await assert.rejects(openModelWeights(f), { message: `${index}: lists shard b.safetensors, which does not exist (download the missing shard)` });
  writeFileSync(index, JSON.stringify({ weight_map: { x: '../a.safetensors' } }));
  await assert.rejects(openModelWeights(f), { message: /weight_map\['x'\] is "\.\.\/a\.safetensors", not a file name in this folder/ });
  writeFileSync(index, JSON.stringify({ metadata: {} }));
  await assert.rejects(openModelWeights(f), { message: `${index}: has no weight_map object (it should map each tensor name to its shard file)` });
});

test('a folder without safetensors weights says what it found', async () => {
  const f = folder('pytorch');
  await assert.rejects(openModelWeights(f), { message: `${f}: no model.safetensors or model.safetensors.index.json (expected a Hugging Face model folder with safetensors weights)` });
  writeFileSync(join(f, 'pytorch_model.bin'), 'x');
  await assert.rejects(openModelWeights(f), /found pytorch_model\.bin: only safetensors weights are read; save the model with safe_serialization=True/);
});
