// GGUF metadata: every value type written and read back exactly, the byte layout against the spec, value checks,
// and our files read by an independent parser (@huggingface/gguf).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import {
  alignUp,
  asNumber,
  describeType,
  GgufType,
  meta,
  toPlain,
  valueProblem,
  type GgufArray,
  type GgufValue,
} from '../../../engine/gguf/format';
import { openGguf } from '../../../engine/gguf/reader';
import { GgufWriter, writeGguf } from '../../../engine/gguf/writer';
import { everyTypeMetadata, sampleTensors, tempFolder } from './formatFixtures';

const tmp = tempFolder('gguf-format-');
after(() => tmp.remove());

describe('metadata round trip', () => {
  test('every value type, arrays of each, nested and empty arrays and unicode strings read back exactly', async () => {
    const path = join(tmp.dir, 'every-type.gguf');
    const metadata = everyTypeMetadata();
    await writeGguf(path, { metadata, tensors: [] });
    const file = await openGguf(path);
    try {
      assert.deepEqual([...file.metadata.keys()], metadata.map(([k]) => k));
      for (const [key, value] of metadata) assert.deepEqual(file.metadata.get(key), value, key);
      assert.equal(file.tensors.length, 0);
      assert.equal(file.version, 3);
    } finally {
      await file.close();
    }
  });

  test('64-bit integers come back as bigints, beyond what a number could hold', async () => {
    const path = join(tmp.dir, 'big.gguf');
    await writeGguf(path, { metadata: [['x.big', meta.u64(2n ** 64n - 2n)], ['x.small', meta.i64(-3)]], tensors: [] });
    const file = await openGguf(path);
    await file.close();
    assert.equal(file.metadata.get('x.big')!.value, 18446744073709551614n);
    assert.equal(file.metadata.get('x.small')!.value, -3n);
    assert.equal(asNumber(file.metadata.get('x.small')), -3);
    assert.equal(asNumber(file.metadata.get('x.big')), undefined);
  });
});

describe('byte layout', () => {
  test('one u8 pair and no tensors is exactly the bytes the spec describes, padded to the alignment', async () => {
    const path = join(tmp.dir, 'tiny.gguf');
    await writeGguf(path, { metadata: [['a', meta.u8(7)]], tensors: [] });
    const expected = Buffer.concat([
      Buffer.from('GGUF', 'latin1'),
      Buffer.from([3, 0, 0, 0]), // version
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), // tensor count
      Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), // metadata count
      Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), // key length
      Buffer.from('a'),
      Buffer.from([0, 0, 0, 0]), // type u8
      Buffer.from([7]),
    ]);
    const written = readFileSync(path);
    assert.equal(expected.length, 38);
    assert.deepEqual(written.subarray(0, 38), expected);
    assert.equal(written.length, 64, 'padded with zeros to the 32-byte alignment');
    assert.ok(written.subarray(38).every((b) => b === 0));
  });

  test('a tensor info is name, dimension count, u64 dims (ne[0] first), type and offset; data at an aligned offset', async () => {
    const path = join(tmp.dir, 'one-tensor.gguf');
    const data = Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
    await writeGguf(path, { metadata: [], tensors: [{ name: 't', dims: [3, 2], type: 0, data }] });
    const b = readFileSync(path);
    let at = 24;
    assert.equal(b.readBigUInt64LE(8), 1n);
    assert.equal(b.readBigUInt64LE(at), 1n); // name length
    assert.equal(b.toString('latin1', at + 8, at + 9), 't');
    at += 9;
    assert.equal(b.readUInt32LE(at), 2);
    assert.equal(b.readBigUInt64LE(at + 4), 3n);
    assert.equal(b.readBigUInt64LE(at + 12), 2n);
    assert.equal(b.readUInt32LE(at + 20), 0); // F32
    assert.equal(b.readBigUInt64LE(at + 24), 0n);
    const headerEnd = at + 32;
    const dataOffset = alignUp(headerEnd, 32);
    assert.equal(dataOffset, 96);
    assert.deepEqual(b.subarray(dataOffset, dataOffset + 24), data);
    assert.equal(b.length, dataOffset + 32, 'the last tensor is padded to the alignment too');
  });
});

describe('value checks', () => {
  const cases: [GgufValue, string][] = [
    [meta.u8(256), '256 is outside the u8 range 0..255'],
    [meta.i8(-129), '-129 is outside the i8 range -128..127'],
    [meta.u16(-1), '-1 is outside the u16 range 0..65535'],
    [meta.i32(1.5), 'a i32 needs an integer, got 1.5'],
    [meta.u32(2 ** 32), '4294967296 is outside the u32 range 0..4294967295'],
    [meta.u64(-1n), '-1 is outside the u64 range 0..18446744073709551615'],
    [meta.i64(2n ** 63n), '9223372036854775808 is outside the i64 range -9223372036854775808..9223372036854775807'],
    [{ type: GgufType.STRING, value: 3 as unknown as string }, 'a string needs a JS string, got 3'],
    [{ type: GgufType.BOOL, value: 1 as unknown as boolean }, 'a bool needs true or false, got 1'],
    [{ type: GgufType.UINT64, value: 5 as unknown as bigint }, 'a u64 needs a bigint, got 5'],
    [meta.i32s([1, 2, 2 ** 31]), 'item 2: 2147483648 is outside the i32 range -2147483648..2147483647'],
    [
      meta.array({ itemType: GgufType.ARRAY, items: [{ itemType: GgufType.STRING, items: ['a', 7 as unknown as string] }] }),
      'item 0: item 1: a string needs a JS string, got 7',
    ],
    [meta.array({ itemType: 13 as GgufType.UINT8, items: [] }), 'array item type 13 is not a GGUF value type'],
  ];
  for (const [value, problem] of cases) {
    test(`refuses: ${problem}`, () => assert.equal(valueProblem(value), problem));
  }

  test('accepts the edges of every range', () => {
    for (const [key, value] of everyTypeMetadata()) assert.equal(valueProblem(value), undefined, key);
  });

  test('the writer names the key of a value it refuses', async () => {
    const w = await GgufWriter.create(join(tmp.dir, 'refused.gguf'));
    assert.throws(() => w.setU32('llama.block_count', -2), { name: 'RangeError', message: "metadata key 'llama.block_count': -2 is outside the u32 range 0..4294967295" });
    assert.throws(() => w.setString('bad key', 'x'), { name: 'TypeError', message: 'metadata key "bad key" must be printable ASCII without spaces' });
    assert.throws(() => w.set('general.alignment', meta.u32(48)), { message: "metadata key 'general.alignment' must be a u32 power of two, got 48" });
    await w.abort();
  });
});

describe('describing values', () => {
  test('type names and plain JSON values', () => {
    const nested: GgufArray = { itemType: GgufType.ARRAY, items: [{ itemType: GgufType.INT32, items: [1] }] };
    assert.equal(describeType(meta.u32(1)), 'u32');
    assert.equal(describeType(meta.strings(['a'])), 'array[string]');
    assert.equal(describeType(meta.array(nested)), 'array[array[i32]]');
    assert.deepEqual(toPlain(meta.array(nested)), [[1]]);
    assert.deepEqual(toPlain(meta.array({ itemType: GgufType.UINT64, items: [5n, 2n ** 60n] })), [5, '1152921504606846976']);
  });
});

describe('read by @huggingface/gguf, an independent parser', () => {
  test('metadata types and values and tensor infos agree', async () => {
    const path = join(tmp.dir, 'independent.gguf');
    const metadata = everyTypeMetadata();
    const tensors = sampleTensors();
    await writeGguf(path, { metadata, tensors });
    const theirs = await gguf(path, { allowLocalFile: true, typedMetadata: true });
    const ours = await openGguf(path);
    await ours.close();

    assert.equal(theirs.typedMetadata.version.value, 3);
    assert.equal(theirs.typedMetadata.tensor_count.value, BigInt(tensors.length));
    assert.equal(theirs.typedMetadata.kv_count.value, BigInt(metadata.length));
    for (const [key, value] of metadata) {
      const t = theirs.typedMetadata[key];
      assert.ok(t, `@huggingface/gguf lacks ${key}`);
      assert.equal(t.type, value.type, `${key} type`);
      if (value.type === GgufType.ARRAY) {
        assert.equal(t.subType, value.value.itemType, `${key} item type`);
        assert.deepEqual(t.value, plainItems(value.value), key);
      } else {
        assert.deepEqual(t.value, value.value, key);
      }
    }
    assert.equal(theirs.tensorDataOffset, BigInt(ours.dataOffset));
    assert.deepEqual(
      theirs.tensorInfos.map((t) => ({ name: t.name, dims: t.shape.map(Number), type: Number(t.dtype), offset: Number(t.offset) })),
      ours.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, offset: t.offset })),
    );
    assert.deepEqual(
      ours.tensors.map((t) => t.name),
      tensors.map((t) => t.name),
    );
  });
});

/** Items as @huggingface/gguf gives them: nested arrays as JS arrays, bigints kept. */
function plainItems(array: GgufArray): unknown[] {
  return array.itemType === GgufType.ARRAY ? array.items.map(plainItems) : array.items;
}
