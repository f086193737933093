// Deduplication checked against brute force: generated texts with variants at every similarity, all pairs compared
// exactly, and the MinHash/LSH answer measured against that.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dedupe,
  Deduper,
  duplicateReasons,
  estimateJaccard,
  exactKey,
  jaccard,
  lshCandidateProbability,
  MinHasher,
  NearDuplicateIndex,
  nearDuplicatePairs,
  normalizeForDedup,
  shingles,
} from '../../../engine/sdg/dedup';

/** mulberry32: the test data's own seeded generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Base texts of 30-60 words from a 400-word vocabulary, and variants of most of them with 0-14 word edits. */
function corpus(seed: number): string[] {
  const r = rng(seed);
  const vocab = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}${'abcdefgh'[i % 8]}`);
  const pick = () => vocab[Math.floor(r() * vocab.length)];
  const texts: string[] = [];
  for (let b = 0; b < 220; b++) {
    const base = Array.from({ length: 30 + Math.floor(r() * 31) }, pick);
    texts.push(base.join(' '));
    if (b % 4 === 3) continue;
    for (let v = 0; v < 1 + Math.floor(r() * 2); v++) {
      const words = [...base];
      const edits = Math.floor(r() * 15);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * words.length);
        const op = r();
        if (op < 0.5) words[at] = pick();
        else if (op < 0.75) words.splice(at, 0, pick());
        else if (words.length > 5) words.splice(at, 1);
      }
      texts.push(words.join(' '));
    }
  }
  // Shuffle deterministically so variants are not always next to their base.
  for (let i = texts.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [texts[i], texts[j]] = [texts[j], texts[i]];
  }
  return texts;
}

describe('normalization and exact keys', () => {
  test('case, Unicode form, punctuation and spacing do not matter; words do', () => {
    assert.equal(normalizeForDedup('  What IS the  f/8 focal—ratio?\n'), 'what is the f 8 focal ratio');
    assert.equal(normalizeForDedup('ﬁne Ｔｅｒｎ'), 'fine tern');
    assert.equal(exactKey('Tern, the main telescope.'), exactKey('tern the MAIN telescope'));
    assert.notEqual(exactKey('Tern, the main telescope.'), exactKey('Wren, the main telescope.'));
    assert.equal(exactKey('x').length, 64);
  });

  test('shingles: distinct, sorted, and Jaccard as brute force computes it', () => {
    assert.equal(shingles('a b c d').length, 3);
    assert.equal(shingles('a b a b').length, 2);
    assert.equal(shingles('single').length, 1);
    assert.equal(shingles('  ').length, 0);
    assert.equal(shingles('a b c d', { shingleSize: 3 }).length, 2);
    const s = shingles('the dome closes when it rains hard');
    assert.ok(s.every((v, i) => i === 0 || s[i - 1] < v));
    // {a b, b c, c d} vs {a b, b c, c e}: 2 shared of 4
    assert.equal(jaccard(shingles('a b c d'), shingles('a b c e')), 0.5);
    assert.equal(jaccard(shingles(''), shingles('')), 1);
    assert.equal(jaccard(shingles('x y'), shingles('')), 0);
  });
});

describe('MinHash + LSH against brute force', () => {
  const texts = corpus(7);
  const sets = texts.map((t) => shingles(t));
  const truth: { i: number; j: number; sim: number }[] = [];
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) truth.push({ i, j, sim: jaccard(sets[i], sets[j]) });
  const above = truth.filter((p) => p.sim >= 0.8);

  test('the generated data spans the similarity range', () => {
    assert.ok(texts.length > 450, `${texts.length} texts`);
    assert.ok(above.length >= 60, `${above.length} pairs at 0.8 or more`);
    assert.ok(truth.filter((p) => p.sim >= 0.5 && p.sim < 0.8).length >= 60, 'pairs just below the threshold');
  });

  test('signatures estimate Jaccard within the expected error', () => {
    const hasher = new MinHasher();
    assert.equal(hasher.numHashes, 120);
    const sigs = sets.map((s) => hasher.signature(s));
    const related = truth.filter((p) => p.sim >= 0.3);
    let sumErr = 0;
    let worst = { err: 0, sim: 0 };
    for (const p of related) {
      const err = Math.abs(estimateJaccard(sigs[p.i], sigs[p.j]) - p.sim);
      sumErr += err;
      if (err > worst.err) worst = { err, sim: p.sim };
    }
    const mean = sumErr / related.length;
    // One standard deviation at J = 0.5 over 120 functions is sqrt(0.25 / 120) = 0.046.
    assert.ok(mean < 0.045, `mean absolute error ${mean.toFixed(4)} over ${related.length} pairs`);
    assert.ok(worst.err < 0.2, `worst error ${worst.err.toFixed(3)} at Jaccard ${worst.sim.toFixed(3)}`);
    // The same seed gives the same signature; another seed another.
    assert.deepEqual(new MinHasher().signature(sets[0]), sigs[0]);
    assert.notDeepEqual(new MinHasher({ seed: 2 }).signature(sets[0]), sigs[0]);
  });

  test('LSH finds at least 95% of the pairs at 0.8 or more; the exact check lets nothing below through', () => {
    const found = nearDuplicatePairs(texts);
    const key = (i: number, j: number) => `${i},${j}`;
    const foundKeys = new Set(found.map(([i, j]) => key(i, j)));
    const recall = above.filter((p) => foundKeys.has(key(p.i, p.j))).length / above.length;
    assert.ok(recall >= 0.95, `recall ${recall.toFixed(3)} of ${above.length} pairs`);
    for (const [i, j, sim] of found) {
      assert.ok(i < j);
      assert.equal(sim, jaccard(sets[i], sets[j]));
      assert.ok(sim >= 0.8, `reported pair (${i}, ${j}) at ${sim}`);
    }
  });

  test('LSH candidates are few below the threshold, and rare well below it', () => {
    const index = new NearDuplicateIndex<number>();
    const prepared = texts.map((t) => index.prepare(t));
    const candidatePairs = new Set<string>();
    prepared.forEach((p, j) => {
      for (const i of index.candidates(p)) candidatePairs.add(`${i},${j}`);
      index.add(j, p);
    });
    const below = truth.filter((p) => p.sim < 0.5);
    const farCandidates = below.filter((p) => candidatePairs.has(`${p.i},${p.j}`)).length;
    // At J < 0.5 the chance is under lshCandidateProbability(0.5, 20, 6) = 0.27, and nearly all of the ~100,000
    // pairs are far below (unrelated texts): a few dozen candidates at most.
    assert.ok(below.length > 90_000);
    assert.ok(farCandidates <= 40, `${farCandidates} of ${below.length} pairs under 0.5 were candidates`);
    const close = truth.filter((p) => p.sim >= 0.5 && p.sim < 0.8);
    const closeCandidates = close.filter((p) => candidatePairs.has(`${p.i},${p.j}`)).length;
    assert.ok(closeCandidates < close.length, 'some pairs between 0.5 and 0.8 are not even candidates');
    assert.ok(candidatePairs.size < 3 * above.length, `${candidatePairs.size} candidate pairs for ${above.length} true ones`);
  });

  test('lshCandidateProbability: the curve the defaults are tuned for', () => {
    assert.equal(lshCandidateProbability(0.8, 20, 6).toFixed(3), '0.998');
    assert.equal(lshCandidateProbability(0.5, 20, 6).toFixed(3), '0.270');
    assert.equal(lshCandidateProbability(0.2, 20, 6).toFixed(4), '0.0013');
  });
});

describe('dedupe', () => {
  test('keeps the first of each group and reports what it dropped, why, and for which kept one', () => {
    const samples = [
      { q: 'What is the focal length of Tern, the main telescope of the observatory?' },
      { q: 'How cold is the CCD camera kept during a night?' },
      { q: 'what is the focal length of tern the main telescope of the observatory' },
      { q: 'What is the focal length of Tern, the main telescope of the observatory, exactly?' },
      { q: 'When does the dome close automatically?' },
      { q: 'How cold is the CCD camera kept during a night?!' },
    ];
    const r = dedupe(samples, (s) => s.q);
    assert.deepEqual(r.keptIndices, [0, 1, 4]);
    assert.deepEqual(r.kept, [samples[0], samples[1], samples[4]]);
    assert.deepEqual(
      r.dropped.map((d) => [d.index, d.kind, d.reason, d.of, Number(d.similarity.toFixed(3))]),
      [
        [2, 'exact', 'exact duplicate', 0, 1],
        // 12 word pairs of the first all in the 13 of the fourth: 12 / 13
        [3, 'near', 'near duplicate', 0, 0.923],
        [5, 'exact', 'exact duplicate', 1, 1],
      ],
    );
    assert.equal(r.dropped[1].sample, samples[3]);
  });

  test('near: false keeps near duplicates; the threshold moves the line', () => {
    const texts = ['a b c d e f g h i j', 'a b c d e f g h i k', 'a b c d e x y z q r'];
    assert.deepEqual(dedupe(texts, (t) => t, { near: false }).keptIndices, [0, 1, 2]);
    // pair (0, 1): 8 of 10 shingles shared: 8 / 10 = 0.8
    assert.deepEqual(dedupe(texts, (t) => t).keptIndices, [0, 2]);
    assert.deepEqual(dedupe(texts, (t) => t, { threshold: 0.85 }).keptIndices, [0, 1, 2]);
  });

  test('a Deduper seeded with earlier output drops repeats of it (resume)', () => {
    const d = new Deduper<string>();
    assert.deepEqual(d.offer('run1:0', 'The dome closes when gusts exceed 40 kilometres per hour.'), { duplicate: false });
    const again = d.offer('run2:0', 'the dome closes when gusts exceed 40 kilometres per hour');
    assert.deepEqual(again, { duplicate: true, kind: 'exact', reason: duplicateReasons.exact, of: 'run1:0', similarity: 1 });
    assert.equal(d.size, 1);
  });

  test('the generated corpus: no two kept texts at 0.8 or more, every drop justified', () => {
    const texts = corpus(11);
    const r = dedupe(texts, (t) => t);
    const sets = r.keptIndices.map((i) => shingles(texts[i]));
    let misses = 0;
    for (let a = 0; a < sets.length; a++) for (let b = a + 1; b < sets.length; b++) if (jaccard(sets[a], sets[b]) >= 0.8) misses++;
    // LSH may miss a pair with probability 0.002 at 0.8 (less above); allow a handful among the kept.
    assert.ok(misses <= 3, `${misses} near-duplicate pairs kept`);
    for (const d of r.dropped) {
      assert.ok(d.of < d.index);
      assert.ok(r.keptIndices.includes(d.of), 'dropped in favour of a kept text');
      assert.equal(d.similarity, jaccard(shingles(texts[d.index]), shingles(texts[d.of])));
      assert.ok(d.similarity >= 0.8);
    }
    assert.equal(r.kept.length + r.dropped.length, texts.length);
  });

  test('refuses thresholds and band sizes that make no sense', () => {
    assert.throws(() => new NearDuplicateIndex({ threshold: 0 }), /threshold must be in \(0, 1\], got 0/);
    assert.throws(() => new MinHasher({ bands: 0 }), /bands and rows must be whole numbers of 1 or more, got 0 × 6/);
  });
});
