import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MissingTensorError, TensorShapeError } from '../../../engine/model/errors';
import { loadWeightSource, requireTensor, weightSourceFromMap } from '../../../engine/model/weights';

test('weightSourceFromMap serves a record or a Map', () => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  for (const source of [
    weightSourceFromMap({ w: { data, shape: [2, 3] } }),
    weightSourceFromMap(new Map([['w', { data, shape: [2, 3] }]])),
  ]) {
    assert.equal(source.has('w'), true);
    assert.equal(source.has('x'), false);
    assert.deepEqual(source.shape('w'), [2, 3]);
    assert.equal(source.get('w'), data);
    assert.deepEqual(source.names(), ['w']);
    assert.throws(
      () => source.get('x'),
      (e: unknown) => e instanceof MissingTensorError && e.message === 'missing tensor x',
    );
  }
});

test('a tensor whose length does not match its shape is refused', () => {
  assert.throws(
    () => weightSourceFromMap({ w: { data: new Float32Array(5), shape: [2, 3] } }),
    (e: unknown) => e instanceof TensorShapeError && e.message === 'tensor w: expected element count [6], found [5]',
  );
});

test('requireTensor checks the shape', () => {
  const source = weightSourceFromMap({ w: { data: new Float32Array(6), shape: [3, 2] } });
  assert.throws(() => requireTensor(source, 'w', [2, 3]), /tensor w: expected shape \[2, 3\], found \[3, 2\]/);
  assert.equal(requireTensor(source, 'w', [3, 2]).length, 6);
});

test('loadWeightSource reads a tensor file reader into memory, optionally filtered', async () => {
  const files: Record<string, { shape: number[]; data: number[] }> = {
    'model.norm.weight': { shape: [2], data: [1, 2] },
    'lm_head.weight': { shape: [1, 2], data: [3, 4] },
  };
  const read: string[] = [];
  const reader = {
    names: Object.keys(files),
    info: (name: string) => ({ shape: files[name].shape }),
    readFloat32: async (name: string) => {
      read.push(name);
      return Float32Array.from(files[name].data);
    },
  };
  const all = await loadWeightSource(reader);
  assert.deepEqual(all.names(), ['model.norm.weight', 'lm_head.weight']);
  assert.deepEqual(Array.from(all.get('lm_head.weight')), [3, 4]);
  assert.deepEqual(all.shape('lm_head.weight'), [1, 2]);
  read.length = 0;
  const some = await loadWeightSource(reader, (n) => n !== 'lm_head.weight');
  assert.deepEqual(read, ['model.norm.weight']);
  assert.equal(some.has('lm_head.weight'), false);
});
