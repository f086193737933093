// The example taxonomy is what every later part of the project (SDG, training, the tokenizer the tests train, the
// README's first command) is exercised on, so its shape and its validity are pinned down here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { isPlainObject, parseLeafBytes, type ParsedLeaf } from '../../engine/taxonomy/leaf';
import { seedExamples } from '../../engine/taxonomy/seeds';
import { countWords } from '../../engine/taxonomy/words';
import { defaultLimits } from '../../engine/taxonomy/limits';
import { normalizeQuestion } from '../../engine/taxonomy/questionIndex';
import { checkTaxonomyAll } from '../../engine/taxonomy/taxonomy';
import { buildDocsRepo, docsRepoDir, EXPECTED_COMMIT, repoRoot } from '../../scripts/make-example-docs-repo';

const taxonomyRoot = join(repoRoot, 'examples', 'taxonomy');
const scriptPath = join(repoRoot, 'scripts', 'make-example-docs-repo.ts');

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out.sort();
}

const allFiles = walk(taxonomyRoot);
const leaves: ParsedLeaf[] = allFiles
  .filter((f) => f.endsWith('qna.yaml'))
  .map((f) => parseLeafBytes(readFileSync(f), f));
const rel = (leaf: ParsedLeaf): string => relative(taxonomyRoot, leaf.file!).split('\\').join('/');
const knowledge = leaves.filter((l) => l.kind === 'knowledge');
const compositional = leaves.filter((l) => l.kind === 'compositional_skills');
const segments = (leaf: ParsedLeaf): string[] => (leaf.location.leafPath ?? '').split('/');
const grounded = compositional.filter((l) => segments(l).includes('grounded'));
const freeform = compositional.filter((l) => segments(l).includes('freeform'));

function value(leaf: ParsedLeaf): Record<string, unknown> {
  assert.ok(isPlainObject(leaf.value), `${rel(leaf)}: top level is not a mapping`);
  return leaf.value;
}

test('the example has at least 12 leaves covering every kind', () => {
  assert.ok(leaves.length >= 12, `only ${leaves.length} leaves`);
  assert.deepEqual([...new Set(leaves.map((l) => l.kind))].sort(), ['compositional_skills', 'foundational_skills', 'knowledge']);
  assert.ok(knowledge.length >= 4, `${knowledge.length} knowledge leaves`);
  assert.ok(leaves.filter((l) => l.kind === 'foundational_skills').length >= 2);
  assert.ok(grounded.length >= 3, `${grounded.length} grounded leaves`);
  assert.ok(freeform.length >= 3, `${freeform.length} freeform leaves`);
  assert.equal(grounded.length + freeform.length, compositional.length, 'every compositional leaf is grounded or freeform');
  for (const leaf of leaves) assert.equal(leaf.location.root, taxonomyRoot);
});

test('every file in the taxonomy is a qna.yaml or an attribution.txt beside a knowledge leaf', () => {
  for (const f of allFiles) {
    const name = f.slice(dirname(f).length + 1);
    assert.ok(name === 'qna.yaml' || name === 'attribution.txt', `unexpected file ${relative(taxonomyRoot, f)}`);
    if (name === 'attribution.txt') assert.ok(existsSync(join(dirname(f), 'qna.yaml')));
  }
});

test('every leaf parses without findings and declares version 3', () => {
  for (const leaf of leaves) {
    assert.equal(leaf.binary, false, rel(leaf));
    assert.deepEqual(leaf.parseFindings, [], rel(leaf));
    assert.equal(leaf.versionDeclared, true, rel(leaf));
    assert.equal(value(leaf).version, 3, rel(leaf));
    assert.equal(typeof value(leaf).created_by, 'string', rel(leaf));
    for (const seg of segments(leaf)) assert.match(seg, /^[a-z0-9_]+$/, `${rel(leaf)}: folder name ${seg}`);
  }
});

test('leaves are written in the house style: LF, final newline, no tabs or trailing spaces, 2-space indents', () => {
  let commented = 0;
  for (const leaf of leaves) {
    const text = readFileSync(leaf.file!, 'utf8');
    assert.ok(!text.startsWith('\uFEFF'), `${rel(leaf)}: BOM`);
    assert.ok(!text.includes('\r'), `${rel(leaf)}: CR`);
    assert.ok(!text.includes('\t'), `${rel(leaf)}: tab`);
    assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${rel(leaf)}: must end with exactly one newline`);
    text.split('\n').forEach((line, i) => {
      assert.doesNotMatch(line, /\s$/, `${rel(leaf)}:${i + 1}: trailing space`);
      assert.equal((/^ */.exec(line)![0].length) % 2, 0, `${rel(leaf)}:${i + 1}: indent not a multiple of 2`);
    });
    // Sequences sit under their key, indented ("  - "), as ilab's yamllint config expects consistently.
    assert.doesNotMatch(text, /^seed_examples:\n- /m, `${rel(leaf)}: seed list not indented`);
    if (/^\s*#/m.test(text)) commented++;
  }
  assert.ok(commented >= 2, 'a few leaves carry comments, so formatting has comments to keep');
});

test('seed counts and word limits are within the reviewers\' limits', () => {
  for (const leaf of leaves) {
    const seeds = seedExamples(leaf);
    assert.ok(seeds.length >= defaultLimits.minSeedExamples, `${rel(leaf)}: ${seeds.length} seeds`);
    let total = countWords(String(value(leaf).task_description ?? ''));
    for (const seed of seeds) {
      const where = `${rel(leaf)} seed ${seed.index + 1}`;
      if (leaf.kind === 'knowledge') {
        assert.ok(seed.context, `${where}: no context`);
        assert.ok(seed.qas.length >= defaultLimits.minQaPerContext, `${where}: ${seed.qas.length} QAs`);
        assert.ok(countWords(seed.context.value) <= defaultLimits.maxContextWords, `${where}: context too long`);
      } else {
        assert.equal(seed.qas.length, 1, where);
      }
      total += countWords(seed.context?.value ?? '');
      for (const qa of seed.qas) {
        assert.ok(qa.question && qa.answer, `${where}: question and answer`);
        const words = countWords(qa.question.value) + countWords(qa.answer.value);
        assert.ok(words <= defaultLimits.maxQaWords, `${where}: QA of ${words} words`);
        total += words;
      }
    }
    // "Well under" the skill limit, so edits in tests that add a seed do not tip a leaf over it.
    if (leaf.kind !== 'knowledge') assert.ok(total <= defaultLimits.maxSkillWords * 0.75, `${rel(leaf)}: ${total} words`);
  }
});

test('no question appears twice anywhere in the taxonomy', () => {
  const seen = new Map<string, string>();
  for (const leaf of leaves) {
    for (const seed of seedExamples(leaf)) {
      for (const qa of seed.qas) {
        const key = normalizeQuestion(qa.question!.value);
        assert.ok(!seen.has(key), `"${qa.question!.value.trim()}" in ${rel(leaf)} and ${seen.get(key)}`);
        seen.set(key, rel(leaf));
      }
    }
  }
  assert.ok(seen.size >= 12 * 5);
});

const stopWords = new Set('that this with from they have been were what when which their there than then into also does each only'.split(' '));
const contentWords = (text: string): Set<string> =>
  new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length >= 4 && !stopWords.has(w)));

test('grounded seeds all have contexts, freeform and foundational seeds none, and answers use their context', () => {
  for (const leaf of grounded) {
    for (const seed of seedExamples(leaf)) assert.ok(seed.context, `${rel(leaf)} seed ${seed.index + 1} has no context`);
  }
  for (const leaf of [...freeform, ...leaves.filter((l) => l.kind === 'foundational_skills')]) {
    for (const seed of seedExamples(leaf)) assert.equal(seed.context, undefined, `${rel(leaf)} seed ${seed.index + 1}`);
  }
  for (const leaf of [...knowledge, ...grounded]) {
    for (const seed of seedExamples(leaf)) {
      const ctx = contentWords(seed.context!.value);
      for (const qa of seed.qas) {
        const shared = [...contentWords(qa.answer!.value)].filter((w) => ctx.has(w));
        assert.ok(shared.length >= 2, `${rel(leaf)}: answer to "${qa.question!.value.trim()}" barely uses its context`);
      }
    }
  }
});

test('knowledge leaves have an attribution.txt with every field, naming the documents\' commit', () => {
  const fields = ['Title of work', 'Link to work', 'Revision', 'License of the work', 'Creator names'];
  for (const leaf of knowledge) {
    const file = join(dirname(leaf.file!), 'attribution.txt');
    assert.ok(existsSync(file), `${rel(leaf)}: attribution.txt missing`);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n') && !text.includes('\r'));
    const lines = text.split('\n');
    for (const field of fields) {
      const line = lines.find((l) => l.startsWith(`${field}:`));
      assert.ok(line && line.slice(field.length + 1).trim(), `${rel(leaf)}: attribution.txt lacks "${field}:"`);
    }
    assert.ok(lines.includes(`Revision: ${EXPECTED_COMMIT}`), `${rel(leaf)}: attribution.txt Revision`);
  }
});

function runScript(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', scriptPath, ...args], { cwd: repoRoot, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the documents repository script makes the expected commit from scratch, whatever the user\'s git config says', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'docs-repo-'));
  try {
    // A hostile global configuration: signing on, CRLF conversion, another identity, a template with a failing hook.
    const home = join(tmp, 'home');
    const hooks = join(tmp, 'hooks');
    for (const d of [home, hooks]) mkdirSync(d, { recursive: true });
    writeFileSync(join(hooks, 'pre-commit'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    writeFileSync(
      join(home, '.gitconfig'),
      `[user]\n\tname = Someone Else\n\temail = else@example.com\n[commit]\n\tgpgsign = true\n[core]\n\tautocrlf = true\n\thooksPath = ${hooks}\n[init]\n\tdefaultBranch = trunk\n`,
    );
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
    const out = join(tmp, 'repo');
    const first = runScript(['--out', out], env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim(), EXPECTED_COMMIT);
    assert.match(first.stderr, /^built /);
    const git = (...args: string[]): string => execFileSync('git', ['-C', out, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } }).trim();
    assert.equal(git('rev-parse', 'HEAD'), EXPECTED_COMMIT);
    assert.equal(git('rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    assert.equal(git('rev-list', '--count', 'HEAD'), '1');
    assert.equal(git('status', '--porcelain'), '');

    // Idempotent: a second run finds it up to date and changes nothing.
    const second = runScript(['--out', out], env);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout.trim(), EXPECTED_COMMIT);
    assert.match(second.stderr, /is up to date/);

    // A stray file in the work tree is not the expected repository any more: it is rebuilt.
    writeFileSync(join(out, 'stray.md'), 'x\n');
    const third = runScript(['--out', out], env);
    assert.equal(third.status, 0, third.stderr);
    assert.match(third.stderr, /^built /);
    assert.equal(existsSync(join(out, 'stray.md')), false);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the script fails loudly, naming what to update, when the documents no longer give the expected commit', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'docs-repo-'));
  try {
    const docs = join(tmp, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'changed.md'), '# A changed document\n');
    const r = runScript(['--docs', docs, '--out', join(tmp, 'repo')]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const actual = /built at commit ([0-9a-f]{40})/.exec(r.stderr)?.[1];
    assert.ok(actual && actual !== EXPECTED_COMMIT, r.stderr);
    assert.equal(buildDocsRepo(join(tmp, 'repo'), docs, actual).rebuilt, false, 'the repository was made at that commit');
    assert.ok(r.stderr.includes(`expect ${EXPECTED_COMMIT}`));
    assert.match(r.stderr, /EXPECTED_COMMIT \(engine\/examples\/docsRepo\.ts\)/);
    assert.match(r.stderr, /document\.commit/);

    const usage = runScript(['--bogus']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: make-example-docs-repo/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('every knowledge leaf points at the documents repository, its commit, and files that exist there', () => {
  const built = buildDocsRepo();
  assert.equal(built.commit, EXPECTED_COMMIT);
  const files = execFileSync('git', ['-C', docsRepoDir, 'ls-tree', '-r', '--name-only', EXPECTED_COMMIT], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.ok(files.length >= 5);
  for (const leaf of knowledge) {
    const doc = value(leaf).document as { repo: string; commit: string; patterns: string[] };
    assert.equal(resolve(taxonomyRoot, doc.repo), docsRepoDir, `${rel(leaf)}: document.repo`);
    assert.equal(doc.commit, EXPECTED_COMMIT, `${rel(leaf)}: document.commit`);
    const matched = new Set<string>();
    for (const pattern of doc.patterns) {
      const isMatch = picomatch(pattern);
      const hits = files.filter((f) => isMatch(f));
      assert.ok(hits.length > 0, `${rel(leaf)}: pattern ${pattern} matches nothing`);
      hits.forEach((h) => matched.add(h));
    }
    // Contexts are excerpts of the very documents the leaf names, so SDG's chunks and the seeds agree.
    const text = [...matched].map((f) => execFileSync('git', ['-C', docsRepoDir, 'show', `${EXPECTED_COMMIT}:${f}`], { encoding: 'utf8' })).join('\n');
    for (const seed of seedExamples(leaf)) {
      for (const paragraph of seed.context!.value.trim().split('\n\n')) {
        assert.ok(text.includes(paragraph), `${rel(leaf)} seed ${seed.index + 1}: context is not an excerpt of ${[...matched].join(', ')}`);
      }
    }
  }
});

test('the longest document is long enough to need chunking', () => {
  const docs = walk(join(repoRoot, 'examples', 'knowledge-docs')).filter((f) => f.endsWith('.md'));
  assert.ok(docs.length >= 4);
  const longest = Math.max(...docs.map((f) => countWords(readFileSync(f, 'utf8'))));
  assert.ok(longest >= 1200, `longest document has ${longest} words`);
  for (const f of docs) assert.match(readFileSync(f, 'utf8'), /^# \S/m, `${f} has a heading`);
});

// ---- The broken copies under test/fixtures/broken ---------------------------------------------------------------

const brokenRoot = join(repoRoot, 'test', 'fixtures', 'broken');

interface BrokenCase {
  folder: string;
  expected: string;
  line: number;
  also: string[];
}

function brokenCases(): BrokenCase[] {
  const rows = readFileSync(join(brokenRoot, 'CASES.md'), 'utf8')
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  return rows.map((cells) => ({
    folder: cells[0].replace(/`/g, ''),
    expected: cells[3].replace(/`/g, ''),
    line: Number(cells[4]),
    also: cells[5].match(/QNA\d{3}/g) ?? [],
  }));
}

function brokenLeafFile(folder: string): string {
  const files = walk(join(brokenRoot, folder)).filter((f) => /[\\/]qna\.ya?ml$/.test(f));
  assert.equal(files.length, 1, `${folder} holds one leaf`);
  return files[0];
}

test('CASES.md lists every broken fixture folder, each holding one leaf in a taxonomy-shaped path', () => {
  const cases = brokenCases();
  const folders = readdirSync(brokenRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  assert.deepEqual(cases.map((c) => c.folder).sort(), folders);
  assert.ok(cases.length >= 30, `${cases.length} cases`);
  for (const c of cases) {
    assert.match(c.expected, /^QNA\d{3}$/, c.folder);
    assert.ok(Number.isInteger(c.line) && c.line >= 1, `${c.folder}: line`);
    const file = brokenLeafFile(c.folder);
    assert.match(relative(join(brokenRoot, c.folder), file), /^(knowledge|compositional_skills)[\\/]/, c.folder);
  }
});

test('broken fixtures keep the very bytes that make them broken', () => {
  const bytes = (folder: string): Buffer => readFileSync(brokenLeafFile(folder));
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const crlf = bytes('crlf_line_endings').toString('latin1');
  assert.ok(crlf.includes('\r\n') && !/[^\r]\n/.test(crlf), 'every line of crlf_line_endings ends with CR LF');
  assert.deepEqual([...bytes('byte_order_mark').subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const latin1 = bytes('non_utf8');
  assert.ok(latin1.includes(0xe9));
  assert.throws(() => utf8.decode(latin1));
  assert.ok(bytes('binary_file').includes(0));
  assert.equal(bytes('empty_file').length, 0);
  const trailing = bytes('trailing_spaces').toString('utf8').split('\n');
  assert.match(trailing[3], / $/);
  assert.match(trailing[6], / $/);
  assert.ok(bytes('tabs').includes(0x09));

  const special = new Set(['crlf_line_endings', 'byte_order_mark', 'non_utf8', 'binary_file', 'empty_file', 'trailing_spaces', 'tabs']);
  for (const c of brokenCases()) {
    if (special.has(c.folder)) continue;
    const text = utf8.decode(bytes(c.folder));
    assert.ok(!text.includes('\r') && !text.includes('\t') && !/ \n/.test(text), `${c.folder}: only its own defect`);
    assert.match(text, /^# Broken on purpose: /, `${c.folder}: starts with a comment saying what is wrong`);
    assert.ok(text.includes(`# Expected: ${c.expected}.`), `${c.folder}: its comment names ${c.expected}`);
  }
});

test('check reports exactly the expected problem in every broken fixture', async () => {
  buildDocsRepo();
  const problems: string[] = [];
  for (const c of brokenCases()) {
    const reports = await checkTaxonomyAll([join(brokenRoot, c.folder)]);
    const findings = reports.flatMap((r) => r.findings);
    const codes = [...new Set(findings.map((f) => f.code))].sort();
    const want = [...new Set([c.expected, ...c.also])].sort();
    const first = findings.find((f) => f.code === c.expected);
    if (codes.join() !== want.join() || first?.line !== c.line) {
      problems.push(`${c.folder}: want ${c.expected}@${c.line}${c.also.length ? ` + ${c.also.join()}` : ''}, got ${findings.map((f) => `${f.code}@${f.line}`).join(' ') || 'nothing'}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every check, including attribution and the document repository, finds nothing in the example taxonomy', async () => {
  buildDocsRepo();
  const reports = await checkTaxonomyAll([taxonomyRoot]);
  assert.equal(reports.length, leaves.length);
  const findings = reports.flatMap((r) => r.findings.map((f) => `${relative(taxonomyRoot, r.file)}:${f.line}:${f.column} ${f.code} ${f.message}`));
  assert.deepEqual(findings, []);
});

describe('taxonomy-studio example', () => {
  test('writes the taxonomy beside its document repository, checks clean with documents resolved, and never overwrites', async () => {
    const { runCli } = await import('../../engine/cli/run');
    const tmp = mkdtempSync(join(tmpdir(), 'ts-example-'));
    const out: string[] = [];
    const err: string[] = [];
    const ctx = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd: tmp, env: process.env };
    try {
      assert.equal(await runCli(['example', '--out', 'try'], ctx), 0, err.join(''));
      assert.equal(out.join('').trim(), join(tmp, 'try', 'taxonomy'));
      assert.equal(execFileSync('git', ['-C', join(tmp, 'try', 'knowledge-docs-repo'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), EXPECTED_COMMIT);
      out.length = 0;
      err.length = 0;
      assert.equal(await runCli(['check', 'try/taxonomy'], ctx), 0);
      assert.equal(out.join(''), '');
      assert.equal(err.join('').trim(), 'checked 12 files: 0 errors, 0 warnings, 0 info');
      assert.equal(await runCli(['example', '--out', 'try'], ctx), 1);
      assert.match(err.join(''), /try already exists and is not empty; choose a new folder/);
      assert.deepEqual(readdirSync(tmp), ['try'], 'no staging folder left behind');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
