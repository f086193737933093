// QuantPool: worker threads give the single-threaded bytes, report bad values at their place in the whole tensor,
// and run both under tsx and from an esbuild bundle with quant-worker.js beside it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { build } from 'esbuild';
import { GgmlType, ggmlTypeName } from '../../../engine/gguf/ggmlTypes';
import { convert, QuantizeError, quantize } from '../../../engine/gguf/quant/index';
import { QuantPool } from '../../../engine/gguf/quant/pool';

const repo = path.resolve(__dirname, '../../..');

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s / 2 ** 32 - 0.5) * 4) ** 3;
  }
  return out;
}

describe('QuantPool', () => {
  // Small chunks so even a test-sized tensor is spread over both workers in several pieces.
  const pool = new QuantPool({ size: 2, chunkValues: 4096, inlineBelow: 0 });
  after(() => pool.close());

  test('gives the single-threaded bytes for every type, in chunks across workers', async () => {
    const x = values(4096 * 9 + 256, 1); // 9 full chunks and a short one
    for (const type of [GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const got = await pool.quantize(type, x);
      assert.ok(Buffer.from(got).equals(Buffer.from(quantize(type, x))), ggmlTypeName(type));
    }
  });

  test('converts from F16 data, several tensors at once', async () => {
    const a = quantize(GgmlType.F16, values(30000 - 48, 2)); // whole Q8_0 blocks, not whole 256-value chunks
    const b = quantize(GgmlType.F16, values(20480, 3));
    const [qa, qb] = await Promise.all([pool.convert(GgmlType.F16, GgmlType.Q8_0, a), pool.convert(GgmlType.F16, GgmlType.Q4_K, b)]);
    assert.ok(Buffer.from(qa).equals(Buffer.from(convert(GgmlType.F16, GgmlType.Q8_0, a))));
    assert.ok(Buffer.from(qb).equals(Buffer.from(convert(GgmlType.F16, GgmlType.Q4_K, b))));
  });

  test('a NaN in a later chunk rejects with its index in the whole tensor; the pool keeps working', async () => {
    const x = values(4096 * 6, 4);
    x[4096 * 4 + 77] = NaN;
    await assert.rejects(pool.quantize(GgmlType.Q4_K, x), (err: unknown) => err instanceof QuantizeError && err.index === 4096 * 4 + 77);
    const y = values(4096 * 3, 5);
    assert.ok(Buffer.from(await pool.quantize(GgmlType.Q6_K, y)).equals(Buffer.from(quantize(GgmlType.Q6_K, y))));
  });

  test('refuses (by rejecting) data that is not whole blocks, a short destination and an unknown type', async () => {
    await assert.rejects(pool.quantize(GgmlType.Q4_K, values(4096 + 32, 6)), /Q4_K stores blocks of 256 values; 4128 values is not a whole number of blocks/);
    await assert.rejects(pool.quantize(GgmlType.Q8_0, values(4096, 6), new Uint8Array(100)), /Q8_0: destination holds 100 bytes, 4352 needed/);
    const pending = pool.convert(GgmlType.F16, GgmlType.IQ2_XXS, new Uint8Array(1024));
    await assert.rejects(pending, /no quantizer for ggml type IQ2_XXS/);
  });

  test('small tensors are converted on the calling thread with the same result', async () => {
    const inline = new QuantPool({ size: 2 });
    const x = values(1024, 7);
    assert.ok(Buffer.from(await inline.quantize(GgmlType.Q4_K, x)).equals(Buffer.from(quantize(GgmlType.Q4_K, x))));
    await inline.close();
  });

  test('close is safe twice; a closed pool refuses work', async () => {
    const p = new QuantPool({ size: 1, inlineBelow: 0, chunkValues: 256 });
    await p.quantize(GgmlType.Q8_0, values(512, 8));
    await p.close();
    await p.close();
    await assert.rejects(p.quantize(GgmlType.Q8_0, values(512, 8)), /QuantPool is closed/);
  });
});

test('from a bundle, the pool starts quant-worker.js beside it (as dist/cli.js does)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quant-bundle-'));
  try {
    const entry = path.join(dir, 'main.ts');
    fs.writeFileSync(
      entry,
      [
        `import { QuantPool } from ${JSON.stringify(path.join(repo, 'engine/gguf/quant/pool'))};`,
        `import { quantize } from ${JSON.stringify(path.join(repo, 'engine/gguf/quant/index'))};`,
        'const x = Float32Array.from({ length: 65536 }, (_, i) => Math.sin(i) * 2);',
        'const pool = new QuantPool({ size: 2, chunkValues: 8192, inlineBelow: 0 });',
        'pool.quantize(12, x).then(async (q) => {',
        '  const same = Buffer.from(q).equals(Buffer.from(quantize(12, x)));',
        '  await pool.close();',
        "  process.stdout.write(same ? 'same' : 'different');",
        '});',
      ].join('\n'),
    );
    const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' } as const;
    await build({ ...common, entryPoints: [entry], outfile: path.join(dir, 'out/main.js') });
    await build({ ...common, entryPoints: [path.join(repo, 'engine/gguf/quant/worker.ts')], outfile: path.join(dir, 'out/quant-worker.js') });
    const out = execFileSync(process.execPath, [path.join(dir, 'out/main.js')], { encoding: 'utf8' });
    assert.equal(out, 'same');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
