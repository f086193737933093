// The generate command end to end on the example taxonomy (skills freeform and grounded, knowledge from the documents
// repository) with a remote teacher: test/support/openaiServer.ts answering each SDG step by schema, with scripted low
// scores, unfaithful and irrelevant answers, garbage instead of JSON, and copies of seed questions. The report must add
// up to exactly what the server decided; the files must be InstructLab's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import type { RunReport } from '../../../engine/sdg/report';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';
import { copyExample, newTally, scriptedTeacher, type Tally } from './generateSupport';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd(), env: { ...process.env, TERM: 'dumb' } });
  return { code, stdout, stderr };
}

const perSeed = 2;
let work: { dir: string; taxonomy: string };
let server: OpenAIServer;
let tally: Tally;

before(async () => {
  work = copyExample('sdg-generate-');
  tally = newTally();
  server = await startOpenAIServer({ handler: scriptedTeacher(tally), models: [{ id: 'test-teacher', contextSize: 8192 }] });
});

after(async () => {
  await server?.close();
  rmSync(work.dir, { recursive: true, force: true });
});

function jsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('generate with a remote teacher', () => {
  test('every leaf of the example taxonomy: exact counts, drop reasons, files and report', async () => {
    const out = join(work.dir, 'run');
    const r = await cli(['generate', work.taxonomy, '--teacher', server.url, '--out', out, '--per-seed', String(perSeed), '--parallel', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /teacher http:\/\/127\.0\.0\.1:\d+\/v1: test-teacher answers, context 8192 tokens/);
    assert.match(r.stderr, /estimate: 120 units left, about .* teacher tokens \(.* in, .* out\), from 4 calibration units in/);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    assert.equal(report.leaves.length, 12);
    const byPipeline = (p: string) => report.leaves.filter((l) => l.pipeline === p).length;
    assert.deepEqual([byPipeline('knowledge'), byPipeline('grounded_skill'), byPipeline('freeform_skill')], [4, 3, 5]);
    let generated = 0;
    const dropped: Record<string, number> = {};
    for (const leaf of report.leaves) {
      assert.equal(leaf.skipped, undefined, leaf.leaf);
      const seeds = leaf.leaf.startsWith('foundational_skills/') ? 6 : 5;
      assert.equal(leaf.generated, perSeed * seeds, `${leaf.leaf}: ${seeds} seeds × ${perSeed}`);
      const drops = Object.values(leaf.dropped).reduce((a, b) => a + b, 0);
      assert.equal(leaf.kept + drops, leaf.generated, `${leaf.leaf}: kept + dropped = generated`);
      assert.ok(leaf.teacher.calls >= leaf.generated * 3 - drops * 3, leaf.leaf);
      generated += leaf.generated;
      for (const [k, v] of Object.entries(leaf.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
      // The files the leaf's report names exist and hold exactly its kept samples.
      const lines = jsonl(join(out, leaf.files[0]));
      assert.equal(lines.length, leaf.kept, leaf.files[0]);
      if (leaf.pipeline === 'knowledge') {
        assert.match(leaf.files[0], /^node_datasets_\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d\/knowledge_.*_p07\.jsonl$/);
        assert.equal(jsonl(join(out, leaf.files[1])).length, 2 * leaf.kept, 'p10: RAFT lines then the p07 lines');
        assert.ok(leaf.chunks! > 0 && leaf.documents! > 0);
        for (const l of lines) assert.equal(l.unmask, true);
      } else {
        for (const l of lines) {
          const m = l.messages as { role: string; content: string }[];
          assert.deepEqual(m.map((x) => x.role), ['system', 'user', 'assistant']);
          if (leaf.pipeline === 'grounded_skill') assert.match(m[1].content, /^Context #\d+\. .*\n\nQuestion #\d+/s);
          else assert.match(m[1].content, /^Question #\d+: /);
        }
      }
    }
    assert.equal(generated, 124);
    // What the server decided is exactly what the report counts; each copy of a seed question is an exact duplicate.
    assert.ok(tally.seedCopies > 0 && Object.keys(tally.drops).length === 5, JSON.stringify(tally));
    assert.deepEqual(dropped, { ...tally.drops, 'exact duplicate': tally.seedCopies });

    // The ledger has every unit once; the mixed files and recipes are there.
    const ledger = readFileSync(join(out, 'ledger.jsonl'), 'utf8').trim().split('\n');
    assert.equal(ledger.length, 124);
    assert.equal(new Set(ledger.map((l) => (JSON.parse(l) as { key: string }).key)).size, 124);
    const files = readdirSync(out).sort();
    const mixed = files.filter((f) => /^(knowledge|skills)_(train_msgs|recipe)_.*\.(jsonl|yaml)$/.test(f));
    assert.equal(mixed.length, 4, files.join(' '));
    const kept = (p: string) => report.leaves.filter((l) => l.pipeline === p).reduce((n, l) => n + l.kept, 0);
    const knowledgeMixed = jsonl(join(out, files.find((f) => f.startsWith('knowledge_train_msgs_'))!));
    assert.equal(knowledgeMixed.length, kept('knowledge'));
    const skillLeavesWithData = report.leaves.filter((l) => l.pipeline !== 'knowledge' && l.kept > 0).length;
    const skillsMixed = jsonl(join(out, files.find((f) => f.startsWith('skills_train_msgs_'))!));
    assert.equal(skillsMixed.length, 30 * skillLeavesWithData + 2 * kept('knowledge'), '30 per skill leaf + the p10 files');
    assert.deepEqual(report.mixed?.map((m) => m.lines), [knowledgeMixed.length, skillsMixed.length]);

    const outcome = JSON.parse(r.stdout) as { status: string; summary: { generated: number; kept: number } };
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.summary.generated, 124);
    assert.equal(outcome.summary.kept, kept('knowledge') + kept('grounded_skill') + kept('freeform_skill'));
  });

  test('a leaf with errors is skipped with its reason, or fails the run with --strict', async () => {
    const broken = join(work.taxonomy, 'compositional_skills/writing/freeform/broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'qna.yaml'), 'version: 3\ncreated_by: tester\ntask_description: Broken.\nseed_examples:\n  - question: Only one?\n    answer: Yes.\n');
    try {
      const out = join(work.dir, 'run-skip');
      const leafArg = join(work.taxonomy, 'compositional_skills/writing/freeform');
      const r = await cli(['generate', work.taxonomy, '--leaf', leafArg, '--teacher', server.url, '--out', out, '--per-seed', '1', '--calibrate', '0']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
      assert.deepEqual(report.leaves.map((l) => l.leaf), [
        'compositional_skills/writing/freeform/broken',
        'compositional_skills/writing/freeform/event_announcements',
        'compositional_skills/writing/freeform/plain_language_explanations',
        'compositional_skills/writing/freeform/poetry/night_sky_haiku',
      ]);
      assert.match(report.leaves[0].skipped!, /^\d+ errors?, first: 4:1 QNA\d+ /);
      assert.match(r.stderr, /warning: skipping compositional_skills\/writing\/freeform\/broken: /);

      const strict = await cli(['generate', work.taxonomy, '--leaf', leafArg, '--teacher', server.url, '--out', join(work.dir, 'run-strict'), '--strict']);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /taxonomy-studio generate: .*broken\/qna\.yaml: \d+ errors?, first: .*--strict stops the run/);
      assert.equal(existsSync(join(work.dir, 'run-strict', 'report.json')), false);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  test('--preview prints a handful of samples for one leaf, as JSON or markdown, writing no run folder', async () => {
    const leaf = join(work.taxonomy, 'compositional_skills/writing/freeform/event_announcements');
    const r = await cli(['generate', work.taxonomy, '--teacher', server.url, '--preview', leaf, '--count', '6', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { leaf: string; pipeline: string; tried: number; samples: { unit: number; question: string; answer: string }[]; dropped: Record<string, number> };
    assert.equal(p.leaf, 'compositional_skills/writing/freeform/event_announcements');
    assert.equal(p.pipeline, 'freeform_skill');
    assert.equal(p.tried, 6);
    assert.equal(p.samples.length + Object.values(p.dropped).reduce((a, b) => a + b, 0), 6);
    assert.ok(p.samples.length > 0);
    for (const s of p.samples) assert.match(s.question, /^Question #\d+: /);
    const md = await cli(['generate', work.taxonomy, '--teacher', server.url, '--preview', leaf, '--count', '6']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, new RegExp(`^# Preview: compositional_skills/writing/freeform/event_announcements\n\nfreeform_skill: ${p.samples.length} of 6 tried passed the filters\.\n\n## Sample 1\n\n\\*\\*Question\\*\\*\n\n> Question #`));
    const gone = await startOpenAIServer();
    await gone.close();
    const bad = await cli(['generate', work.taxonomy, '--teacher', gone.url, '--preview', leaf]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, `taxonomy-studio generate: teacher: no server at ${gone.url}: start it or check --teacher\n`);
  });
});
