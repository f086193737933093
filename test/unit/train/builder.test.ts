import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import { attr, GraphBuilder, GraphError } from '../../../engine/train/onnx/builder';
import { dataOf, f32, GraphSession } from '../../../engine/train/onnx/session';

/** y = 1.0 · x Wᵀ + 1.0 · b with W and b as initializers: Gemm's alpha and beta must be FLOAT attributes. */
function gemmGraph(): GraphBuilder {
  const g = new GraphBuilder('gemm');
  g.input('x', 'FLOAT', ['n', 3]);
  const w = g.initializer('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = g.initializer('b', Float32Array.from([10, 20]), [2]);
  g.output(g.op('Gemm', ['x', w, b], { transB: attr.int(1), alpha: attr.float(1), beta: attr.float(1) }), 'y', 'FLOAT', ['n', 2]);
  return g;
}

test('attributes keep their declared types (1.0 stays FLOAT) and the model runs in onnxruntime', async () => {
  const encoded = gemmGraph().encode();
  const model = onnx.ModelProto.decode(encoded.bytes);
  const gemm = model.graph!.node!.find((n) => n.opType === 'Gemm')!;
  const types = Object.fromEntries(gemm.attribute!.map((a) => [a.name, a.type]));
  assert.deepEqual(types, { transB: onnx.AttributeProto.AttributeType.INT, alpha: onnx.AttributeProto.AttributeType.FLOAT, beta: onnx.AttributeProto.AttributeType.FLOAT });
  assert.equal(Number(model.irVersion), 10);
  const s = await GraphSession.create('gemm', encoded);
  const y = dataOf(await s.run({ x: f32(Float32Array.from([1, 0, 1, 0, 1, 0]), [2, 3]) }), 'y');
  assert.deepEqual([...y], [14, 30, 12, 25]);
  await s.dispose();
  await s.dispose();
  await assert.rejects(s.run({}), /disposed/);
});

test('initializers above the threshold go to external data, and the session gives the same result', async () => {
  const encoded = gemmGraph().encode({ externalThreshold: 16, externalFile: 'w.bin' });
  assert.equal(encoded.externalData.length, 1);
  assert.equal(encoded.externalData[0].path, 'w.bin');
  // w (24 bytes) is external at offset 0; b (8 bytes) stays inline.
  assert.equal(encoded.externalData[0].data.byteLength, 24);
  const model = onnx.ModelProto.decode(encoded.bytes);
  const w = model.graph!.initializer!.find((t) => t.name === 'w')!;
  assert.equal(w.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.deepEqual(w.externalData!.map((e) => [e.key, e.value]), [['location', 'w.bin'], ['offset', '0'], ['length', '24']]);
  const s = await GraphSession.create('gemm-external', encoded);
  assert.deepEqual([...dataOf(await s.run({ x: f32(Float32Array.from([0, 0, 1]), [1, 3]) }), 'y')], [13, 26]);
  await s.dispose();
});

test('the builder refuses what onnxruntime would reject later, naming the problem', () => {
  assert.throws(() => new GraphBuilder('g', 27), /supports ai.onnx up to 26/);
  const g = new GraphBuilder('g');
  g.input('x', 'FLOAT', [2]);
  assert.throws(() => g.op('Relu', ['nope']), (e: Error) => e instanceof GraphError && /Relu reads nope/.test(e.message));
  assert.throws(() => g.input('x', 'FLOAT', [2]), /x is defined twice/);
  assert.throws(() => g.op('MatMulNBits', ['x'], {}, 'com.microsoft'), /domain com.microsoft; call useDomain/);
  assert.throws(() => attr.int(1.5), /not an integer/);
  assert.throws(() => g.initializer('w', new Float32Array(3), [2, 2]), /3 values for dims \[2, 2\]/);
  assert.equal(g.constI64([1, 2]), g.constI64([1, 2]));
});
