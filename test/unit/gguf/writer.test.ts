// GGUF writer: the file appears under its name only when finished; failures (a full disk, misuse) and abort leave
// neither the final file nor the temporary one, and an older file under the final name survives them untouched.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { GgufWriteError } from '../../../engine/gguf/errors';
import { meta } from '../../../engine/gguf/format';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { openGguf, readTensor } from '../../../engine/gguf/reader';
import { GgufWriter, type WritableFile } from '../../../engine/gguf/writer';
import { bytes, sampleTensors, tempFolder } from './formatFixtures';

const tmp = tempFolder('gguf-writer-');
after(() => tmp.remove());

let count = 0;
/** An empty folder for one test. */
function folder(): string {
  const dir = join(tmp.dir, `case-${++count}`);
  mkdirSync(dir);
  return dir;
}

/**
 * A real file handle that fails the way a full disk does: writes succeed until `capacity` bytes are in, then the
 * write that would pass it stores what fits and the next throws ENOSPC. Or fail on sync instead.
 */
class DiskFullFile implements WritableFile {
  written = 0;
  constructor(
    private readonly inner: WritableFile,
    private readonly capacity: number,
    private readonly failSync = false,
  ) {}

  static opener(capacity: number, failSync = false): (path: string) => Promise<WritableFile> {
    return async (path) => new DiskFullFile(await open(path, 'w'), capacity, failSync);
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    const room = this.capacity - this.written;
    if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
    const n = Math.min(length, room);
    const r = await this.inner.write(buffer, offset, n, position);
    this.written += r.bytesWritten;
    return r;
  }

  async sync(): Promise<void> {
    if (this.failSync) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    await this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function declareSample(w: GgufWriter): Promise<void> {
  w.setString('general.architecture', 'llama').setU32('llama.block_count', 1).setF32('llama.rope.freq_base', 10000);
  w.setBool('tokenizer.ggml.add_bos_token', true).setU64('general.parameter_count', 12345678901n);
  w.setStringArray('tokenizer.ggml.tokens', ['<s>', '</s>']).setI32Array('tokenizer.ggml.token_type', [3, 3]).setF32Array('tokenizer.ggml.scores', [0, -1]);
  for (const t of sampleTensors()) w.addTensor(t.name, t.dims, t.type);
}

describe('finish', () => {
  test('the file appears under its name only when finished, and reads back', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    assert.equal(w.tempPath, join(dir, `model.gguf.partial-${process.pid}`));
    await declareSample(w);
    await w.writeHeader();
    assert.deepEqual(readdirSync(dir), [`model.gguf.partial-${process.pid}`]);
    const tensors = sampleTensors();
    for (const t of tensors.slice(0, 3)) await w.writeTensor(t.name, t.data);
    // A tensor may arrive in pieces.
    await w.writeTensorChunks(tensors[3].name, [tensors[3].data.subarray(0, 100), tensors[3].data.subarray(100)]);
    await w.writeTensor(tensors[4].name, tensors[4].data);
    assert.equal(existsSync(path), false);
    const done = await w.finish();
    assert.deepEqual(readdirSync(dir), ['model.gguf']);
    assert.equal(done.size, readFileSync(path).length);

    const file = await openGguf(path);
    try {
      assert.deepEqual(file.metadata.get('general.parameter_count'), meta.u64(12345678901n));
      assert.deepEqual(file.metadata.get('llama.rope.freq_base'), meta.f32(10000));
      assert.deepEqual(file.metadata.get('tokenizer.ggml.token_type'), meta.i32s([3, 3]));
      for (const t of tensors) assert.deepEqual(await readTensor(file, file.tensor(t.name)!), t.data, t.name);
    } finally {
      await file.close();
    }
  });

  test('finishing replaces an older file atomically', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    writeFileSync(path, 'old model');
    const w = await GgufWriter.create(path);
    w.setString('general.name', 'new');
    await w.finish();
    const file = await openGguf(path);
    await file.close();
    assert.deepEqual(file.metadata.get('general.name'), meta.string('new'));
  });

  test('a custom alignment is recorded as general.alignment and used for offsets', async () => {
    const dir = folder();
    const w = await GgufWriter.create(join(dir, 'a.gguf'), { alignment: 128 });
    assert.equal(w.alignment, 128);
    const a = w.addTensor('a', [8], GgmlType.F32);
    const b = w.addTensor('b', [8], GgmlType.F32);
    assert.deepEqual([a.offset, b.offset], [0, 128]);
    await w.writeTensor('a', bytes(32, 1));
    await w.writeTensor('b', bytes(32, 2));
    await w.finish();
    const file = await openGguf(join(dir, 'a.gguf'));
    await file.close();
    assert.deepEqual(file.metadata.get('general.alignment'), meta.u32(128));
    assert.equal(file.dataOffset % 128, 0);
  });
});

describe('failures leave no file behind', () => {
  test('the disk filling up during a tensor', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    writeFileSync(path, 'the model from yesterday');
    const w = await GgufWriter.create(path, { openFile: DiskFullFile.opener(1000) });
    await declareSample(w);
    const tensors = sampleTensors();
    let error: unknown;
    let written = 0;
    try {
      for (const t of tensors) {
        await w.writeTensor(t.name, t.data);
        written++;
      }
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof GgufWriteError, String(error));
    assert.equal(written, 2, 'the header and two tensors fit, the third does not');
    assert.equal(
      error.message,
      `${path}: writing failed (ENOSPC); nothing was written (the disk is full; free disk space on the drive holding ${dir} and run again)`,
    );
    assert.equal(error.code, 'ENOSPC');
    assert.equal(error.file, path);
    assert.deepEqual(readdirSync(dir), ['model.gguf'], 'no temporary file left');
    assert.equal(readFileSync(path, 'utf8'), 'the model from yesterday', 'the older file is untouched');
    await assert.rejects(w.writeTensor(tensors[0].name, tensors[0].data), { message: `${path}: writeTensor('${tensors[0].name}'): an earlier write failed and the file was removed` });
    await w.abort(); // nothing to do, and no error
  });

  test('the disk full while writing the header', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path, { openFile: DiskFullFile.opener(10) });
    await declareSample(w);
    await assert.rejects(w.writeHeader(), { name: 'GgufWriteError', code: 'ENOSPC' });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('fsync failing at finish', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path, { openFile: DiskFullFile.opener(1 << 20, true) });
    w.setString('general.name', 'x');
    await assert.rejects(w.finish(), { name: 'GgufWriteError', message: `${path}: writing failed (EIO); nothing was written`, code: 'EIO' });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('the temporary file cannot be created', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const denied = async (): Promise<WritableFile> => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const w = await GgufWriter.create(path, { openFile: denied });
    await assert.rejects(w.finish(), { message: `${path}: writing failed (EACCES); nothing was written (check that you can write to ${dir})` });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a folder that does not exist fails at create, before any work', async () => {
    const dir = join(folder(), 'missing');
    const path = join(dir, 'model.gguf');
    await assert.rejects(GgufWriter.create(path), {
      name: 'GgufWriteError',
      message: `${path}: cannot write in ${dir} (ENOENT) (the folder ${dir} does not exist; create it first)`,
    });
  });

  test('a path that is a folder', async () => {
    const dir = folder();
    await assert.rejects(GgufWriter.create(dir), { message: `${dir}: is a folder (give the path of the .gguf file to write)` });
  });

  test('abort removes the temporary file and keeps the older file', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    writeFileSync(path, 'keep me');
    const w = await GgufWriter.create(path);
    await declareSample(w);
    const first = sampleTensors()[0];
    await w.writeTensor(first.name, first.data);
    assert.equal(existsSync(w.tempPath), true);
    await w.abort();
    await w.abort();
    assert.deepEqual(readdirSync(dir), ['model.gguf']);
    assert.equal(readFileSync(path, 'utf8'), 'keep me');
    await assert.rejects(w.finish(), { message: `${path}: finish(): the writer was aborted` });
  });
});

describe('the order of steps', () => {
  test('tensors out of order fail and remove the file', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    await declareSample(w);
    const [, second] = sampleTensors();
    await assert.rejects(w.writeTensor(second.name, second.data), {
      name: 'GgufWriteError',
      message: `${path}: expected tensor 'token_embd.weight' next, got 'blk.0.attn_norm.weight' (tensors are written in the order they were added); nothing was written`,
    });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a tensor with the wrong number of bytes', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    w.addTensor('q', [64, 2], GgmlType.Q8_0);
    await assert.rejects(w.writeTensor('q', Buffer.alloc(100)), {
      message: `${path}: tensor 'q' (Q8_0 64 x 2) takes 136 bytes; got 100; nothing was written`,
    });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('too many bytes in chunks stop at the chunk that overflows', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    w.addTensor('t', [4], GgmlType.F32);
    await assert.rejects(w.writeTensorChunks('t', [Buffer.alloc(12), Buffer.alloc(12)]), {
      message: `${path}: tensor 't' (F32 4) takes 16 bytes; got more; nothing was written`,
    });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('finish before every tensor is written', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    await declareSample(w);
    const first = sampleTensors()[0];
    await w.writeTensor(first.name, first.data);
    await assert.rejects(w.finish(), {
      message: `${path}: expected tensor 'blk.0.attn_norm.weight' next, got finish() (1 of 5 tensors written); nothing was written`,
    });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a tensor no one declared', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    w.addTensor('a', [8], GgmlType.F32);
    await w.writeTensor('a', bytes(32, 1));
    await assert.rejects(w.writeTensor('b', bytes(32, 1)), { message: `${path}: all 1 declared tensors are written; got another, 'b'; nothing was written` });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('metadata and tensors cannot be added once the header is written', async () => {
    const dir = folder();
    const path = join(dir, 'model.gguf');
    const w = await GgufWriter.create(path);
    await w.writeHeader();
    assert.throws(() => w.setString('general.name', 'late'), {
      message: `${path}: set('general.name'): the header is already written (set metadata and add tensors before writing)`,
    });
    assert.throws(() => w.addTensor('late', [1], GgmlType.F32), { message: /addTensor\('late'\): the header is already written/ });
    await w.abort();
    assert.deepEqual(readdirSync(dir), []);
  });

  test('two writes at once are refused', async () => {
    const dir = folder();
    const w = await GgufWriter.create(join(dir, 'model.gguf'));
    w.addTensor('a', [8], GgmlType.F32);
    await w.writeHeader();
    const first = w.writeTensor('a', bytes(32, 1));
    await assert.rejects(w.writeTensor('a', bytes(32, 1)), { message: "writeTensor('a') while another write is in progress; await each writer call" });
    await first;
    await w.finish();
  });
});

describe('declaring tensors', () => {
  test('names, dimensions and block sizes ggml can load', async () => {
    const w = await GgufWriter.create(join(folder(), 'model.gguf'));
    assert.throws(() => w.addTensor('x'.repeat(64), [8], GgmlType.F32), { message: `tensor name '${'x'.repeat(64)}' is 64 bytes; ggml takes 1 to 63` });
    assert.throws(() => w.addTensor('t', [1, 1, 1, 1, 1], GgmlType.F32), { message: "tensor 't' has 5 dimensions; ggml tensors have 1 to 4" });
    assert.throws(() => w.addTensor('t', [8, -1], GgmlType.F32), { message: "tensor 't' has dimension -1; dimensions are whole numbers >= 0" });
    assert.throws(() => w.addTensor('t', [8], 4 as GgmlType), { message: "tensor 't': unknown ggml type id 4" });
    assert.throws(() => w.addTensor('t', [100, 256], GgmlType.Q4_K), {
      message: "tensor 't': Q4_K stores rows in blocks of 256 values; a row of 100 values does not fit (pick another type for it)",
    });
    const info = w.addTensor('t', [512, 3], GgmlType.Q6_K);
    assert.deepEqual(info, { name: 't', dims: [512, 3], type: GgmlType.Q6_K, offset: 0, byteLength: 6 * 210, elements: 1536 });
    assert.throws(() => w.addTensor('t', [8], GgmlType.F32), { message: "tensor 't' was already added" });
    assert.throws(() => w.set('general.alignment', meta.u32(64)), { message: "set 'general.alignment' before adding tensors: their offsets depend on it" });
    await w.abort();
  });
});
