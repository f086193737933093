// The editor's side of a generate run, in the engine: `generate --estimate` (health check and calibration, nothing
// written) and the review (review.json: rejected and edited samples) applied with `generate --apply-review`, checked
// through the trainer's own data loader: a rejected sample never reaches training, an edit does, and an empty review
// gives back the run's own mixed files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import type { RunReport } from '../../../engine/sdg/report';
import { emptyReview, leafSamples, readReview, readRunReport, ReviewError, withLeafDecisions, writeReview } from '../../../engine/sdg/review';
import { dataFiles } from '../../../engine/train/run';
import { readMessagesJsonl } from '../../../engine/train/data';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';
import { copyExample, newTally, scriptedTeacher } from './generateSupport';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd(), env: { ...process.env, TERM: 'dumb' } });
  return { code, stdout, stderr };
}

let work: { dir: string; taxonomy: string };
let server: OpenAIServer;
let run: string;
const skillLeaf = 'compositional_skills/writing/freeform/event_announcements';
const knowledgeLeaf = 'knowledge/astronomy/observatories/kestrel_hill/history';

before(async () => {
  work = copyExample('sdg-review-');
  server = await startOpenAIServer({ handler: scriptedTeacher(newTally()), models: [{ id: 'test-teacher', contextSize: 8192 }] });
  run = join(work.dir, 'run');
  const r = await cli(['generate', work.taxonomy, '--leaf', `${join(work.taxonomy, skillLeaf)},${join(work.taxonomy, knowledgeLeaf)}`, '--teacher', server.url, '--out', run, '--per-seed', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await server?.close();
  rmSync(work.dir, { recursive: true, force: true });
});

/** Every assistant turn the trainer would read from the run folder. */
async function trainingAnswers(dir: string): Promise<string[]> {
  const answers: string[] = [];
  for (const { file } of await dataFiles(dir)) {
    const read = await readMessagesJsonl(file);
    for (const c of read.conversations) for (const m of c.messages) if (m.role === 'assistant') answers.push(m.content);
  }
  return answers;
}

function mixedLines(dir: string, report: RunReport): string[] {
  return report.mixed!.flatMap((m) => readFileSync(join(dir, m.file), 'utf8').split('\n').filter(Boolean));
}

describe('generate --estimate', () => {
  test('checks the teacher, calibrates and prints the whole run in units, calls and tokens, writing nothing', async () => {
    const before = server.requests.length;
    const r = await cli(['generate', work.taxonomy, '--leaf', join(work.taxonomy, skillLeaf), '--teacher', server.url, '--per-seed', '3', '--parallel', '2', '--estimate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as { leaves: { leaf: string; units: number }[]; units: number; calls: number; tokensIn: number; tokensOut: number; calibrationUnits: number; model: string; contextSize: number; line: string };
    assert.deepEqual(e.leaves.map((l) => l.leaf), [skillLeaf]);
    assert.equal(e.units, 3 * 5, '3 per seed × 5 seeds');
    assert.equal(e.calls, e.units * 4, 'a freeform unit makes at most 4 teacher calls');
    assert.equal(e.calibrationUnits, 2, 'calibrates --parallel units');
    assert.equal(e.model, 'test-teacher');
    assert.equal(e.contextSize, 8192);
    assert.ok(e.tokensIn > 0 && e.tokensOut > 0, 'the calibration counted tokens');
    assert.match(e.line, /^estimate: 15 units left, about .* teacher tokens \(.* in, .* out\), from 2 calibration units in/);
    assert.ok(server.requests.length > before, 'the teacher was asked');
    const text = await cli(['generate', work.taxonomy, '--leaf', join(work.taxonomy, skillLeaf), '--teacher', server.url, '--per-seed', '3', '--estimate']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /teacher .*: test-teacher answers, context 8192 tokens\n1 leaves, 15 units\nestimate: /);
  });

  test('a dead teacher is a clear failure, not an estimate', async () => {
    const gone = await startOpenAIServer({ handler: () => 'OK' });
    await gone.close();
    const r = await cli(['generate', work.taxonomy, '--leaf', join(work.taxonomy, skillLeaf), '--teacher', gone.url, '--estimate', '--retries', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^taxonomy-studio generate: teacher: /);
  });
});

describe('review of a finished run', () => {
  test('an empty review gives back the mixed files the run wrote', async () => {
    const report = await readRunReport(run);
    const original = mixedLines(run, report);
    const r = await cli(['generate', '--apply-review', '--out', run, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { rejected: number; edited: number; leaves: number };
    assert.deepEqual([s.rejected, s.edited, s.leaves], [0, 0, 2]);
    assert.deepEqual(mixedLines(run, report), original);
  });

  test('a rejected sample reaches neither the mixed files nor the trainer; an edited one reaches both as edited', async () => {
    const report = await readRunReport(run);
    const skill = report.leaves.find((l) => l.leaf === skillLeaf)!;
    const knowledge = report.leaves.find((l) => l.leaf === knowledgeLeaf)!;
    const skillSamples = await leafSamples(run, skill);
    const knowledgeSamples = await leafSamples(run, knowledge);
    assert.equal(skillSamples.length, skill.kept);
    assert.equal(knowledgeSamples.length, knowledge.kept);
    assert.ok(skillSamples.length >= 3 && knowledgeSamples.length >= 2, 'enough samples to review');
    const [rejectSkill, editSkill] = skillSamples;
    const [rejectKnowledge] = knowledgeSamples;
    const trainedBefore = await trainingAnswers(run);
    assert.ok(trainedBefore.includes(rejectSkill.answer.trim()) && trainedBefore.includes(rejectKnowledge.answer.trim()), 'before the review both are trained on');

    const edited = 'An edited answer the author wrote by hand.';
    let review = withLeafDecisions(emptyReview(), skillLeaf, skillSamples, skillSamples.map((s) => ({ unit: s.unit, keep: s !== rejectSkill, question: s.question, answer: s === editSkill ? edited : s.answer })));
    review = withLeafDecisions(review, knowledgeLeaf, knowledgeSamples, knowledgeSamples.map((s) => ({ unit: s.unit, keep: s !== rejectKnowledge, question: s.question, answer: s.answer })));
    await writeReview(run, review);
    assert.deepEqual(await readReview(run), review);

    const r = await cli(['generate', '--apply-review', '--out', run]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^review applied \(review\.json\): 2 rejected, 1 edited, \d+ samples kept over 2 leaves; knowledge_train_msgs_.* lines, skills_train_msgs_.* lines\n$/);

    const trained = await trainingAnswers(run);
    assert.ok(!trained.includes(rejectSkill.answer.trim()), 'the rejected skill sample is not trained on');
    assert.ok(!trained.includes(rejectKnowledge.answer.trim()), 'the rejected knowledge sample is in neither phase');
    assert.ok(!trained.includes(editSkill.answer.trim()), 'the generated text of an edited sample is gone');
    assert.ok(trained.includes(edited), 'the edit is trained on');
    // The run's own datasets stay as generated, so a later review can take a rejection back.
    const generated = readFileSync(join(run, skill.files[0]), 'utf8');
    assert.ok(generated.includes(JSON.stringify(rejectSkill.answer.trim()).slice(1, -1)));
    assert.ok(existsSync(join(run, 'reviewed', skill.files[0])));

    // Taking the verdicts back restores the training data.
    await writeReview(run, emptyReview());
    assert.equal((await cli(['generate', '--apply-review', '--out', run])).code, 0);
    assert.deepEqual((await trainingAnswers(run)).sort(), trainedBefore.sort());
  });

  test('leafSamples carries the verdicts; decisions about another leaf’s unit are refused', async () => {
    const report = await readRunReport(run);
    const skill = report.leaves.find((l) => l.leaf === skillLeaf)!;
    const samples = await leafSamples(run, skill);
    const review = withLeafDecisions(emptyReview(), skillLeaf, samples, [{ unit: samples[1].unit, keep: false, question: ` ${samples[1].question} `, answer: samples[1].answer }]);
    assert.deepEqual(review.leaves[skillLeaf], { rejected: [samples[1].unit], edited: {} }, 'whitespace around a text is no edit');
    const marked = await leafSamples(run, skill, review);
    assert.deepEqual(marked.map((s) => s.rejected), samples.map((_, i) => i === 1));
    assert.throws(() => withLeafDecisions(emptyReview(), skillLeaf, samples, [{ unit: 9999, keep: false, question: '', answer: '' }]), /unit 9999 is not a sample of/);
    assert.deepEqual(withLeafDecisions(review, skillLeaf, samples, samples.map((s) => ({ unit: s.unit, keep: true, question: s.question, answer: s.answer }))).leaves, {}, 'keeping all clears the leaf');
  });

  test('a broken review.json or a run that is not a generate run fails naming the file', async () => {
    const dir = join(work.dir, 'broken');
    const r0 = await cli(['generate', '--apply-review', '--out', dir]);
    assert.equal(r0.code, 1);
    assert.match(r0.stderr, /broken: no job\.json \(give the run folder of a generate run\)/);
    writeFileSync(join(run, 'review.json'), '{"version": 1, "leaves": {"x": {"rejected": ["a"], "edited": {}}}}');
    await assert.rejects(readReview(run), (err: unknown) => err instanceof ReviewError && /review\.json: leaves\["x"\]\.rejected: expected a list of unit numbers/.test(err.message));
    const r = await cli(['generate', '--apply-review', '--out', run]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /review\.json: leaves\["x"\]/);
    rmSync(join(run, 'review.json'));
  });
});
