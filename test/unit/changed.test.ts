// Changed leaves against a git base: committed, staged, unstaged and untracked leaves under the root, nothing else.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changedLeaves, describeChangedResult } from '../../engine/taxonomy/changed';
import { runCli } from '../../engine/cli/run';
import { git } from './helpers/git';

function write(root: string, path: string, text = 'version: 3\n'): void {
  const file = join(root, ...path.split('/'));
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

describe('changedLeaves', () => {
  let dir: string;
  let root: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ts-changed-'));
    // The taxonomy lives in a subfolder of the repository, to prove paths are mapped to the root.
    root = join(dir, 'taxo');
    git(dir, 'init', '-q', '-b', 'main');
    write(root, 'knowledge/astronomy/stars/qna.yaml');
    write(root, 'compositional_skills/writing/poems/qna.yaml');
    write(root, 'compositional_skills/writing/gone/qna.yaml');
    write(dir, 'outside/knowledge/x/qna.yaml');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'base');
    git(dir, 'checkout', '-q', '-b', 'topic');
    // committed on the branch
    write(root, 'knowledge/astronomy/planets/qna.yaml');
    write(root, 'knowledge/astronomy/stars/qna.yaml', 'version: 3\ncreated_by: me\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'topic work');
    // staged, unstaged, deleted, untracked, a non-leaf file, and a leaf outside the root
    write(root, 'compositional_skills/writing/haiku/qna.yaml');
    git(dir, 'add', '.');
    write(root, 'compositional_skills/writing/poems/qna.yaml', 'version: 3\ntask_description: x\n');
    unlinkSync(join(root, 'compositional_skills/writing/gone/qna.yaml'));
    write(root, 'foundational_skills/reasoning/new/qna.yaml');
    write(root, 'knowledge/astronomy/stars/attribution.txt', 'Title: x\n');
    write(dir, 'outside/knowledge/x/qna.yaml', 'version: 3\nchanged: true\n');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('lists added, modified and untracked leaves under the root, sorted, and not deleted ones', async () => {
    const result = await changedLeaves(root, { base: 'main' });
    assert.equal(result.status, 'ok');
    if (result.status !== 'ok') return;
    assert.deepEqual(
      result.leaves.map((l) => [l.path, l.change]),
      [
        ['compositional_skills/writing/haiku/qna.yaml', 'added'],
        ['compositional_skills/writing/poems/qna.yaml', 'modified'],
        ['foundational_skills/reasoning/new/qna.yaml', 'untracked'],
        ['knowledge/astronomy/planets/qna.yaml', 'added'],
        ['knowledge/astronomy/stars/qna.yaml', 'modified'],
      ],
    );
    assert.equal(result.leaves[0].file, join(root, 'compositional_skills', 'writing', 'haiku', 'qna.yaml'));
    assert.equal(result.mergeBase, git(dir, 'rev-parse', 'main'));
    assert.equal(describeChangedResult(result), '5 leaves changed against main');
  });

  test('compares with the merge base: commits on the base after the fork are not this branch\'s changes', async () => {
    git(dir, 'stash', '-u', '-q');
    try {
      git(dir, 'checkout', '-q', 'main');
      write(root, 'knowledge/astronomy/comets/qna.yaml');
      git(dir, 'add', '.');
      git(dir, 'commit', '-q', '-m', 'main moves on');
      git(dir, 'checkout', '-q', 'topic');
      const result = await changedLeaves(root, { base: 'main' });
      assert.equal(result.status, 'ok');
      if (result.status !== 'ok') return;
      assert.deepEqual(result.leaves.map((l) => l.path), ['knowledge/astronomy/planets/qna.yaml', 'knowledge/astronomy/stars/qna.yaml']);
    } finally {
      git(dir, 'stash', 'pop', '-q');
    }
  });

  test('the default base falls back from origin/main to main, and says so', async () => {
    // Named or left out, the default is the same guess (an editor setting holds it explicitly).
    assert.equal(((await changedLeaves(root, { base: 'origin/main' })) as { base: string }).base, 'main');
    const result = await changedLeaves(root);
    assert.equal(result.status, 'ok');
    if (result.status !== 'ok') return;
    assert.equal(result.base, 'main');
    assert.equal(result.fellBackFrom, 'origin/main');
    assert.match(describeChangedResult(result), /against main \('origin\/main' does not exist here\)/);
  });

  test('a base that does not exist is named, with the setting to change', async () => {
    const result = await changedLeaves(root, { base: 'release-9' });
    assert.equal(result.status, 'noBase');
    assert.match(describeChangedResult(result), /'release-9' is not a branch, tag or commit in .*taxonomyStudio\.gitBase/);
  });

  test('a root reached through a symlink answers with the symlinked paths', async () => {
    const link = join(dir, '..', `${join(dir).split('/').pop()}-link`);
    symlinkSync(root, link);
    try {
      const result = await changedLeaves(link, { base: 'main' });
      assert.equal(result.status, 'ok');
      if (result.status !== 'ok') return;
      assert.equal(result.leaves.length, 5);
      assert.ok(result.leaves.every((l) => l.file.startsWith(link + '/')), result.leaves[0].file);
    } finally {
      unlinkSync(link);
    }
  });

  test('a folder outside git is not an error: the reason says why the list is empty', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'ts-plain-'));
    try {
      write(plain, 'knowledge/a/qna.yaml');
      const result = await changedLeaves(plain, {});
      assert.equal(result.status, 'notGit');
      assert.match(describeChangedResult(result), /is not in a git repository/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  test('a missing git binary is reported as such', async () => {
    const result = await changedLeaves(root, { gitPath: '/nonexistent/git' });
    assert.equal(result.status, 'gitMissing');
  });

  test('`taxonomy-studio diff` prints the list, and exits 1 with the reason for a bad base', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd: root, env: process.env };
    assert.equal(await runCli(['diff', '--base', 'main'], ctx), 0);
    assert.deepEqual(out.join('').trimEnd().split('\n'), [
      'added     compositional_skills/writing/haiku/qna.yaml',
      'modified  compositional_skills/writing/poems/qna.yaml',
      'untracked foundational_skills/reasoning/new/qna.yaml',
      'added     knowledge/astronomy/planets/qna.yaml',
      'modified  knowledge/astronomy/stars/qna.yaml',
    ]);
    out.length = 0;
    assert.equal(await runCli(['diff', '--base', 'main', '--json'], ctx), 0);
    const json = JSON.parse(out.join('')) as { base: string; leaves: { path: string }[] };
    assert.equal(json.base, 'main');
    assert.equal(json.leaves.length, 5);
    assert.equal(await runCli(['diff', '--base', 'nope'], ctx), 1);
    assert.match(err.join(''), /taxonomy-studio diff: 'nope' is not a branch/);
  });
});
