// GGUF reader: tensor data read back whole, in chunks and streamed in data order; a custom alignment honoured; and
// every kind of damage (truncation at many points, wrong magic, old versions, bad offsets and values) reported as a
// GgufError naming the file, the byte offset and the tensor or key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { GgufError, type ModelFileProblem } from '../../../engine/gguf/errors';
import { alignUp, GgufType, meta, type GgufValue } from '../../../engine/gguf/format';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { iterateTensors, openGguf, readTensor, readTensorChunks, tensorsInDataOrder } from '../../../engine/gguf/reader';
import { writeGguf } from '../../../engine/gguf/writer';
import { bytes, infoLayout, sampleTensors, tempFolder } from './formatFixtures';

const tmp = tempFolder('gguf-reader-');
after(() => tmp.remove());

const tokens = ['<unk>', '<s>', '</s>', 'Ġthe', 'ü', '😀'];
const baseMetadata: [string, GgufValue][] = [
  ['general.architecture', meta.string('llama')],
  ['tokenizer.ggml.tokens', meta.strings(tokens)],
  ['llama.block_count', meta.u32(1)],
];
const tensors = sampleTensors();
let basePath: string;
let base: Buffer;
let layout: { metadataOffset: number; tensorInfoOffset: number; dataOffset: number; infos: ReturnType<typeof infoLayout>; offsets: number[] };

before(async () => {
  basePath = join(tmp.dir, 'base.gguf');
  await writeGguf(basePath, { metadata: baseMetadata, tensors });
  base = readFileSync(basePath);
  const file = await openGguf(basePath);
  layout = {
    metadataOffset: file.metadataOffset,
    tensorInfoOffset: file.tensorInfoOffset,
    dataOffset: file.dataOffset,
    infos: infoLayout(file),
    offsets: file.tensors.map((t) => t.offset),
  };
  await file.close();
});

let count = 0;
/** Writes `content` to a new file and returns its path. */
function variant(content: Buffer): string {
  const path = join(tmp.dir, `variant-${++count}.gguf`);
  writeFileSync(path, content);
  return path;
}

function patched(edit: (b: Buffer) => void): string {
  const copy = Buffer.from(base);
  edit(copy);
  return variant(copy);
}

interface Expected {
  message: string;
  offset: number;
  problem: ModelFileProblem;
  tensor?: string;
  key?: string;
}

async function assertGgufError(path: string, expected: Expected): Promise<void> {
  await assert.rejects(openGguf(path), (err: unknown) => {
    assert.ok(err instanceof GgufError, `expected a GgufError, got ${String(err)}`);
    assert.equal(err.message, `${path}: ${expected.message}`);
    assert.equal(err.file, path);
    assert.equal(err.offset, expected.offset, 'offset');
    assert.equal(err.problem, expected.problem, 'problem');
    assert.equal(err.tensor, expected.tensor, 'tensor');
    if (expected.key !== undefined) assert.equal(err.key, expected.key, 'key');
    return true;
  });
}

const TRUNCATED = 'the file is truncated; re-download or re-convert it';
const CORRUPT = 'the file is damaged or was written by a broken converter; re-download or re-convert it';
const RECONVERT = 're-convert the model with a current llama.cpp convert script or `taxonomy-studio convert`';

describe('reading', () => {
  test('header, metadata and tensor infos as written', async () => {
    const file = await openGguf(basePath);
    try {
      assert.equal(file.size, base.length);
      assert.equal(file.alignment, 32);
      assert.equal(file.metadataOffset, 24);
      assert.equal(file.dataOffset % 32, 0);
      assert.deepEqual(file.metadata.get('tokenizer.ggml.tokens'), meta.strings(tokens));
      assert.deepEqual(
        file.tensors.map((t) => [t.name, t.dims, t.type, t.byteLength, t.elements]),
        [
          ['token_embd.weight', [8, 5], GgmlType.F32, 160, 40],
          ['blk.0.attn_norm.weight', [8], GgmlType.F16, 16, 8],
          ['blk.0.attn_q.weight', [64, 3], GgmlType.Q8_0, 204, 192],
          ['blk.0.ffn_up.weight', [256, 2, 1], GgmlType.Q4_K, 288, 512],
          ['output.weight', [3], GgmlType.BF16, 6, 3],
        ],
      );
      assert.deepEqual(
        file.tensors.map((t) => t.offset),
        [0, 160, 192, 416, 704],
        'each tensor starts at the next multiple of 32',
      );
      assert.equal(file.tensor('blk.0.attn_q.weight')?.byteLength, 204);
      assert.equal(file.tensor('missing'), undefined);
    } finally {
      await file.close();
      await file.close(); // twice is fine
    }
  });

  test('tensor data round trip: whole, in chunks, and streamed', async () => {
    const file = await openGguf(basePath);
    try {
      for (const t of tensors) assert.deepEqual(await readTensor(file, file.tensor(t.name)!), t.data, t.name);
      const q = file.tensor('blk.0.attn_q.weight')!;
      const pieces: Buffer[] = [];
      for await (const piece of readTensorChunks(file, q, 7)) pieces.push(piece);
      assert.deepEqual(
        pieces.map((p) => p.length),
        [...Array(29).fill(7), 1],
      );
      assert.deepEqual(Buffer.concat(pieces), tensors[2].data);
      const streamed: string[] = [];
      for await (const { info, data } of iterateTensors(file)) {
        streamed.push(info.name);
        assert.deepEqual(data, tensors.find((t) => t.name === info.name)!.data, info.name);
      }
      assert.deepEqual(streamed, tensors.map((t) => t.name));
    } finally {
      await file.close();
    }
  });

  test('streaming follows the data, not the order of the infos', async () => {
    const a = bytes(32, 10);
    const b = bytes(32, 11);
    const path = join(tmp.dir, 'swapped.gguf');
    await writeGguf(path, {
      metadata: [],
      tensors: [
        { name: 'a', dims: [8], type: GgmlType.F32, data: a },
        { name: 'b', dims: [8], type: GgmlType.F32, data: b },
      ],
    });
    let file = await openGguf(path);
    const [la, lb] = infoLayout(file);
    await file.close();
    const content = readFileSync(path);
    content.writeBigUInt64LE(32n, la.offsetAt);
    content.writeBigUInt64LE(0n, lb.offsetAt);
    writeFileSync(path, content);
    file = await openGguf(path);
    try {
      assert.deepEqual(
        tensorsInDataOrder(file).map((t) => t.name),
        ['b', 'a'],
      );
      const seen: [string, Buffer][] = [];
      for await (const { info, data } of iterateTensors(file)) seen.push([info.name, data]);
      assert.deepEqual(seen, [
        ['b', a],
        ['a', b],
      ]);
    } finally {
      await file.close();
    }
  });

  test('general.alignment = 64 is honoured on read', async () => {
    // Pad the metadata until the tensor infos end where 32- and 64-byte alignment differ, so reading with the default
    // alignment would put the data section 32 bytes off.
    for (let filler = 0; filler < 64; filler++) {
      const path = join(tmp.dir, `align64-${filler}.gguf`);
      await writeGguf(path, { metadata: [['test.filler', meta.string('x'.repeat(filler))]], tensors }, { alignment: 64 });
      const file = await openGguf(path);
      try {
        const infosEnd = infoLayout(file).at(-1)!.end;
        if (alignUp(infosEnd, 32) === alignUp(infosEnd, 64)) continue;
        assert.deepEqual(file.metadata.get('general.alignment'), meta.u32(64));
        assert.equal(file.alignment, 64);
        assert.equal(file.dataOffset, alignUp(infosEnd, 64));
        assert.deepEqual(
          file.tensors.map((t) => t.offset),
          [0, 192, 256, 512, 832],
        );
        for (const t of tensors) assert.deepEqual(await readTensor(file, file.tensor(t.name)!), t.data, t.name);
        const theirs = await gguf(path, { allowLocalFile: true });
        assert.equal(theirs.tensorDataOffset, BigInt(file.dataOffset));
        return;
      } finally {
        await file.close();
      }
    }
    assert.fail('no filler length made 32- and 64-byte alignment differ');
  });

  test('a file that shrinks after opening fails the tensor read with its name and offset', async () => {
    const path = variant(base);
    const file = await openGguf(path);
    try {
      const last = file.tensor('output.weight')!;
      const start = file.dataOffset + last.offset;
      truncateSync(path, start + 2);
      await assert.rejects(readTensor(file, last), {
        name: 'GgufError',
        message: `${path}: tensor 'output.weight' data ends early (offset ${start + 2}, 4 bytes still to read): the file got shorter after it was opened: make sure nothing else is writing it, then retry`,
      });
    } finally {
      await file.close();
    }
  });

  test('reading after close says to open the file again', async () => {
    const file = await openGguf(basePath);
    await file.close();
    await assert.rejects(readTensor(file, file.tensors[0]), { message: `${basePath}: the GGUF file was closed; open it again to read tensors` });
  });
});

describe('truncated files', () => {
  test('inside the magic', async () => {
    const path = variant(base.subarray(0, 2));
    await assertGgufError(path, {
      message: `the file ends inside the magic (offset 0, needs 4 bytes, file has 2): ${TRUNCATED}`,
      offset: 0,
      problem: 'truncated',
    });
  });

  test('empty', async () => {
    const path = variant(Buffer.alloc(0));
    await assertGgufError(path, { message: 'the file is empty (0 bytes): re-download or re-convert it', offset: 0, problem: 'truncated' });
  });

  test('inside the version', async () => {
    const path = variant(base.subarray(0, 6));
    await assertGgufError(path, {
      message: `the version runs past the end of the file (offset 4, needs 4 bytes, file has 6): ${TRUNCATED}`,
      offset: 4,
      problem: 'truncated',
    });
  });

  test('inside the counts', async () => {
    const path = variant(base.subarray(0, 20));
    await assertGgufError(path, {
      message: `the header runs past the end of the file (offset 8, needs 16 bytes, file has 20): ${TRUNCATED}`,
      offset: 8,
      problem: 'truncated',
    });
  });

  test('before the metadata and tensor infos the counts promise', async () => {
    const path = variant(base.subarray(0, 60));
    await assertGgufError(path, {
      message: `the header declares 3 metadata pairs and 5 tensors, which need at least 159 bytes, but only 36 follow: ${TRUNCATED}`,
      offset: 24,
      problem: 'truncated',
    });
  });

  test('inside a metadata key', async () => {
    const path = join(tmp.dir, 'one-key.gguf');
    await writeGguf(path, { metadata: [['general.architecture', meta.string('llama')]], tensors: [] });
    const cut = variant(readFileSync(path).subarray(0, 24 + 8 + 5));
    await assertGgufError(cut, {
      message: `metadata pair 1 of 1: its key is a string of 20 bytes that runs past the end of the file (offset 24, file has 37): ${TRUNCATED}`,
      offset: 24,
      problem: 'truncated',
    });
  });

  test('inside a string of a metadata array', async () => {
    const key = 'tokenizer.ggml.tokens';
    const path = join(tmp.dir, 'tokens.gguf');
    await writeGguf(path, { metadata: [[key, meta.strings(tokens)]], tensors: [] });
    const itemsAt = 24 + 8 + key.length + 4 + 4 + 8; // key, value type, item type, count
    const item5At = itemsAt + tokens.slice(0, 5).reduce((n, t) => n + 8 + Buffer.byteLength(t), 0);
    const cut = variant(readFileSync(path).subarray(0, item5At + 8 + 2));
    await assertGgufError(cut, {
      message: `metadata key '${key}': item 5 of its array is a string of 4 bytes that runs past the end of the file (offset ${item5At}, file has ${item5At + 10}): ${TRUNCATED}`,
      offset: item5At,
      problem: 'truncated',
      key,
    });
  });

  test('inside a tensor name', async () => {
    const info = layout.infos[2];
    const path = variant(base.subarray(0, info.start + 8 + 4));
    await assertGgufError(path, {
      message: `tensor info 3 of 5: its name is a string of 19 bytes that runs past the end of the file (offset ${info.start}, file has ${info.start + 12}): ${TRUNCATED}`,
      offset: info.start,
      problem: 'truncated',
    });
  });

  test('inside a tensor info, after its name', async () => {
    const info = layout.infos[1];
    const path = variant(base.subarray(0, info.dimsAt + 3));
    await assertGgufError(path, {
      message: `tensor 'blk.0.attn_norm.weight' info runs past the end of the file (offset ${info.dimsAt}, needs 20 bytes, file has ${info.dimsAt + 3}): ${TRUNCATED}`,
      offset: info.dimsAt,
      problem: 'truncated',
      tensor: 'blk.0.attn_norm.weight',
    });
  });

  test('before the data section: the first tensor is missing', async () => {
    const path = variant(base.subarray(0, layout.dataOffset));
    await assertGgufError(path, {
      message: `tensor 'token_embd.weight' data runs past the end of the file (offset ${layout.dataOffset}, needs 160 bytes, file has ${layout.dataOffset}): ${TRUNCATED}`,
      offset: layout.dataOffset,
      problem: 'truncated',
      tensor: 'token_embd.weight',
    });
  });

  test('inside the data of a middle tensor', async () => {
    const start = layout.dataOffset + layout.offsets[3];
    const path = variant(base.subarray(0, start + 100));
    await assertGgufError(path, {
      message: `tensor 'blk.0.ffn_up.weight' data runs past the end of the file (offset ${start}, needs 288 bytes, file has ${start + 100}): ${TRUNCATED}`,
      offset: start,
      problem: 'truncated',
      tensor: 'blk.0.ffn_up.weight',
    });
  });

  test('inside the data of the last tensor', async () => {
    const start = layout.dataOffset + layout.offsets[4];
    const path = variant(base.subarray(0, start + 5));
    await assertGgufError(path, {
      message: `tensor 'output.weight' data runs past the end of the file (offset ${start}, needs 6 bytes, file has ${start + 5}): ${TRUNCATED}`,
      offset: start,
      problem: 'truncated',
      tensor: 'output.weight',
    });
  });

  test('without the final padding the file is still whole', async () => {
    const end = layout.dataOffset + layout.offsets[4] + 6;
    const file = await openGguf(variant(base.subarray(0, end)));
    assert.deepEqual(await readTensor(file, file.tensor('output.weight')!), tensors[4].data);
    await file.close();
  });
});

describe('not GGUF, or a GGUF this reader does not read', () => {
  test('wrong magic', async () => {
    const path = patched((b) => b.write('GGML', 0, 'latin1'));
    await assertGgufError(path, { message: 'not a GGUF file: it starts with bytes 47 47 4d 4c ("GGML"), not "GGUF"', offset: 0, problem: 'not-model-file' });
  });

  test('binary that is not GGUF at all', async () => {
    const path = variant(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await assertGgufError(path, { message: 'not a GGUF file: it starts with bytes 89 50 4e 47 (".PNG"), not "GGUF"', offset: 0, problem: 'not-model-file' });
  });

  for (const version of [1, 2]) {
    test(`version ${version} header`, async () => {
      const path = patched((b) => b.writeUInt32LE(version, 4));
      await assertGgufError(path, {
        message: `GGUF version ${version} is not supported; this reader reads version 3, which llama.cpp has written since late 2023: ${RECONVERT}`,
        offset: 4,
        problem: 'unsupported',
      });
    });
  }

  test('a newer version', async () => {
    const path = patched((b) => b.writeUInt32LE(4, 4));
    await assertGgufError(path, {
      message: 'GGUF version 4 is not supported; this reader reads version 3: update Taxonomy Studio, or convert the model again with a version 3 writer',
      offset: 4,
      problem: 'unsupported',
    });
  });

  test('big-endian', async () => {
    const path = patched((b) => b.writeUInt32BE(3, 4));
    await assertGgufError(path, {
      message: `the file is a big-endian GGUF (version 3); only little-endian GGUF is read: ${RECONVERT}`,
      offset: 4,
      problem: 'unsupported',
    });
  });
});

describe('damaged tensor infos', () => {
  test('a data offset that is not a multiple of the alignment', async () => {
    const info = layout.infos[4];
    const offset = layout.offsets[4] + 16;
    const path = patched((b) => b.writeBigUInt64LE(BigInt(offset), info.offsetAt));
    await assertGgufError(path, {
      message: `tensor 'output.weight' data offset ${offset} (file offset ${layout.dataOffset + offset}) is not a multiple of the alignment 32: ${CORRUPT}`,
      offset: layout.dataOffset + offset,
      problem: 'corrupt',
      tensor: 'output.weight',
    });
  });

  test('a data offset past the end of the file', async () => {
    const path = patched((b) => b.writeBigUInt64LE(1n << 20n, layout.infos[0].offsetAt));
    const start = layout.dataOffset + (1 << 20);
    await assertGgufError(path, {
      message: `tensor 'token_embd.weight' data runs past the end of the file (offset ${start}, needs 160 bytes, file has ${base.length}): ${TRUNCATED}`,
      offset: start,
      problem: 'truncated',
      tensor: 'token_embd.weight',
    });
  });

  test('tensors sharing bytes', async () => {
    const path = patched((b) => b.writeBigUInt64LE(32n, layout.infos[2].offsetAt));
    const d = layout.dataOffset;
    await assertGgufError(path, {
      message: `tensor 'blk.0.attn_q.weight' data (offset ${d + 32}, 204 bytes) overlaps tensor 'token_embd.weight' (offset ${d}, 160 bytes): ${CORRUPT}`,
      offset: d + 32,
      problem: 'corrupt',
      tensor: 'blk.0.attn_q.weight',
    });
  });

  test('an unknown ggml type', async () => {
    const info = layout.infos[0];
    const path = patched((b) => b.writeUInt32LE(99, info.typeAt));
    await assertGgufError(path, {
      message:
        "tensor 'token_embd.weight' has ggml type 99, which this reader does not know: the file may use a newer quantization type; update Taxonomy Studio or re-convert it to a common type (F16, Q8_0, Q4_K)",
      offset: info.typeAt,
      problem: 'unsupported',
      tensor: 'token_embd.weight',
    });
  });

  test('more than four dimensions', async () => {
    const info = layout.infos[0];
    const path = patched((b) => b.writeUInt32LE(5, info.nDimsAt));
    await assertGgufError(path, {
      message: `tensor 'token_embd.weight' has 5 dimensions; ggml tensors have at most 4: ${CORRUPT}`,
      offset: info.nDimsAt,
      problem: 'corrupt',
      tensor: 'token_embd.weight',
    });
  });

  test('rows that are not whole quantization blocks', async () => {
    const info = layout.infos[2];
    const path = patched((b) => b.writeBigUInt64LE(48n, info.dimsAt));
    await assertGgufError(path, {
      message: `tensor 'blk.0.attn_q.weight' is Q8_0, which stores rows in blocks of 32 values, but its rows have 48 values: ${CORRUPT}`,
      offset: info.typeAt,
      problem: 'corrupt',
      tensor: 'blk.0.attn_q.weight',
    });
  });

  test('two tensors with one name', async () => {
    const path = join(tmp.dir, 'dup-tensor.gguf');
    await writeGguf(path, {
      metadata: [],
      tensors: [
        { name: 'a', dims: [8], type: GgmlType.F32, data: bytes(32, 1) },
        { name: 'b', dims: [8], type: GgmlType.F32, data: bytes(32, 2) },
      ],
    });
    const content = readFileSync(path);
    const second = 24 + (8 + 1 + 4 + 8 + 4 + 8);
    content.write('a', second + 8, 'latin1');
    await assertGgufError(variant(content), { message: `tensor 'a' appears twice: ${CORRUPT}`, offset: second, problem: 'corrupt', tensor: 'a' });
  });
});

describe('damaged metadata', () => {
  const archValueAt = () => 24 + 8 + 'general.architecture'.length + 4;

  test('a value type GGUF does not define', async () => {
    const path = patched((b) => b.writeUInt32LE(13, archValueAt() - 4));
    await assertGgufError(path, {
      message: `metadata key 'general.architecture' has value type 13, which GGUF does not define: ${CORRUPT}`,
      offset: archValueAt() - 4,
      problem: 'corrupt',
      key: 'general.architecture',
    });
  });

  test('a string length past the end of the file', async () => {
    const path = patched((b) => b.writeBigUInt64LE(1n << 50n, archValueAt()));
    await assertGgufError(path, {
      message: `metadata key 'general.architecture': its value is a string of 1125899906842624 bytes that runs past the end of the file (offset ${archValueAt()}, file has ${base.length}): ${TRUNCATED}`,
      offset: archValueAt(),
      problem: 'truncated',
      key: 'general.architecture',
    });
  });

  test('a length no file can have', async () => {
    const path = patched((b) => b.writeBigUInt64LE(1n << 63n, archValueAt()));
    await assertGgufError(path, {
      message: `metadata key 'general.architecture': the length of its value is 9223372036854775808, larger than any real file allows: ${CORRUPT}`,
      offset: archValueAt(),
      problem: 'corrupt',
      key: 'general.architecture',
    });
  });

  test('an array longer than the file', async () => {
    const key = 'tokenizer.ggml.tokens';
    const countAt = base.indexOf(Buffer.from(key)) + key.length + 4 + 4;
    const path = patched((b) => b.writeBigUInt64LE(1n << 40n, countAt));
    const left = base.length - countAt - 8;
    await assertGgufError(path, {
      message: `metadata key '${key}' declares an array of 1099511627776 string items, which needs at least 8796093022208 bytes, but the file has ${left} left (offset ${countAt + 8}): ${TRUNCATED}`,
      offset: countAt + 8,
      problem: 'truncated',
      key,
    });
  });

  test('a tensor count the file cannot hold', async () => {
    const path = patched((b) => b.writeBigUInt64LE(1n << 40n, 8));
    await assertGgufError(path, {
      message: `the header declares 3 metadata pairs and 1099511627776 tensors, which need at least ${3 * 13 + 2 ** 40 * 24} bytes, but only ${base.length - 24} follow: ${TRUNCATED}`,
      offset: 24,
      problem: 'truncated',
    });
  });

  test('a key that appears twice', async () => {
    const path = join(tmp.dir, 'dup-key.gguf');
    await writeGguf(path, { metadata: [['a.x', meta.u8(1)], ['a.y', meta.u8(2)]], tensors: [] });
    const content = readFileSync(path);
    const second = 24 + 8 + 3 + 4 + 1;
    content.write('x', second + 8 + 2, 'latin1');
    await assertGgufError(variant(content), { message: `metadata key 'a.x' appears twice: ${CORRUPT}`, offset: second, problem: 'corrupt', key: 'a.x' });
  });

  test('a bool stored as 2', async () => {
    const path = join(tmp.dir, 'bool.gguf');
    await writeGguf(path, { metadata: [['a.flag', meta.bool(true)]], tensors: [] });
    const content = readFileSync(path);
    const at = 24 + 8 + 6 + 4;
    assert.equal(content[at], 1);
    content[at] = 2;
    await assertGgufError(variant(content), {
      message: `metadata key 'a.flag' has a bool stored as 2; a bool is 0 or 1: ${CORRUPT}`,
      offset: at,
      problem: 'corrupt',
      key: 'a.flag',
    });
  });

  test('general.alignment of the wrong type, or not a power of two', async () => {
    const path = join(tmp.dir, 'align.gguf');
    await writeGguf(path, { metadata: [], tensors: [] }, { alignment: 64 });
    const content = readFileSync(path);
    const typeAt = 24 + 8 + 'general.alignment'.length;
    content.writeUInt32LE(GgufType.INT32, typeAt);
    await assertGgufError(variant(content), {
      message: `metadata key 'general.alignment' has type i32; it must be u32: ${CORRUPT}`,
      offset: typeAt + 4,
      problem: 'corrupt',
      key: 'general.alignment',
    });
    content.writeUInt32LE(GgufType.UINT32, typeAt);
    content.writeUInt32LE(48, typeAt + 4);
    await assertGgufError(variant(content), {
      message: `metadata key 'general.alignment' is 48; the alignment must be a power of two: ${CORRUPT}`,
      offset: typeAt + 4,
      problem: 'corrupt',
      key: 'general.alignment',
    });
  });
});
