import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineConfig } from '../../../engine/model/config';
import { applyRope, ropeInvFreq } from '../../../engine/model/rope';
import { prng, randomTensor } from './helpers';
import { naiveFrequency } from './naive';

const config = defineConfig({ hidden: 64, layers: 1, heads: 4, intermediate: 8, vocab: 8 });

function rotated(v: Float32Array, position: number, invFreq = ropeInvFreq(config)): Float32Array {
  const x = v.slice();
  applyRope(x, 0, position, invFreq);
  return x;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test('inv_freq is theta^(-2i/headDim), rounded to float32', () => {
  const inv = ropeInvFreq(config);
  assert.equal(inv.length, 8);
  assert.equal(inv[0], 1);
  assert.equal(inv[1], Math.fround(Math.pow(10000, -2 / 16)));
  assert.equal(inv[7], Math.fround(Math.pow(10000, -14 / 16)));
});

test('position 0 is the identity', () => {
  const v = randomTensor(prng(1), [16], 1).data;
  assert.deepEqual(rotated(v, 0), v);
});

test('rotate_half layout: dimension i pairs with i + headDim/2', () => {
  const small = defineConfig({ hidden: 4, layers: 1, heads: 1, intermediate: 1, vocab: 1, ropeTheta: 100 });
  const inv = ropeInvFreq(small); // [1, 100^(-1/2)] = [1, 0.1]
  const x = Float32Array.from([1, 0, 0, 0]);
  applyRope(x, 0, 2, inv);
  assertNear(x, [Math.cos(2), 0, Math.sin(2), 0]);
  const y = Float32Array.from([0, 1, 0, 0]);
  applyRope(y, 0, 2, inv);
  assertNear(y, [0, Math.cos(0.2), 0, Math.sin(0.2)]);
});

function assertNear(actual: Float32Array, expected: number[]): void {
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) < 1e-6, `dim ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test('q·k after RoPE depends only on the position difference', () => {
  const rand = prng(2);
  for (let trial = 0; trial < 5; trial++) {
    const q = randomTensor(rand, [16], 1).data;
    const k = randomTensor(rand, [16], 1).data;
    const m = Math.floor(rand() * 50);
    const n = Math.floor(rand() * 50);
    const shift = 1 + Math.floor(rand() * 1000);
    const a = dot(rotated(q, m), rotated(k, n));
    const b = dot(rotated(q, m + shift), rotated(k, n + shift));
    assert.ok(Math.abs(a - b) < 1e-4, `m ${m}, n ${n}, shift ${shift}: ${a} vs ${b}`);
    // A different difference gives a different score (the property is not trivially true).
    const c = dot(rotated(q, m + 1), rotated(k, n));
    assert.ok(Math.abs(a - c) > 1e-3, `moving only q changes the score (${a} vs ${c})`);
  }
});

test('rotation preserves the norm of each head', () => {
  const v = randomTensor(prng(3), [16], 1).data;
  assert.ok(Math.abs(dot(v, v) - dot(rotated(v, 123), rotated(v, 123))) < 1e-4);
});

test('linear rope scaling: position p with factor f rotates as position p/f unscaled', () => {
  const scaled = ropeInvFreq(defineConfig({ ...config, ropeScaling: { type: 'linear', factor: 4 } }));
  const v = randomTensor(prng(4), [16], 1).data;
  const a = rotated(v, 20, scaled);
  const b = rotated(v, 5);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `dim ${i}: ${a[i]} vs ${b[i]}`);
});

test('llama3 rope scaling: high frequencies kept, low ones divided by factor, the band between blended', () => {
  // Llama 3.2's values with a head of 64.
  const llama3 = defineConfig({
    hidden: 2048,
    layers: 1,
    heads: 32,
    intermediate: 8,
    vocab: 8,
    ropeTheta: 500000,
    ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
  });
  const plain = ropeInvFreq({ ...llama3, ropeScaling: null });
  const inv = ropeInvFreq(llama3);
  // wavelength 2π/f < 8192/4 = 2048: unchanged; > 8192: divided by 32.
  assert.equal(inv[0], plain[0]);
  assert.equal(inv[31], Math.fround(plain[31] / 32));
  let blended = 0;
  for (let i = 0; i < 32; i++) {
    const expected = naiveFrequency(llama3, i);
    assert.ok(Math.abs(inv[i] - expected) <= 1e-6 * expected, `pair ${i}: ${inv[i]} vs ${expected}`);
    if (inv[i] !== plain[i] && inv[i] !== Math.fround(plain[i] / 32)) blended++;
  }
  assert.ok(blended >= 2, `some pairs are in the blended band (${blended})`);
});
