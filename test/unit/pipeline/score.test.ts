import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenSet as wordSet } from '../../../engine/eval/similarity';
import { mean, tokenSetF1 } from '../../../engine/pipeline/score';

test('words: lower-cased runs of letters and digits in any script, each once', () => {
  assert.deepEqual([...wordSet('The dome, the DOME! 12-inch f/8 Sternwarte öffnet')], ['the', 'dome', '12', 'inch', 'f', '8', 'sternwarte', 'öffnet']);
  assert.equal(wordSet(' ...\n ').size, 0);
});

test('token-set F1: precision and recall over distinct words', () => {
  assert.equal(tokenSetF1('The dome opens at dusk.', 'the dome opens at dusk'), 1);
  assert.equal(tokenSetF1('telescope', 'the dome opens'), 0);
  // answer {the, dome, is, closed}, expected {the, dome, opens, at, dusk}: 2 common, p = 2/4, r = 2/5.
  assert.ok(Math.abs(tokenSetF1('the dome is closed', 'The dome opens at dusk') - (2 * 0.5 * 0.4) / 0.9) < 1e-12);
  // Repeating a right word earns nothing.
  assert.equal(tokenSetF1('dome dome dome', 'dome opens'), tokenSetF1('dome', 'dome opens'));
  assert.equal(tokenSetF1('', ''), 1);
  assert.equal(tokenSetF1('', 'dome'), 0);
  assert.equal(tokenSetF1('dome', '!!'), 0);
  assert.equal(tokenSetF1('a b', 'b a'), tokenSetF1('b a', 'a b'));
});

test('mean of nothing is 0', () => {
  assert.equal(mean([]), 0);
  assert.equal(mean([0.25, 0.75, 1]), 2 / 3);
});
