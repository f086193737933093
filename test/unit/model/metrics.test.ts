import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, klDivergence, logSoftmax, maxAbsDiff, softmax } from '../../../engine/model/metrics';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('softmax: known values, shift invariance, sums to one', () => {
  const p = softmax([0, Math.log(2)]);
  near(p[0], 1 / 3);
  near(p[1], 2 / 3);
  const shifted = softmax(Float32Array.from([100, 100 + Math.log(2)]));
  near(shifted[0], 1 / 3, 1e-6);
  const many = softmax([1, 2, 3, 4, 5]);
  near(
    many.reduce((a, b) => a + b, 0),
    1,
  );
});

test('logSoftmax does not overflow on large logits', () => {
  const l = logSoftmax([1000, 1001]);
  near(l[1], -Math.log(1 + Math.exp(-1)));
  near(l[0], -1 - Math.log(1 + Math.exp(-1)));
  assert.throws(() => logSoftmax([]), /logSoftmax of an empty vector/);
});

test('klDivergence(P, Q) = Σ p (log p − log q), zero for equal distributions, not symmetric', () => {
  const uniform = [0, 0];
  const q = [0, Math.log(3)]; // [1/4, 3/4]
  near(klDivergence(uniform, q), 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75));
  near(klDivergence(q, uniform), 0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5));
  assert.equal(klDivergence([1, 2, 3], [11, 12, 13]), 0);
  assert.throws(() => klDivergence([1, 2], [1, 2, 3]), /vocabularies differ \(2 vs 3 logits\)/);
});

test('argmax and maxAbsDiff name the element', () => {
  assert.equal(argmax([1, 5, 5, 2]), 1);
  assert.deepEqual(maxAbsDiff([1, 2, 3], [1, 2.5, 2.75]), { max: 0.5, index: 1 });
  assert.deepEqual(maxAbsDiff([1, NaN], [1, 2]), { max: NaN, index: 1 });
});
