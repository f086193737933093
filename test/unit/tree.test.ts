import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import fc from 'fast-check';
import { buildTree, stateOf, TaxonomyTree, type TreeNode } from '../../engine/taxonomy/tree';
import { findEmptyFolders, loadTaxonomyTree } from '../../engine/taxonomy/treeLoader';

// A skill seed is "Write haiku number N." (4 words) + "Leaves fall down." (3 words) = 7 words.
const skill = (seeds: number, task = 'Write haiku') =>
  `version: 3\ncreated_by: tester\ntask_description: ${task}\nseed_examples:\n` +
  Array.from({ length: seeds }, (_, i) => `  - question: Write haiku number ${i}.\n    answer: Leaves fall down.\n`).join('');
// A knowledge seed: context of 5 words + 3 x (5 + 3) words = 29 words.
const knowledge = (seeds: number, withDocument = true) =>
  `version: 3\ncreated_by: tester\ndomain: astronomy\ndocument_outline: Moon\nseed_examples:\n` +
  Array.from(
    { length: seeds },
    (_, i) =>
      `  - context: The Moon orbits Earth ${i}.\n    questions_and_answers:\n` +
      [0, 1, 2].map((j) => `      - question: What orbits Earth ${i} ${j}?\n        answer: The Moon orbits.\n`).join(''),
  ).join('') +
  (withDocument ? `document:\n  repo: https://github.com/x/y\n  commit: 0123456789abcdef0123456789abcdef01234567\n  patterns:\n    - moon.md\n` : '');

const T = '/tax';
const fixture = [
  { file: `${T}/compositional_skills/writing/freeform/haiku/qna.yaml`, text: skill(5) },
  { file: `${T}/compositional_skills/writing/freeform/short/qna.yaml`, text: skill(3, 'Short poems') }, // QNA104: too few seeds
  { file: `${T}/knowledge/science/moon/qna.yaml`, text: knowledge(5) },
  { file: `${T}/foundational_skills/reasoning/qna.yaml`, text: skill(5, 'Reason') },
  { file: `${T}/foundational_skills/reasoning/logic/qna.yaml`, text: 'version: 3\ncreated_by: [' }, // syntax error
];

function node(tree: TaxonomyTree, id: string): TreeNode {
  const [kind, ...rest] = id.split('/');
  let n = tree.roots.get(kind as never);
  for (const seg of rest) n = n?.children.get(seg);
  assert.ok(n, `no node ${id}`);
  return n;
}

describe('taxonomy tree', () => {
  test('aggregates leaves, seeds, words and worst state exactly', () => {
    const tree = buildTree(fixture);
    assert.deepEqual(
      tree.kindRoots().map((r) => r.id),
      ['knowledge', 'foundational_skills', 'compositional_skills'],
    );
    assert.deepEqual(node(tree, 'compositional_skills').counts, { leaves: 2, seeds: 8, words: 56, errors: 1, warnings: 0 });
    assert.deepEqual(node(tree, 'compositional_skills/writing/freeform').counts, { leaves: 2, seeds: 8, words: 56, errors: 1, warnings: 0 });
    assert.deepEqual(node(tree, 'compositional_skills/writing/freeform/haiku').counts, { leaves: 1, seeds: 5, words: 35, errors: 0, warnings: 0 });
    assert.equal(stateOf(node(tree, 'compositional_skills/writing/freeform/haiku').counts), 'ok');
    assert.equal(stateOf(node(tree, 'compositional_skills/writing').counts), 'error');
    assert.deepEqual(node(tree, 'knowledge').counts, { leaves: 1, seeds: 5, words: 145, errors: 0, warnings: 0 });
    const reasoning = node(tree, 'foundational_skills/reasoning');
    assert.equal(reasoning.type, 'leaf');
    assert.equal(reasoning.leaf?.description, 'Reason');
    // The broken leaf below (QNA001 syntax, QNA013 new line at end) is counted, not hidden.
    assert.deepEqual(reasoning.counts, { leaves: 2, seeds: 5, words: 35, errors: 2, warnings: 0 });
    assert.equal(node(tree, 'foundational_skills/reasoning/logic').type, 'leaf');
    assert.equal(node(tree, 'knowledge/science').type, 'folder');
    assert.equal(node(tree, 'knowledge/science/moon').leaf?.description, 'astronomy');
    assert.equal(node(tree, 'knowledge/science/moon').leaf?.hasDocument, true);
    assert.equal(node(tree, 'knowledge/science/moon').leaf?.seedsLine, 5);
    assert.equal(tree.leafCount, 5);
    const totals = tree.totals();
    assert.deepEqual(totals, { leaves: 5, seeds: 18, words: 236, errors: 3, warnings: 0 });
  });

  test('a misnamed leaf file gets a node of its own; files outside a taxonomy are ignored', () => {
    const tree = buildTree([
      { file: `${T}/compositional_skills/a/qna.yaml`, text: skill(5) },
      { file: `${T}/compositional_skills/a/other.yaml`, text: skill(5) },
    ]);
    assert.equal(node(tree, 'compositional_skills/a').leaf?.file, `${T}/compositional_skills/a/qna.yaml`);
    assert.equal(node(tree, 'compositional_skills/a/other.yaml').leaf?.file, `${T}/compositional_skills/a/other.yaml`);
    assert.deepEqual(tree.updateLeaf('/elsewhere/qna.yaml', skill(5)), []);
    assert.equal(tree.leafCount, 2);
  });

  test('an update touches only the leaf and its ancestors; removal prunes empty folders', () => {
    const tree = buildTree(fixture);
    const changed = tree.updateLeaf(`${T}/compositional_skills/writing/freeform/short/qna.yaml`, skill(6, 'Short poems'));
    assert.deepEqual(
      changed.map((n) => n.id),
      [
        'compositional_skills/writing/freeform/short',
        'compositional_skills/writing/freeform',
        'compositional_skills/writing',
        'compositional_skills',
      ],
    );
    assert.deepEqual(node(tree, 'compositional_skills').counts, { leaves: 2, seeds: 11, words: 77, errors: 0, warnings: 0 });
    tree.updateLeaf(`${T}/knowledge/science/moon/qna.yaml`, undefined);
    assert.equal(tree.roots.has('knowledge'), false, 'the kind root goes with its last leaf');
    tree.updateLeaf(`${T}/foundational_skills/reasoning/qna.yaml`, undefined);
    const reasoning = node(tree, 'foundational_skills/reasoning');
    assert.equal(reasoning.type, 'folder', 'a folder that still has a leaf below it stays');
    assert.equal(reasoning.counts.leaves, 1);
    assert.deepEqual(tree.updateLeaf(`${T}/knowledge/science/moon/qna.yaml`, undefined), []);
  });

  test('incremental updates equal a fresh build (random add/change/remove sequences)', () => {
    const files = [
      `${T}/knowledge/a/qna.yaml`,
      `${T}/knowledge/a/b/qna.yaml`,
      `${T}/knowledge/c/qna.yaml`,
      `${T}/compositional_skills/w/freeform/x/qna.yaml`,
      `${T}/compositional_skills/w/freeform/y/qna.yaml`,
      `${T}/compositional_skills/w/freeform/y/z.yaml`,
      `${T}/foundational_skills/qna.yaml`,
      `${T}/foundational_skills/r/s/t/qna.yaml`,
    ];
    const texts = [skill(5), skill(2, 'Two'), knowledge(5), knowledge(1, false), 'version: 3\nseed_examples: [', '', skill(7, 'Seven')];
    const op = fc.record({ file: fc.integer({ min: 0, max: files.length - 1 }), text: fc.option(fc.integer({ min: 0, max: texts.length - 1 })) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const tree = new TaxonomyTree();
        const current = new Map<string, string>();
        for (const o of ops) {
          const text = o.text === null ? undefined : texts[o.text];
          tree.updateLeaf(files[o.file], text);
          if (text === undefined) current.delete(files[o.file]);
          else current.set(files[o.file], text);
        }
        const fresh = buildTree([...current].map(([file, text]) => ({ file, text })));
        assert.deepEqual(snapshot(tree), snapshot(fresh));
      }),
      { numRuns: 150 },
    );
  });
});

function snapshot(tree: TaxonomyTree): unknown {
  const walk = (n: TreeNode): unknown => ({
    id: n.id,
    type: n.type,
    counts: n.counts,
    leaf: n.leaf?.file,
    children: [...n.children.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(walk),
  });
  return tree.kindRoots().map(walk);
}

describe('loading a tree from disk', () => {
  test('reads leaves, attribution and empty folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ts-tree-'));
    try {
      const put = (rel: string, text: string) => {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
      };
      put('knowledge/science/moon/qna.yaml', knowledge(5));
      put('knowledge/science/moon/attribution.txt', 'Title of work: Moon\n');
      put('knowledge/science/sun/qna.yaml', knowledge(5));
      put('compositional_skills/writing/freeform/haiku/qna.yaml', skill(5));
      mkdirSync(join(root, 'compositional_skills/writing/grounded/empty/deeper'), { recursive: true });
      mkdirSync(join(root, 'foundational_skills'), { recursive: true });
      const progress: string[] = [];
      const { tree, emptyFolders } = await loadTaxonomyTree(root, { sliceMs: 0, onProgress: (done, total) => progress.push(`${done}/${total}`) });
      assert.equal(tree.leafCount, 3);
      assert.deepEqual(progress, ['1/3', '2/3', '3/3'], 'a pause after every leaf when slices are 0 ms');
      assert.equal(tree.nodeOfFile(join(root, 'knowledge/science/moon/qna.yaml'))?.leaf?.hasAttribution, true);
      assert.equal(tree.nodeOfFile(join(root, 'knowledge/science/sun/qna.yaml'))?.leaf?.hasAttribution, false);
      assert.equal(tree.nodeOfFile(join(root, 'compositional_skills/writing/freeform/haiku/qna.yaml'))?.leaf?.hasAttribution, undefined);
      assert.deepEqual(emptyFolders, [join(root, 'compositional_skills/writing/grounded'), join(root, 'foundational_skills')]);
      assert.deepEqual(await findEmptyFolders(join(root, 'nowhere')), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('taxonomy view presentation', () => {
  test('labels, counts, icons, tooltips and the status text', async () => {
    const { presentNode, statusText, sortedChildren } = await import('../../extension/views/presentation');
    const tree = buildTree(fixture);
    const comp = presentNode(node(tree, 'compositional_skills'));
    assert.deepEqual(comp, {
      label: 'Compositional skills',
      description: '2 leaves · 8 seeds',
      icon: { id: 'error', color: 'list.errorForeground' },
      tooltip: 'Compositional skills\n2 leaves · 8 seed examples · 56 words\n1 error, 0 warnings',
      collapsible: true,
      contextValue: 'kind',
      opens: undefined,
    });
    assert.deepEqual(presentNode(node(tree, 'knowledge')).icon, { id: 'book' });
    assert.deepEqual(presentNode(node(tree, 'knowledge/science')).icon, { id: 'folder' });
    const haiku = presentNode(node(tree, 'compositional_skills/writing/freeform/haiku'));
    assert.equal(haiku.description, '5 seeds · 35 words');
    assert.deepEqual(haiku.icon, { id: 'pass', color: 'testing.iconPassed' });
    assert.equal(haiku.opens, `${T}/compositional_skills/writing/freeform/haiku/qna.yaml`);
    assert.equal(haiku.collapsible, false);
    assert.equal(haiku.tooltip, 'compositional_skills/writing/freeform/haiku\nWrite haiku\nSchema version 3 · 5 seed examples · 35 words\nNo errors or warnings');
    const reasoning = presentNode(node(tree, 'foundational_skills/reasoning'));
    assert.equal(reasoning.description, '2 leaves · 5 seeds');
    assert.equal(reasoning.collapsible, true);
    assert.equal(reasoning.tooltip.split('\n').at(-1), 'Below: 1 more leaf');
    assert.deepEqual(
      sortedChildren(node(tree, 'compositional_skills/writing/freeform')).map((n) => n.name),
      ['haiku', 'short'],
    );
    assert.equal(statusText(tree.totals()), '$(error) taxonomy: 3 errors, 0 warnings');
    assert.equal(statusText({ leaves: 1, seeds: 5, words: 9, errors: 0, warnings: 2 }), '$(check) taxonomy: 0 errors, 2 warnings');
  });

  test('leaves changed against the git base: a clean one shows the change, one with errors keeps its error icon', async () => {
    const { presentChangedLeaf, presentNode } = await import('../../extension/views/presentation');
    const tree = buildTree(fixture);
    const haikuNode = node(tree, 'compositional_skills/writing/freeform/haiku');
    const haiku = presentNode(haikuNode, { kind: 'modified', base: 'origin/main' });
    assert.equal(haiku.description, '5 seeds · 35 words · modified');
    assert.deepEqual(haiku.icon, { id: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' });
    assert.equal(haiku.tooltip.split('\n').at(-1), 'Modified since origin/main');
    assert.deepEqual(presentNode(haikuNode, { kind: 'untracked', base: 'main' }).icon, { id: 'diff-added', color: 'gitDecoration.untrackedResourceForeground' });
    const broken = [...tree.leaves()].find((l) => l.errors > 0)!;
    const brokenNode = tree.nodeOfFile(broken.file)!;
    assert.deepEqual(presentNode(brokenNode, { kind: 'added', base: 'main' }).icon, { id: 'error', color: 'list.errorForeground' });
    // A folder is never marked itself: its leaves are.
    assert.equal(presentNode(node(tree, 'compositional_skills'), { kind: 'added', base: 'main' }).description, '2 leaves · 8 seeds');

    const row = presentChangedLeaf({ file: haikuNode.leaf!.file, path: 'compositional_skills/writing/freeform/haiku/qna.yaml', change: 'added' }, 'main', haikuNode);
    assert.deepEqual(row, {
      label: 'compositional_skills/writing/freeform/haiku',
      description: 'added · 5 seeds',
      tooltip: 'compositional_skills/writing/freeform/haiku/qna.yaml\nAdded since main\nNo errors or warnings',
      icon: { id: 'diff-added', color: 'gitDecoration.addedResourceForeground' },
    });
    const brokenRow = presentChangedLeaf({ file: broken.file, path: 'x/qna.yaml', change: 'modified' }, 'main', brokenNode);
    assert.deepEqual(brokenRow.icon, { id: 'error', color: 'list.errorForeground' });
    assert.equal(presentChangedLeaf({ file: '/nowhere/qna.yaml', path: 'knowledge/new/qna.yaml', change: 'untracked' }, 'main', undefined).description, 'untracked');
  });
});

test('the views ids and welcome condition match package.json', async () => {
  const ids = await import('../../extension/views/ids');
  const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.viewsContainers.activitybar.map((c: { id: string }) => c.id), [ids.viewContainerId]);
  const { jobsViewId } = await import('../../extension/jobs/ids');
  assert.deepEqual(pkg.contributes.views[ids.viewContainerId].map((v: { id: string }) => v.id), [ids.taxonomyViewId, ids.gapsViewId, ids.changedViewId, jobsViewId, 'taxonomyStudioChat.view']);
  assert.deepEqual(
    pkg.contributes.viewsWelcome.map((w: { view: string; when: string }) => [w.view, w.when]),
    [[ids.taxonomyViewId, `${ids.hasTaxonomyKey} == false`]],
  );
  // The welcome view's buttons are links on lines of their own, to commands the extension contributes.
  const welcome: string = pkg.contributes.viewsWelcome[0].contents;
  const buttons = welcome.split('\n').filter((l) => /^\[[^\]]+\]\(command:[^)]+\)$/.test(l));
  assert.deepEqual(buttons, ['[Create Taxonomy](command:taxonomyStudio.createTaxonomy)', '[Open Example](command:taxonomyStudio.openExample)']);
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command);
  for (const b of buttons) assert.ok(contributed.includes(/command:([^)]+)/.exec(b)![1]));
});
