import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { gapReport } from '../../engine/taxonomy/gaps';
import { jaccard, similarPairs, tokenize } from '../../engine/taxonomy/nearDuplicates';
import { buildTree } from '../../engine/taxonomy/tree';
import { loadTaxonomyTree } from '../../engine/taxonomy/treeLoader';

const skill = (seeds: number, tag: string, version = 3) =>
  `version: ${version}\ncreated_by: tester\ntask_description: Write ${tag}\nseed_examples:\n` +
  Array.from({ length: seeds }, (_, i) => `  - question: Write ${tag} number ${i}.\n    answer: Leaves fall down.\n`).join('');
const knowledge = (tag: string, withDocument: boolean) =>
  `version: 3\ncreated_by: tester\ndomain: astronomy\ndocument_outline: Moon\nseed_examples:\n` +
  Array.from(
    { length: 5 },
    (_, i) =>
      `  - context: The Moon orbits Earth ${i}.\n    questions_and_answers:\n` +
      [0, 1, 2].map((j) => `      - question: What does ${tag} say ${i} ${j}?\n        answer: The Moon orbits.\n`).join(''),
  ).join('') +
  (withDocument ? `document:\n  repo: https://github.com/x/y\n  commit: 0123456789abcdef0123456789abcdef01234567\n  patterns:\n    - moon.md\n` : '');

const T = '/tax';
const F = `${T}/compositional_skills/writing/freeform`;

describe('gap report', () => {
  test('finds each kind of gap, exactly, in a small taxonomy', () => {
    const tree = buildTree([
      { file: `${F}/a/qna.yaml`, text: skill(8, 'alpha') },
      { file: `${F}/b/qna.yaml`, text: skill(8, 'beta') },
      { file: `${F}/c/qna.yaml`, text: skill(8, 'gamma', 2) },
      { file: `${F}/d/qna.yaml`, text: skill(1, 'alpha') }, // duplicates alpha's first question
      { file: `${T}/knowledge/science/moon/qna.yaml`, text: knowledge('moon', true), extras: { hasAttribution: true } },
      { file: `${T}/knowledge/science/sun/qna.yaml`, text: knowledge('sun', false), extras: { hasAttribution: false } },
    ]);
    const gaps = gapReport(tree, { emptyFolders: [`${T}/foundational_skills`] });
    assert.deepEqual(
      gaps.map((g) => [g.kind, g.severity, g.location, g.fix]),
      [
        ['seedsBelowMinimum', 'error', { file: `${F}/d/qna.yaml`, line: 4 }, undefined],
        ['emptyBranch', 'info', { folder: `${T}/foundational_skills` }, undefined],
        ['knowledgeWithoutDocument', 'error', { file: `${T}/knowledge/science/sun/qna.yaml`, line: 1 }, undefined],
        ['upgradeToV3', 'info', { file: `${F}/c/qna.yaml`, line: 1 }, 'upgradeToV3'],
        ['unbalancedCoverage', 'info', { file: `${F}/d/qna.yaml`, line: 1 }, undefined],
        ['duplicateQuestion', 'warning', { file: `${F}/a/qna.yaml`, line: 5, column: 15 }, undefined],
        ['missingAttribution', 'warning', { file: `${T}/knowledge/science/sun/qna.yaml`, line: 1 }, 'createAttribution'],
      ],
    );
    assert.equal(gaps[0].message, '1 seed example; a leaf needs at least 5. Add 4 more.');
    assert.equal(
      gaps[4].message,
      'compositional_skills/writing/freeform/d has 1 seed example, under 25% of the median of its 3 siblings (8). Add leaves or seeds here.',
    );
    assert.equal(gaps[5].message, `This question is also asked in 1 other leaf (${F}/d/qna.yaml). Keep it in one leaf or reword it.`);
  });

  test('limits and thresholds are options; balance needs three siblings; folders are located by their leaves', () => {
    const tree = buildTree([
      { file: `${T}/compositional_skills/x/one/leaf/qna.yaml`, text: skill(5, 'one') },
      { file: `${T}/compositional_skills/x/two/leaf/qna.yaml`, text: skill(5, 'two') },
      { file: `${T}/compositional_skills/x/three/leaf/qna.yaml`, text: skill(5, 'three') },
      { file: `${T}/compositional_skills/x/four/leaf/qna.yaml`, text: skill(2, 'four') },
      { file: `${T}/compositional_skills/y/qna.yaml`, text: skill(5, 'y') },
    ]);
    assert.deepEqual(gapReport(tree, { limits: { minSeedExamples: 2 } }), []);
    const gaps = gapReport(tree, { limits: { minSeedExamples: 2 }, unbalancedRatio: 0.5 });
    assert.deepEqual(
      gaps.map((g) => [g.kind, g.location]),
      [['unbalancedCoverage', { folder: `${T}/compositional_skills/x/four` }]],
    );
    // Only three children under x once "four" is gone: no balance judgement at all.
    tree.updateLeaf(`${T}/compositional_skills/x/four/leaf/qna.yaml`, skill(0, 'four'));
    tree.updateLeaf(`${T}/compositional_skills/x/one/leaf/qna.yaml`, undefined);
    assert.deepEqual(
      gapReport(tree, { limits: { minSeedExamples: 0 }, unbalancedRatio: 0.5 }).map((g) => g.kind),
      [],
    );
  });

  test('the example taxonomy has no gaps at all', async () => {
    const root = resolve(__dirname, '../../examples/taxonomy');
    const { tree, emptyFolders } = await loadTaxonomyTree(root);
    const gaps = gapReport(tree, { emptyFolders });
    assert.equal(tree.leafCount, 12);
    assert.deepEqual(tree.totals(), { leaves: 12, seeds: 62, words: 8118, errors: 0, warnings: 0 });
    // Not only no errors: every leaf has its seeds, documents and attribution, and no branch is thin.
    assert.deepEqual(gaps, []);
  });
});

describe('unreachable documents', () => {
  test('a knowledge leaf whose commit or pattern is not in the local clone is a gap at the offending key', async () => {
    const examples = resolve(__dirname, '../../examples');
    const dir = mkdtempSync(join(tmpdir(), 'ts-unreachable-'));
    try {
      // The leaves name ../knowledge-docs-repo relative to the taxonomy root: copy the taxonomy beside the real clone.
      cpSync(join(examples, 'taxonomy'), join(dir, 'taxonomy'), { recursive: true });
      cpSync(join(examples, 'knowledge-docs-repo'), join(dir, 'knowledge-docs-repo'), { recursive: true });
      const root = join(dir, 'taxonomy');
      const clean = await loadTaxonomyTree(root, { documents: {} });
      assert.deepEqual(gapReport(clean.tree, { emptyFolders: clean.emptyFolders }), [], 'every example document resolves');

      const history = join(root, 'knowledge/astronomy/observatories/kestrel_hill/history/qna.yaml');
      const text = readFileSync(history, 'utf8');
      writeFileSync(history, text.replace('26c3d21aace07af4b9342acd27ff06b8fdbc6d0c', '0123456789abcdef0123456789abcdef01234567'));
      const broken = await loadTaxonomyTree(root, { documents: {} });
      const gaps = gapReport(broken.tree, { emptyFolders: broken.emptyFolders });
      assert.deepEqual(
        gaps.map((g) => [g.kind, g.severity, 'file' in g.location ? g.location.line : 0]),
        [['unreachableDocument', 'error', 126]],
      );
      assert.match(gaps[0].message, /0123456789abcdef0123456789abcdef01234567.*\(QNA261\)$/s);
      // Without the documents option nobody looks: no gap, so a taxonomy loads without git when asked to.
      const unchecked = await loadTaxonomyTree(root);
      assert.deepEqual(gapReport(unchecked.tree, { emptyFolders: unchecked.emptyFolders }), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gaps view presentation', () => {
  test('groups by kind in report order and places each item relative to the root', async () => {
    const { groupGaps, presentGap } = await import('../../extension/views/presentation');
    const tree = buildTree([
      { file: `${F}/a/qna.yaml`, text: skill(2, 'alpha', 2) },
      { file: `${F}/b/qna.yaml`, text: skill(5, 'beta') },
    ]);
    const gaps = gapReport(tree, { emptyFolders: [`${T}/knowledge/empty`] });
    const groups = groupGaps(gaps);
    assert.deepEqual(
      groups.map((g) => [g.label, g.gaps.length]),
      [
        ['Too few seed examples', 1],
        ['Branches with no leaves', 1],
        ['Leaves to upgrade to version 3', 1],
      ],
    );
    assert.deepEqual(
      groupGaps(gapReport(tree, { emptyFolders: [], skillSchemaVersion: 2 })).map((g) => g.label),
      ['Too few seed examples'],
      'a taxonomy that keeps its skills in version 2 is not told to upgrade them',
    );
    assert.deepEqual(presentGap(groups[0].gaps[0], T), {
      label: 'compositional_skills/writing/freeform/a/qna.yaml:4',
      description: '2 seed examples; a leaf needs at least 5. Add 3 more.',
      tooltip: '2 seed examples; a leaf needs at least 5. Add 3 more.\ncompositional_skills/writing/freeform/a/qna.yaml:4',
      icon: 'error',
    });
    assert.equal(presentGap(groups[1].gaps[0], T).label, 'knowledge/empty/');
    assert.equal(presentGap(groups[2].gaps[0], T).icon, 'info');
  });
});

describe('near-duplicate questions', () => {
  test('questions in different leaves sharing 80% of their words are reported once, at the first', () => {
    const leaf = (questions: string[]) =>
      `version: 3\ncreated_by: tester\ntask_description: Near\nseed_examples:\n` +
      questions.map((q) => `  - question: ${q}\n    answer: Yes.\n`).join('');
    const fill = ['Alpha one?', 'Beta two?', 'Gamma three?', 'Delta four?'];
    const tree = buildTree([
      { file: `${T}/compositional_skills/a/qna.yaml`, text: leaf(['How do comets form near the sun today?', ...fill]) },
      // 7 of 8 distinct words shared with a's first question (Jaccard 7/9 = 0.78 < 0.8: not near)
      { file: `${T}/compositional_skills/b/qna.yaml`, text: leaf(['How do comets form near the sun tonight?', 'Epsilon five?', 'Zeta six?', 'Eta seven?', 'Theta eight?']) },
      // the same 8 words plus one (8/9 = 0.89): near
      { file: `${T}/compositional_skills/c/qna.yaml`, text: leaf(['How do comets form near the sun today really?', 'Iota nine?', 'Kappa ten?', 'Lambda eleven?', 'Mu twelve?']) },
    ]);
    const near = gapReport(tree).filter((g) => g.kind === 'nearDuplicateQuestion');
    assert.deepEqual(
      near.map((g) => [g.location, g.message]),
      [
        [
          { file: `${T}/compositional_skills/a/qna.yaml`, line: 5, column: 15 },
          `This question shares 89% of its words with one in ${T}/compositional_skills/c/qna.yaml:5 ("How do comets form near the sun today really?"). Make them ask different things.`,
        ],
      ],
    );
    assert.deepEqual(gapReport(tree, { nearDuplicateThreshold: false }).filter((g) => g.kind === 'nearDuplicateQuestion'), []);
    assert.equal(gapReport(tree, { nearDuplicateThreshold: 0.7 }).filter((g) => g.kind === 'nearDuplicateQuestion').length, 3);
    // Out of budget: said once, at the taxonomy root, before whatever was found.
    const cut = gapReport(tree, { nearDuplicateBudget: 0 }).filter((g) => g.kind === 'nearDuplicateQuestion');
    assert.deepEqual(cut.map((g) => g.location), [{ folder: T }]);
    assert.match(cut[0].message, /^The search for nearly equal questions stopped early/);
  });

  test('prefix filtering finds exactly the pairs a comparison of every pair finds', () => {
    const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const set = fc.uniqueArray(fc.constantFrom(...words), { maxLength: 8 });
    fc.assert(
      fc.property(fc.array(set, { maxLength: 12 }), fc.constantFrom(0.5, 0.6, 0.75, 0.8, 0.9, 1), (tokens, t) => {
        const sets = tokens.map((ts) => ({ tokens: ts }));
        const brute: [number, number, number][] = [];
        for (let j = 0; j < sets.length; j++)
          for (let i = 0; i < j; i++) {
            if (sets[i].tokens.length === 0 || sets[j].tokens.length === 0) continue;
            const sim = jaccard(sets[i].tokens, sets[j].tokens);
            if (sim >= t) brute.push([i, j, sim]);
          }
        const full = similarPairs(sets, t);
        assert.equal(full.truncated, false);
        assert.deepEqual(full.pairs, brute.sort((x, y) => x[0] - y[0] || x[1] - y[1]));
      }),
      { numRuns: 500 },
    );
    assert.deepEqual(tokenize('how do  comets do'), ['how', 'do', 'comets']);
  });
});
