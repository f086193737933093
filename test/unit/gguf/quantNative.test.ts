// The native kernels (dist/native/quant.node, built by `npm run build:native`) against the TypeScript ones: the same
// bytes for F16 both ways and for every quantized type they encode, on random data and on edge blocks, with each
// instruction set this machine has (the portable scalar build and, on x86-64, the AVX2/FMA/F16C and AVX-512 ones); the
// same refusal of NaN and infinity; TAXONOMY_STUDIO_NATIVE=0 selecting the TypeScript kernels and
// TAXONOMY_STUDIO_QUANT_ISA an instruction set.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { GgmlType, ggmlTypeName } from '../../../engine/gguf/ggmlTypes';
import { narrowF16, widenF16 } from '../../../engine/gguf/quant/f16';
import { codecFor, convert, jsCodecs, QuantizeError, quantBackend } from '../../../engine/gguf/quant/index';
import { loadNativeQuant, NATIVE_ISAS, type NativeIsa, nativeDisabled, nativeStatus } from '../../../engine/gguf/quant/native';
import { gaussian } from './gaussian';

const addon = loadNativeQuant();
const skip = addon ? false : `${nativeStatus()} (run npm run build:native; CI builds it)`;
const initialIsa = addon?.isa;
const isas = addon ? NATIVE_ISAS.filter((isa) => addon.setIsa(isa)) : [];
after(() => {
  if (addon && initialIsa) addon.setIsa(initialIsa as NativeIsa);
});

const QUANTIZED = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

/** Encodes with the TypeScript codec and with the native one; fails naming the first block that differs. */
function assertSameBytes(type: GgmlType, x: Float32Array, what: string): void {
  const js = jsCodecs.get(type)!;
  const nBlocks = x.length / js.blockSize;
  const want = new Uint8Array(nBlocks * js.typeSize);
  js.encode(x, 0, want, 0, nBlocks);
  const got = new Uint8Array(want.length).fill(0xa5);
  const bad = addon!.encode(type, x, 0, got, 0, nBlocks);
  assert.equal(bad, -1, `${ggmlTypeName(type)} ${what}: refused element ${bad}`);
  const at = want.findIndex((b, i) => b !== got[i]);
  if (at >= 0) {
    const block = Math.floor(at / js.typeSize);
    assert.fail(
      `${ggmlTypeName(type)} ${what} (${addon!.isa}): byte ${at} (block ${block}, offset ${at % js.typeSize}) is ` +
        `${got[at]}, TypeScript gives ${want[at]}; block values start ${[...x.subarray(block * js.blockSize, block * js.blockSize + 4)]}`,
    );
  }
}

/** Edge blocks of 256 values (a whole block of every type). */
function edgeBlocks(): [string, Float32Array][] {
  const fill = (f: (i: number) => number) => Float32Array.from({ length: 256 }, (_, i) => f(i));
  const g = gaussian(256, 7);
  return [
    ['zeros', fill(() => 0)],
    ['negative zeros', fill(() => -0)],
    ['one value', fill(() => 0.37)],
    ['one negative value', fill(() => -2.5)],
    ['all positive', fill((i) => 1 + g[i] * g[i])],
    ['all negative', fill((i) => -1 - g[i] * g[i])],
    ['one outlier', fill((i) => (i === 77 ? 1e4 : g[i] * 0.01))],
    ['negative outlier', fill((i) => (i === 3 ? -500 : g[i]))],
    ['f32 subnormals', fill((i) => g[i] * 1e-40)],
    ['subnormals and zeros', fill((i) => (i % 3 === 0 ? 0 : i * 1.4e-45))],
    ['f16 subnormal range', fill((i) => g[i] * 1e-6)],
    ['tiny', fill((i) => g[i] * 1e-30)],
    ['+-f32 max', fill((i) => (i % 2 ? 3.4028234663852886e38 : -3.4028234663852886e38))],
    ['f32 max and small', fill((i) => (i === 9 ? 3.4028234663852886e38 : g[i]))],
    ['+-f16 max', fill((i) => (i % 5 === 0 ? 65504 : -65504 * (i / 256)))],
    ['past f16 max', fill((i) => g[i] * 1e6)],
    ['ramp', fill((i) => i - 128)],
    ['integers', fill((i) => (i % 17) - 8)],
    ['halves', fill((i) => ((i % 9) - 4) / 2)],
    ['sparse', fill((i) => (i % 31 === 0 ? g[i] : 0))],
    // Sub-blocks of one super-block that take different paths of the search side by side (the vector kernels run
    // them in neighbouring lanes): constant, zero, all positive, gaussian, one level.
    // Q6_K: d overflows f16 (infinity) while small sub-blocks get scale 0, so their levels come from NaN.
    ['f16 d overflow beside tiny sub-blocks', fill((i) => (i < 16 ? g[i] * 1e9 : g[i] * 1e-3))],
    ['mixed sub-blocks', fill((i) => [0.5, 0, 1 + g[i] * g[i], g[i], -3, g[i] * 100, i % 2, g[i] - 5][i >> 5])],
  ];
}

describe('native quantization kernels', { skip }, () => {
  test('the instruction set in use is the best this CPU has, and TAXONOMY_STUDIO_QUANT_ISA picks another', () => {
    assert.equal(initialIsa, isas[0]);
    const repo = path.resolve(__dirname, '../../..');
    const probe =
      "const n = require('./engine/gguf/quant/native.ts'); console.log(n.loadNativeQuant().isa + ' | ' + n.nativeStatus())";
    const run = (isa: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', '-e', probe], {
        cwd: repo,
        env: { ...process.env, TAXONOMY_STUDIO_NATIVE: '1', TAXONOMY_STUDIO_QUANT_ISA: isa },
        encoding: 'utf8',
      }).trim();
    for (const isa of isas) assert.match(run(isa), new RegExp(`^${isa} \\| `));
    const bogus = run('sse9');
    assert.match(bogus, new RegExp(`^${isas[0]} \\| .*TAXONOMY_STUDIO_QUANT_ISA=sse9 is not available`));
  });

  test('the codecs in use are the native ones unless TAXONOMY_STUDIO_NATIVE=0', () => {
    assert.equal(quantBackend, nativeDisabled() ? 'js' : 'native');
    const repo = path.resolve(__dirname, '../../..');
    const probe = "console.log(require('./engine/gguf/quant/index.ts').quantBackend)";
    const run = (env: NodeJS.ProcessEnv) =>
      execFileSync(process.execPath, ['--import', 'tsx', '-e', probe], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
    assert.equal(run({ TAXONOMY_STUDIO_NATIVE: '0' }), 'js');
    assert.equal(run({ TAXONOMY_STUDIO_NATIVE: '1' }), 'native');
  });

  for (const isa of isas) {
    describe(`${isa} kernels`, () => {
      test('select', () => assert.equal(addon!.setIsa(isa) && addon!.isa, isa));

      test('the same bytes as TypeScript on gaussian data of several scales', () => {
        addon!.setIsa(isa);
        for (const [sigma, seed] of [[1, 1], [0.02, 2], [1e-3, 3], [300, 4]] as const) {
          const x = gaussian(256 * 64, seed, sigma);
          for (const type of QUANTIZED) assertSameBytes(type, x, `sigma ${sigma}`);
        }
      });

      test('the same bytes on heavy-tailed data (cubes of uniform values)', () => {
        addon!.setIsa(isa);
        const x = new Float32Array(256 * 64);
        let s = 5;
        for (let i = 0; i < x.length; i++) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          x[i] = ((s / 2 ** 32 - 0.5) * 4) ** 3;
        }
        for (const type of QUANTIZED) assertSameBytes(type, x, 'heavy tails');
      });

      test('the same bytes on edge blocks: zeros, outliers, subnormals, +-max', () => {
        addon!.setIsa(isa);
        for (const [name, x] of edgeBlocks()) for (const type of QUANTIZED) assertSameBytes(type, x, name);
      });

      test('a NaN in a later block: the blocks before it are written, the index is the first bad element', () => {
        addon!.setIsa(isa);
        for (const type of QUANTIZED) {
          const js = jsCodecs.get(type)!;
          const x = gaussian(js.blockSize * 4, 11);
          // In a K-quant super-block, past its first half (the vector searches take the halves in turn).
          const at = js.blockSize * 2 + (js.blockSize === 256 ? 200 : 5);
          x[at] = NaN;
          x[at + 3] = Infinity;
          const want = new Uint8Array(js.typeSize * 2);
          js.encode(x, 0, want, 0, 2);
          const got = new Uint8Array(js.typeSize * 4).fill(0xa5);
          assert.equal(addon!.encode(type, x, 0, got, 0, 4), at, ggmlTypeName(type));
          assert.deepEqual(got.subarray(0, want.length), want, `${ggmlTypeName(type)}: blocks before the bad one`);
        }
      });

      test('F16 narrowing gives the TypeScript bits for every class of f32 (NaN payloads included)', () => {
        addon!.setIsa(isa);
        const bits = new Uint32Array(1 << 20);
        // Every 4096th pattern, offset so each sample also differs in its low (rounded-off) bits, plus the patterns
        // around each rounding boundary of the f16 range (ties, subnormals, overflow to infinity, NaNs).
        let n = 0;
        for (let i = 0; n < 1 << 19; i++) bits[n++] = (i * 4099 + (i >>> 3)) * 2048 + (i & 2047);
        for (const base of [0x33000000, 0x387fe000, 0x38800000, 0x477fe000, 0x477ff000, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7f802000, 0x7fbfffff]) {
          for (let d = -4096; d < 4096 && n < bits.length; d++) bits[n++] = (base + d) >>> 0;
          for (let d = -4096; d < 4096 && n < bits.length; d++) bits[n++] = ((base + d) | 0x80000000) >>> 0;
        }
        const f = new Float32Array(bits.buffer);
        const want = new Uint16Array(bits.length);
        narrowF16(bits, 0, want, 0, bits.length);
        for (const dstOff of [0, 1]) {
          const got = new Uint8Array(bits.length * 2 + 1);
          addon!.narrowF16(f, 0, got, dstOff, bits.length);
          const view = new Uint8Array(want.buffer);
          const at = view.findIndex((b, i) => b !== got[dstOff + i]);
          assert.equal(at, -1, `f32 bits 0x${bits[at >> 1]?.toString(16)} (destination offset ${dstOff})`);
        }
      });

      test('F16 widening gives the TypeScript bits for all 65536 patterns', () => {
        addon!.setIsa(isa);
        const halves = Uint16Array.from({ length: 65536 }, (_, i) => i);
        const want = new Uint32Array(65536);
        widenF16(halves, 0, want, 0, 65536);
        for (const srcOff of [0, 1]) {
          const src = new Uint8Array(65536 * 2 + 1);
          src.set(new Uint8Array(halves.buffer), srcOff);
          const got = new Float32Array(65536);
          addon!.widenF16(src, srcOff, got, 0, 65536);
          const gotBits = new Uint32Array(got.buffer);
          const at = want.findIndex((b, i) => b !== gotBits[i]);
          assert.equal(at, -1, `f16 0x${at.toString(16)} (source offset ${srcOff})`);
        }
      });
    });
  }

  test('refuses NaN and infinity at the same element as TypeScript, with the same error', () => {
    for (const type of QUANTIZED) {
      for (const [at, bad] of [[300, NaN], [0, Infinity], [511, -Infinity]] as const) {
        const x = gaussian(512, 9);
        x[at] = bad;
        x[at + (at < 400 ? 100 : -100)] = NaN; // a later (or earlier) one must not be the one reported
        const firstBad = x.findIndex((v) => !Number.isFinite(v));
        const errs = [jsCodecs.get(type)!, codecFor(type)].map((c) => {
          try {
            c.encode(x, 0, new Uint8Array(4096), 0, 512 / c.blockSize);
            return undefined;
          } catch (err) {
            return err;
          }
        });
        for (const err of errs) {
          assert.ok(err instanceof QuantizeError, `${ggmlTypeName(type)}: ${String(err)}`);
          assert.equal(err.index, firstBad);
        }
        assert.equal((errs[1] as Error).message, (errs[0] as Error).message);
      }
    }
    // Through convert: the index is the element's place in the whole tensor.
    const f32 = gaussian(40000, 10);
    f32[33333] = NaN;
    assert.throws(() => convert(GgmlType.F32, GgmlType.Q4_K, new Uint8Array(f32.buffer, 0, 39936 * 4)), (e: unknown) => e instanceof QuantizeError && e.index === 33333);
  });

  test('checks ranges and argument types before touching memory', () => {
    const x = new Float32Array(256);
    assert.throws(() => addon!.encode(GgmlType.Q4_K, x, 0, new Uint8Array(143), 0, 1), RangeError);
    assert.throws(() => addon!.encode(GgmlType.Q4_K, x, 1, new Uint8Array(144), 0, 1), RangeError);
    assert.throws(() => addon!.encode(GgmlType.Q8_0, x, 0, new Uint8Array(34 * 8), 1, 8), RangeError);
    assert.throws(() => addon!.encode(GgmlType.F32, x, 0, new Uint8Array(1024), 0, 1), TypeError);
    assert.throws(() => addon!.encode(GgmlType.Q8_0, new Float64Array(32) as unknown as Float32Array, 0, new Uint8Array(34), 0, 1), TypeError);
    assert.throws(() => addon!.narrowF16(x, 0, new Uint8Array(511), 0, 256), RangeError);
    assert.throws(() => addon!.widenF16(new Uint8Array(512), 2, x, 0, 256), RangeError);
    assert.throws(() => addon!.encode(GgmlType.Q8_0, x, -1, new Uint8Array(34), 0, 1), TypeError);
  });
});
