// `taxonomy-studio inspect`: GGUF and safetensors headers printed as text and JSON through runCli, long values
// shortened, and damaged or foreign files reported with the file name as typed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { GgufType, meta } from '../../../engine/gguf/format';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { float32Text, formatBytes, summarizeValue } from '../../../engine/gguf/inspect';
import { openGguf } from '../../../engine/gguf/reader';
import { writeGguf } from '../../../engine/gguf/writer';
import { bytes, tempFolder } from './formatFixtures';

const tmp = tempFolder('gguf-inspect-');
after(() => tmp.remove());

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: tmp.dir, env: {} });
  return { code, stdout, stderr };
}

const vocab = Array.from({ length: 32000 }, (_, i) => (i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : `tok${i}`));

before(async () => {
  await writeGguf(join(tmp.dir, 'model.gguf'), {
    metadata: [
      ['general.architecture', meta.string('llama')],
      ['llama.block_count', meta.u32(2)],
      ['llama.attention.layer_norm_rms_epsilon', meta.f32(1e-5)],
      ['general.size', meta.u64(2n ** 60n)],
      ['tokenizer.ggml.tokens', meta.strings(vocab)],
      ['tokenizer.ggml.add_bos_token', meta.bool(true)],
      ['tokenizer.chat_template', meta.string(`{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\n' }}{% endfor %}`)],
    ],
    tensors: [
      { name: 'token_embd.weight', dims: [64, 8], type: GgmlType.F16, data: bytes(64 * 8 * 2, 1) },
      { name: 'blk.0.attn_q.weight', dims: [64, 64], type: GgmlType.Q8_0, data: bytes(64 * 2 * 34, 2) },
      { name: 'blk.1.attn_q.weight', dims: [64, 64], type: GgmlType.Q8_0, data: bytes(64 * 2 * 34, 3) },
      { name: 'output_norm.weight', dims: [64], type: GgmlType.F32, data: bytes(256, 4) },
    ],
  });
});

describe('inspect a GGUF file', () => {
  test('metadata with long values shortened, and totals by type', async () => {
    const r = await cli('inspect', 'model.gguf');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const size = readFileSync(join(tmp.dir, 'model.gguf')).length;
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `model.gguf: GGUF v3, ${formatBytes(size)}, 7 metadata keys, 4 tensors`);
    assert.match(lines[1], /^alignment 32, tensor data at offset \d+; shapes in GGUF order \(ne\[0\], the row length, first\)$/);
    assert.deepEqual(lines.slice(2), [
      '',
      'Metadata:',
      '  general.architecture                    string         "llama"',
      '  llama.block_count                       u32            2',
      '  llama.attention.layer_norm_rms_epsilon  f32            0.00001',
      '  general.size                            u64            1152921504606846976',
      '  tokenizer.ggml.tokens                   array[string]  [32000 strings] "<unk>", "<s>", "</s>", "tok3", "tok4", "tok5", "tok6", …',
      '  tokenizer.ggml.add_bos_token            bool           true',
      `  tokenizer.chat_template                 string         "{% for message in messages %}{{ message['role'] + ': ' + m…" (96 chars)`,
      '',
      'Tensors by type:',
      '  Q8_0   2 tensors  8,192 values  8,704 bytes  (8.50 KiB)',
      '  F16    1 tensor     512 values  1,024 bytes  (1.00 KiB)',
      '  F32    1 tensor      64 values    256 bytes  (256 B)',
      '  total  4 tensors  8,768 values  9,984 bytes  (9.75 KiB)',
      '',
    ]);
  });

  test('--tensors adds a row per tensor in data order', async () => {
    const r = await cli('inspect', 'model.gguf', '--tensors');
    assert.equal(r.code, 0);
    const dataOffset = Number(/tensor data at offset (\d+)/.exec(r.stdout)![1]);
    const table = r.stdout.slice(r.stdout.indexOf('Tensors:\n')).split('\n');
    const o = (n: number) => String(dataOffset + n);
    assert.deepEqual(table, [
      'Tensors:',
      '  name                 type  shape     bytes  offset',
      `  token_embd.weight    F16   [64, 8]    1024  ${o(0).padStart(6)}`,
      `  blk.0.attn_q.weight  Q8_0  [64, 64]   4352  ${o(1024).padStart(6)}`,
      `  blk.1.attn_q.weight  Q8_0  [64, 64]   4352  ${o(1024 + 4352 + 0).padStart(6)}`,
      `  output_norm.weight   F32   [64]        256  ${o(1024 + 4352 + 4352).padStart(6)}`,
      '',
    ]);
  });

  test('--json: typed entries, exact 64-bit values, long arrays cut with their length', async () => {
    const r = await cli('inspect', 'model.gguf', '--json', '--tensors');
    assert.equal(r.code, 0);
    const json = JSON.parse(r.stdout);
    assert.equal(json.format, 'gguf');
    assert.equal(json.version, 3);
    assert.equal(json.alignment, 32);
    assert.equal(json.tensorCount, 4);
    const byKey = new Map(json.metadata.map((m: { key: string }) => [m.key, m]));
    assert.deepEqual(byKey.get('general.size'), { key: 'general.size', type: 'u64', value: '1152921504606846976' });
    assert.deepEqual(byKey.get('llama.attention.layer_norm_rms_epsilon'), { key: 'llama.attention.layer_norm_rms_epsilon', type: 'f32', value: 0.00001 });
    const tokens = byKey.get('tokenizer.ggml.tokens') as { value: string[]; length: number; truncated: boolean };
    assert.deepEqual(tokens.value, vocab.slice(0, 64));
    assert.equal(tokens.length, 32000);
    assert.equal(tokens.truncated, true);
    assert.deepEqual(json.totals, [
      { type: 'Q8_0', tensors: 2, elements: 8192, bytes: 8704 },
      { type: 'F16', tensors: 1, elements: 512, bytes: 1024 },
      { type: 'F32', tensors: 1, elements: 64, bytes: 256 },
    ]);
    assert.deepEqual(
      json.tensors.map((t: { name: string; type: string; shape: number[]; bytes: number; offset: number }) => [t.name, t.type, t.shape, t.bytes, t.offset - json.dataOffset]),
      [
        ['token_embd.weight', 'F16', [64, 8], 1024, 0],
        ['blk.0.attn_q.weight', 'Q8_0', [64, 64], 4352, 1024],
        ['blk.1.attn_q.weight', 'Q8_0', [64, 64], 4352, 5376],
        ['output_norm.weight', 'F32', [64], 256, 9728],
      ],
    );
    const plain = await cli('inspect', 'model.gguf', '--json');
    assert.equal(JSON.parse(plain.stdout).tensors, undefined, 'tensors only with --tensors');
  });

  test('strings with commas and quotes survive the compact JSON layout', async () => {
    await writeGguf(join(tmp.dir, 'commas.gguf'), { metadata: [['x.list', meta.strings(['a,b', '"q",r', '[1,2]'])]], tensors: [] });
    const r = await cli('inspect', 'commas.gguf', '--json');
    assert.deepEqual(JSON.parse(r.stdout).metadata[0].value, ['a,b', '"q",r', '[1,2]']);
  });

  test('a truncated file: exit 1, the message names the file as typed, the tensor and the offset', async () => {
    const whole = readFileSync(join(tmp.dir, 'model.gguf'));
    const file = await openGguf(join(tmp.dir, 'model.gguf'));
    await file.close();
    const start = file.dataOffset + file.tensor('output_norm.weight')!.offset;
    writeFileSync(join(tmp.dir, 'cut.gguf'), whole.subarray(0, start + 100));
    const r = await cli('inspect', 'cut.gguf');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `taxonomy-studio inspect: cut.gguf: tensor 'output_norm.weight' data runs past the end of the file (offset ${start}, needs 256 bytes, file has ${start + 100}): the file is truncated; re-download or re-convert it\n`,
    );
  });
});

describe('inspect a safetensors file', () => {
  test('dtypes, row-major shapes and __metadata__', async () => {
    const header = {
      __metadata__: { format: 'pt' },
      'model.embed_tokens.weight': { dtype: 'BF16', shape: [8, 4], data_offsets: [0, 64] },
      'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [64, 80] },
    };
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(tmp.dir, 'model.safetensors'), Buffer.concat([length, Buffer.from(json), bytes(80, 9)]));

    const r = await cli('inspect', 'model.safetensors', '--tensors');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const start = 8 + json.length;
    assert.equal(
      r.stdout,
      [
        `model.safetensors: safetensors, ${formatBytes(start + 80)}, 1 metadata key, 2 tensors`,
        `tensor data at offset ${start}; shapes row-major (as PyTorch gives them)`,
        '',
        'Metadata:',
        '  format  string  "pt"',
        '',
        'Tensors by type:',
        '  BF16   1 tensor   32 values  64 bytes  (64 B)',
        '  F32    1 tensor    4 values  16 bytes  (16 B)',
        '  total  2 tensors  36 values  80 bytes  (80 B)',
        '',
        'Tensors:',
        '  name                       type  shape   bytes  offset',
        `  model.embed_tokens.weight  BF16  [8, 4]     64  ${String(start).padStart(6)}`,
        `  model.norm.weight          F32   [4]        16  ${String(start + 64).padStart(6)}`,
        '',
      ].join('\n'),
    );
  });

  test('a truncated safetensors file is reported by the safetensors reader', async () => {
    const whole = readFileSync(join(tmp.dir, 'model.safetensors'));
    writeFileSync(join(tmp.dir, 'cut.safetensors'), whole.subarray(0, whole.length - 10));
    const r = await cli('inspect', 'cut.safetensors');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^taxonomy-studio inspect: cut\.safetensors: tensor 'model\.norm\.weight' .*truncated/);
  });
});

describe('inspect other files', () => {
  test('a file that is neither', async () => {
    writeFileSync(join(tmp.dir, 'notes.txt'), 'hello world\n');
    const r = await cli('inspect', 'notes.txt');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'taxonomy-studio inspect: notes.txt: not a GGUF or safetensors file (it starts with bytes 68 65 6c 6c 6f 20 77 6f): inspect reads .gguf files and .safetensors files\n',
    );
  });

  test('a .gguf file with the wrong magic gets the GGUF reader\'s message', async () => {
    writeFileSync(join(tmp.dir, 'fake.gguf'), 'GGML and more');
    const r = await cli('inspect', 'fake.gguf');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'taxonomy-studio inspect: fake.gguf: not a GGUF file: it starts with bytes 47 47 4d 4c ("GGML"), not "GGUF"\n');
  });

  test('no such file, a folder, no file at all: usage errors', async () => {
    const missing = await cli('inspect', 'missing.gguf');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^taxonomy-studio inspect: no such file: missing\.gguf\n/);
    const folder = await cli('inspect', '.');
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /^taxonomy-studio inspect: \. is a folder; give a \.gguf or \.safetensors file\n/);
    const none = await cli('inspect');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^taxonomy-studio inspect: inspect needs a file\n/);
  });

  test('listed in the command list', async () => {
    const r = await cli('help');
    assert.match(r.stdout, /\n {2}inspect +Show the metadata and tensors of a GGUF or safetensors file\n/);
  });
});

describe('shortened values', () => {
  test('arrays show their length and as many items as fit', () => {
    assert.equal(summarizeValue(meta.strings(vocab), 40), '[32000 strings] "<unk>", "<s>", "</s>", …');
    assert.equal(summarizeValue(meta.i32s([1, 2, 3])), '[3 i32] 1, 2, 3');
    assert.equal(summarizeValue(meta.strings([])), '[0 strings]');
    assert.equal(summarizeValue(meta.strings(['x'])), '[1 string] "x"');
    assert.equal(summarizeValue(meta.f32s([0.1, 1e-5].map(Math.fround))), '[2 f32] 0.1, 0.00001');
    assert.equal(
      summarizeValue(meta.array({ itemType: GgufType.ARRAY, items: [{ itemType: GgufType.UINT8, items: [1] }, { itemType: GgufType.BOOL, items: [true, false] }] })),
      '[2 arrays] ([1 u8] 1), ([2 bools] true, false)',
    );
  });

  test('long strings are cut on a character boundary, with their length', () => {
    assert.equal(summarizeValue(meta.string('😀'.repeat(100)), 30), `"${'😀'.repeat(15)}…" (100 chars)`);
    assert.equal(summarizeValue(meta.string('line\nbreak')), '"line\\nbreak"');
  });

  test('floats at float32 precision', () => {
    assert.equal(float32Text(Math.fround(0.1)), '0.1');
    assert.equal(float32Text(Math.fround(1e-6)), '0.000001');
    assert.equal(float32Text(Math.fround(10000)), '10000');
    assert.equal(float32Text(Math.fround(1 / 3)), '0.33333334');
    assert.equal(float32Text(-Infinity), '-Infinity');
  });
});
