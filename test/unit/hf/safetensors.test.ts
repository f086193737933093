import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError } from '../../../engine/hf/errors';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { createSafetensorsWriter, writeSafetensors } from '../../../engine/hf/safetensorsWriter';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-safetensors-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file assembled by hand from the format description, independent of our writer. */
function handMade(header: object | string, data: Uint8Array, headerLength?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLength ?? json.length));
  return Buffer.concat([len, json, data]);
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

async function errorOf(promise: Promise<unknown>): Promise<SafetensorsError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SafetensorsError, `expected a SafetensorsError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('reading', () => {
  test('a hand-made file: metadata, names, dtypes, shapes and values of F32, F16 and BF16 tensors', async () => {
    const path = join(dir, 'hand.safetensors');
    const data = Buffer.concat([
      f32Bytes([1, 2, 3, 4, 5, 6]), // a: F32 [2,3] at 0..24
      Buffer.from([0x00, 0x3c, 0x00, 0xc0]), // b: F16 [2] = 1, -2 at 24..28
      Buffer.from([0x80, 0x3f, 0x40, 0x40]), // c: BF16 [2] = 1, 3 at 28..32
    ]);
    writeFileSync(
      path,
      handMade(
        {
          __metadata__: { format: 'pt' },
          c: { dtype: 'BF16', shape: [2], data_offsets: [28, 32] },
          a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
          b: { dtype: 'F16', shape: [2], data_offsets: [24, 28] },
        },
        data,
      ),
    );
    const file = await openSafetensors(path);
    try {
      assert.deepEqual(file.names, ['a', 'b', 'c']); // data order
      assert.deepEqual(file.metadata, { format: 'pt' });
      assert.deepEqual({ dtype: file.info('a').dtype, shape: file.info('a').shape }, { dtype: 'F32', shape: [2, 3] });
      assert.deepEqual([...(await file.readFloat32('a'))], [1, 2, 3, 4, 5, 6]);
      assert.deepEqual([...(await file.readFloat32('b'))], [1, -2]);
      assert.deepEqual([...(await file.readFloat32('c'))], [1, 3]);
      assert.deepEqual([...(await file.readFloat32Range('a', 3, 3))], [4, 5, 6]);
      assert.deepEqual([...(await file.readRaw('b'))], [0x00, 0x3c, 0x00, 0xc0]);
      assert.deepEqual([...(await file.readRaw('a', 4, 4))], [...f32Bytes([2])]);
      assert.throws(() => file.info('missing'), /no tensor 'missing'/);
      await assert.rejects(file.readFloat32Range('a', 4, 3), /elements 4\.\.7 are outside tensor 'a' \(6 elements\)/);
    } finally {
      await file.close();
      await file.close(); // twice is fine
    }
  });

  test('integer tensors read raw but not as float32', async () => {
    const path = join(dir, 'ints.safetensors');
    writeFileSync(path, handMade({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)));
    const file = await openSafetensors(path);
    try {
      assert.equal((await file.readRaw('ids')).length, 8);
      const err = await errorOf(file.readFloat32('ids'));
      assert.equal(err.problem, 'unsupported');
      assert.match(err.message, /tensor 'ids' has dtype I64; only F32, F16, BF16, F64 read as float32/);
    } finally {
      await file.close();
    }
  });
});

describe('bad files name the file, the tensor and the byte offset', () => {
  // `offset` is given the data section's start, which depends on the header's length.
  const cases: { name: string; bytes: () => Buffer; problem: string; tensor?: string; offset: number | ((dataStart: number) => number); message: RegExp }[] = [
    {
      name: 'fewer than 8 bytes',
      bytes: () => Buffer.from([1, 2, 3]),
      problem: 'truncated',
      offset: 0,
      message: /the file has 3 bytes, fewer than the 8-byte header length \(the file is truncated/,
    },
    {
      name: 'a header length no safetensors file has',
      bytes: () => handMade('{}', new Uint8Array(), 2 ** 40),
      problem: 'not-safetensors',
      offset: 0,
      message: /header length is 1099511627776 bytes; a safetensors header is 2\.\.100000000 bytes/,
    },
    {
      name: 'a header longer than the file',
      bytes: () => handMade('{"a":1}', new Uint8Array(), 500),
      problem: 'truncated',
      offset: 15,
      message: /the header is 500 bytes but the file ends at 15/,
    },
    {
      name: 'a header that is not JSON',
      bytes: () => handMade('{"a": [1, 2', new Uint8Array()),
      problem: 'corrupt',
      offset: 19,
      message: /the header is not valid JSON/,
    },
    {
      name: 'an unknown dtype',
      bytes: () => handMade({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, new Uint8Array(1)),
      problem: 'unsupported',
      tensor: 'w',
      offset: 8,
      message: /tensor 'w' has dtype "Q4", not one of BOOL, U8/,
    },
    {
      name: 'a size that does not match shape and dtype',
      bytes: () => handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      problem: 'corrupt',
      tensor: 'w',
      offset: (d) => d,
      message: /tensor 'w' of shape \[3\] and dtype F32 needs 12 bytes, but data_offsets \[0, 8\] give 8/,
    },
    {
      name: 'overlapping tensors',
      bytes: () =>
        handMade(
          { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
          new Uint8Array(8),
        ),
      problem: 'corrupt',
      tensor: 'b',
      offset: (d) => d + 4,
      message: /tensor 'b' starts at data offset 4 \(file byte \d+\) but the previous tensor ends at 8: an overlap of 4 bytes/,
    },
    {
      name: 'a gap between tensors',
      bytes: () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      problem: 'corrupt',
      tensor: 'a',
      offset: (d) => d + 4,
      message: /a gap of 4 bytes/,
    },
    {
      name: 'bytes after the last tensor',
      bytes: () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(6)),
      problem: 'corrupt',
      offset: (d) => d + 4,
      message: /2 bytes follow the last tensor's data \(file byte \d+\)/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const path = join(dir, `bad-${c.name.replace(/\W+/g, '-')}.safetensors`);
      const bytes = c.bytes();
      writeFileSync(path, bytes);
      const dataStart = bytes.length >= 8 ? 8 + Number(bytes.readBigUInt64LE(0)) : 0;
      const err = await errorOf(openSafetensors(path));
      assert.equal(err.file, path);
      assert.equal(err.problem, c.problem);
      assert.equal(err.tensor, c.tensor);
      assert.equal(err.offset, typeof c.offset === 'function' ? c.offset(dataStart) : c.offset);
      assert.match(err.message, c.message);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
    });
  }

  test('a truncated file names the first tensor whose data is cut off and where the file ends', async () => {
    const path = join(dir, 'truncated.safetensors');
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [4], data: new Float32Array(4) },
      { name: 'b', dtype: 'F32', shape: [4], data: new Float32Array(4) },
    ]);
    const size = readFileSync(path).length;
    const dataStart = size - 32;
    truncateSync(path, size - 5);
    const err = await errorOf(openSafetensors(path));
    assert.equal(err.problem, 'truncated');
    assert.equal(err.tensor, 'b');
    assert.equal(err.offset, size - 5); // the first byte missing
    assert.equal(err.message, `${path}: tensor 'b' needs bytes ${dataStart + 16}..${dataStart + 32} but the file ends at ${size - 5} (the file is truncated; re-download or re-write it)`);
  });

  test('a file that shrinks after opening fails the read with the tensor and offset', async () => {
    const path = join(dir, 'shrinks.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [8], data: new Float32Array(8) }]);
    const file = await openSafetensors(path);
    try {
      const size = readFileSync(path).length;
      truncateSync(path, size - 8);
      const err = await errorOf(file.readFloat32('w'));
      assert.equal(err.problem, 'truncated');
      assert.equal(err.tensor, 'w');
      assert.equal(err.offset, size - 8);
    } finally {
      await file.close();
    }
  });
});

describe('writing', () => {
  test('layout as the reference writes it: header padded with spaces to 8 bytes, tensors by dtype size then name', async () => {
    const path = join(dir, 'layout.safetensors');
    await writeSafetensors(
      path,
      [
        { name: 'z.half', dtype: 'F16', shape: [1], data: new Float32Array([1]) },
        { name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([2]) },
        { name: 'a', dtype: 'F32', shape: [1, 1], data: new Float32Array([3]) },
      ],
      { metadata: { format: 'pt' } },
    );
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = bytes.subarray(8, 8 + n).toString('utf8');
    const json =
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"z.half":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}}';
    assert.equal(header, json.padEnd(n, ' '));
    assert.ok(n - json.length < 8);
    assert.deepEqual([...bytes.subarray(8 + n)], [...f32Bytes([3]), ...f32Bytes([2]), 0x00, 0x3c]);
  });

  test('round trip of F32, F16 and BF16 tensors written in parts', async () => {
    const path = join(dir, 'parts.safetensors');
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const writer = await createSafetensorsWriter(path, [
      { name: 'f32', dtype: 'F32', shape: [10, 100] },
      { name: 'f16', dtype: 'F16', shape: [1000] },
      { name: 'bf16', dtype: 'BF16', shape: [1000] },
    ]);
    for (const name of ['bf16', 'f16', 'f32']) {
      await writer.write(name, values.subarray(0, 300));
      await writer.write(name, values.subarray(300), 300);
    }
    await writer.close();
    const file = await openSafetensors(path);
    try {
      assert.deepEqual(await file.readFloat32('f32'), values);
      const worst = (got: Float32Array) => Math.max(...Array.from(got, (v, i) => Math.abs(v - values[i]) / Math.max(Math.abs(values[i]), 1e-3)));
      assert.ok(worst(await file.readFloat32('f16')) <= 2 ** -11, `F16 worst relative error ${worst(await file.readFloat32('f16'))}`);
      assert.ok(worst(await file.readFloat32('bf16')) <= 2 ** -8, `BF16 worst relative error ${worst(await file.readFloat32('bf16'))}`);
    } finally {
      await file.close();
    }
  });

  test('parts must follow each other; an unknown tensor is refused', async () => {
    const path = join(dir, 'order.safetensors');
    const writer = await createSafetensorsWriter(path, [{ name: 'w', dtype: 'F32', shape: [4] }]);
    await writer.write('w', new Float32Array(2));
    await assert.rejects(writer.write('w', new Float32Array(1), 3), /tensor 'w': expected the part starting at byte 8 of 16, got one starting at 12/);
    await assert.rejects(writer.write('w', new Float32Array(3), 2), /12 bytes from byte 8 run past its 16 bytes/);
    await assert.rejects(writer.write('v', new Float32Array(1)), /tensor 'v' was not declared/);
    await writer.abort();
  });

  test('closing with a tensor unwritten leaves nothing under the final name and no temporary file', async () => {
    const sub = mkdtempSync(join(dir, 'incomplete-'));
    const path = join(sub, 'model.safetensors');
    const writer = await createSafetensorsWriter(path, [
      { name: 'a', dtype: 'F32', shape: [4] },
      { name: 'b', dtype: 'F32', shape: [4] },
    ]);
    await writer.write('a', new Float32Array(4));
    await writer.write('b', new Float32Array(2));
    assert.deepEqual(readdirSync(sub).length, 1); // only the temporary file so far
    await assert.rejects(writer.close(), /not written: 'b' \(8 of 16 bytes\); nothing was saved/);
    assert.deepEqual(readdirSync(sub), []);
  });

  test('a failed write (the disk refusing it) removes the temporary file', async () => {
    const sub = mkdtempSync(join(dir, 'failing-'));
    const path = join(sub, 'model.safetensors');
    const writer = await createSafetensorsWriter(path, [{ name: 'a', dtype: 'F32', shape: [4] }]);
    // Simulate ENOSPC: the file handle's write rejects.
    const fh = (writer as unknown as { fh: { write: unknown } }).fh;
    fh.write = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const err = await errorOf(writer.write('a', new Float32Array(4)));
    assert.equal(err.problem, 'io');
    assert.equal(err.tensor, 'a');
    assert.match(err.message, /write failed at byte \d+ \(tensor 'a'\): ENOSPC: no space left on device, write \(nothing was saved under this name/);
    assert.deepEqual(readdirSync(sub), []);
    await assert.rejects(writer.close(), /the writer is aborted/);
  });
});
