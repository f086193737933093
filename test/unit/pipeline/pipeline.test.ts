// The whole loop end to end on the example taxonomy (`example --out`), made a git repository with one leaf changed
// after the commit, so the pipeline picks that leaf by itself: the tiny fixture converted to GGUF as a
// grammar-constrained teacher, the tiny fixture HF folder as the student, a few samples, a few steps. The first
// attempt is cancelled just after the generate stage, the second inside the evaluate stage; the third,
// `pipeline --resume` on the command line, must not redo check or generate (their run folders, ledgers and job.json
// untouched) nor the questions already answered, and must end with a report holding the evaluation table and a
// valid loss plot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { startJob, type JobEvents } from '../../../engine/jobs/runner';
import type { JobProgress } from '../../../engine/rpc/protocol';
import { jobKinds } from '../../../engine/jobs/registry';
import type { RunRecord } from '../../../engine/jobs/runDir';
import type { EvaluateStageSummary, EvaluatedQuestion } from '../../../engine/pipeline/evaluateStage';
import { pipelineJob } from '../../../engine/pipeline/job';
import { defaultLayout } from '../../../engine/pipeline/plot';
import { decodePng } from './pngDecode';

const tmp = mkdtempSync(join(tmpdir(), 'pipeline-'));
const student = join(tmp, 'student');
const teacher = join(tmp, 'teacher.gguf');
const taxonomy = join(tmp, 'example', 'taxonomy');
const haiku = 'compositional_skills/writing/freeform/poetry/night_sky_haiku';

const quiet = { stdout: () => undefined, stderr: () => undefined, cwd: tmp, env: { ...process.env, TERM: 'dumb' } };

function git(...args: string[]): string {
  return execFileSync('git', ['-C', taxonomy, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
}

before(async () => {
  assert.equal(await runCli(['example', '--out', join(tmp, 'example')], quiet), 0);
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'example taxonomy');
  // The leaf an author just edited: the only one changed against main.
  appendFileSync(join(taxonomy, haiku, 'qna.yaml'), '# reviewed\n');
  // The default weight scale: with these weights the random teacher's judges keep some samples (std 0.1 keeps none).
  await writeFixtureModel(student, { size: 'tiny', seed: 7 });
  await convertHfToGguf(student, teacher, 'f16', { threads: 1 });
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** Small numbers so the loop runs in seconds on the tiny models, one thread for llama.cpp (the machine is shared). */
const settings = {
  teacher,
  threads: 1,
  gpu: 'off',
  generate: { parallel: 4, contextSize: 2048, maxTokens: 96, maxChars: 24, calibrate: 0 },
  train: { batchTokens: 512, maxSeqLen: 128, lr: 0.01 },
  evaluate: { parallel: 2, contextSize: 512 },
};
const args = { taxonomy, student, perSeed: 2, rank: 4, epochs: 1, evalMaxTokens: 16 };

test('the pipeline is in the job table and checks its args and settings up front', () => {
  assert.ok(jobKinds.includes(pipelineJob));
  assert.throws(() => pipelineJob.parseArgs({ taxonomy }), /student: required/);
  assert.throws(() => pipelineJob.parseArgs({ ...args, all: true, leaves: ['x'] }), /either leaves or all/);
  assert.throws(() => pipelineJob.parseSettings({}), /teacher: required/);
  assert.throws(() => pipelineJob.parseSettings({ teacher, train: { rank: 2 } }), /train\.rank: give it as the pipeline's rank argument/);
  assert.throws(() => pipelineJob.parseSettings({ teacher, generate: { paralel: 2 } }), /generate\.settings: unknown field 'paralel'/);
  assert.throws(() => pipelineJob.parseSettings({ teacher, evaluate: { gpu: 'yes' } }), /evaluate\.gpu: expected "auto" or "off"/);
  assert.deepEqual(pipelineJob.parseSettings(settings).train, settings.train);
});

test('check → generate → (cancelled) → resume → train → export → serve + evaluate → report', async () => {
  const runDir = join(tmp, 'run');
  const progress: JobProgress[] = [];
  const logs: string[] = [];
  let running: Awaited<ReturnType<typeof startJob>> | undefined;
  const events: JobEvents = {
    progress: (p) => progress.push(p),
    log: (_level, text) => {
      logs.push(text);
      // Stop the pipeline as soon as generate is recorded: the next stage must not start.
      if (/^generate finished in /.test(text)) running?.cancel();
    },
    partial: () => undefined,
  };
  running = await startJob({ kind: 'pipeline', runDir, args, settings }, events, { progressIntervalMs: 0 });
  const first = await running.outcome;
  assert.equal(first.status, 'cancelled', JSON.stringify(first.error));

  // The stages so far, each a job in its own folder; the pipeline ledger has exactly check and generate.
  const ledgerKeys = (dir: string) => readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key);
  assert.deepEqual(ledgerKeys(runDir), ['stage:check', 'stage:generate']);
  assert.ok(!existsSync(join(runDir, 'train')), 'train must not start after the cancel');
  const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as RunRecord;
  assert.equal(record(join(runDir, 'check')).kind, 'pipeline-check');
  const check = record(join(runDir, 'check')).summary as { leaves: { path: string }[]; selection: string };
  assert.deepEqual(check.leaves.map((l) => l.path), [haiku]);
  assert.match(check.selection, /changed against main/);
  const generate = record(join(runDir, 'generate'));
  assert.equal(generate.status, 'succeeded');
  assert.equal(generate.attempts, 1);
  assert.equal(ledgerKeys(join(runDir, 'generate')).length, 10); // two units per seed example of the haiku leaf
  // Progress said which stage ran, k/n, with the stage's own counts.
  assert.ok(progress.some((p) => p.stage?.startsWith('1/5 check')));
  assert.ok(progress.some((p) => p.stage?.startsWith('2/5 generate') && p.unit === 'units' && p.total === 10 && p.done === 10));
  const before = Object.fromEntries(['check', 'generate'].flatMap((s) => ['job.json', 'ledger.jsonl'].map((f) => [`${s}/${f}`, { mtime: statSync(join(runDir, s, f)).mtimeMs, text: readFileSync(join(runDir, s, f), 'utf8') }])));

  // Second attempt: cancelled once two evaluation questions are answered.
  const second = await startJob(
    { kind: 'pipeline', runDir, resume: true },
    {
      progress: (p) => {
        if (p.stage?.startsWith('5/5 evaluate') && p.unit === 'questions' && p.done >= 2) second.cancel();
      },
      log: () => undefined,
      partial: () => undefined,
    },
    { progressIntervalMs: 0 },
  );
  assert.equal((await second.outcome).status, 'cancelled');
  assert.deepEqual(ledgerKeys(runDir), ['stage:check', 'stage:generate', 'stage:train', 'stage:export']);
  const answeredBefore = readFileSync(join(runDir, 'evaluate', 'answers.jsonl'), 'utf8');
  const askedBefore = ledgerKeys(join(runDir, 'evaluate'));
  assert.ok(askedBefore.length >= 2 && askedBefore.length < 5, `${askedBefore.length} questions answered before the cancel`);

  // Resume from the command line, with no arguments but the run folder.
  let stdout = '';
  let stderr = '';
  const code = await runCli(['pipeline', '--resume', '--out', runDir], { ...quiet, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  assert.equal(code, 0, stderr);
  const reportPath = join(runDir, 'report.md');
  assert.equal(stdout, `${reportPath}\n`);
  for (const [file, was] of Object.entries(before)) {
    assert.equal(statSync(join(runDir, file)).mtimeMs, was.mtime, `${file} was touched by the resume`);
    assert.equal(readFileSync(join(runDir, file), 'utf8'), was.text, file);
  }
  for (const stage of ['check', 'generate', 'train', 'export']) assert.match(stderr, new RegExp(`${stage}: finished in an earlier attempt`));
  assert.doesNotMatch(stderr, /[1-4]\/5 (check|generate|train|export)/);
  assert.match(stderr, /5\/5 evaluate - resuming/);
  assert.match(stderr, /5\/5 evaluate - serving base and tuned/);
  assert.deepEqual(ledgerKeys(runDir), ['stage:check', 'stage:generate', 'stage:train', 'stage:export', 'stage:evaluate']);
  assert.equal(record(runDir).attempts, 3);
  // The evaluate stage went on where it stopped: the answers it had stay as they were, each question once.
  assert.equal(record(join(runDir, 'evaluate')).attempts, 2);
  assert.ok(readFileSync(join(runDir, 'evaluate', 'answers.jsonl'), 'utf8').startsWith(answeredBefore));
  const asked = ledgerKeys(join(runDir, 'evaluate'));
  assert.deepEqual(asked.slice(0, askedBefore.length), askedBefore);
  assert.deepEqual([...asked].sort(), [0, 1, 2, 3, 4].map((i) => `${haiku}#${i}`));
  assert.equal(record(runDir).status, 'succeeded');

  // Train wrote the adapter, export its GGUF and the student's, evaluate asked every seed question to both models.
  for (const f of ['train/adapter/adapter_model.safetensors', 'train/loss.csv', 'export/adapter.gguf', 'export/base.gguf']) assert.ok(existsSync(join(runDir, f)), f);
  for (const f of ['export/adapter.gguf', 'export/base.gguf']) assert.equal(readFileSync(join(runDir, f)).subarray(0, 4).toString('latin1'), 'GGUF');
  const evaluation = JSON.parse(readFileSync(join(runDir, 'evaluate', 'evaluation.json'), 'utf8')) as EvaluateStageSummary;
  const answers = readFileSync(join(runDir, 'evaluate', 'answers.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvaluatedQuestion);
  assert.equal(answers.length, 5);
  for (const a of answers) {
    assert.equal(a.leaf, haiku);
    assert.equal(typeof a.base, 'string');
    assert.equal(typeof a.tuned, 'string');
    assert.ok(a.baseF1! >= 0 && a.baseF1! <= 1 && a.tunedF1! >= 0 && a.tunedF1! <= 1);
  }
  assert.equal(evaluation.leaves.length, 1);
  assert.equal(evaluation.leaves[0].questions, 5);
  assert.ok(evaluation.serveSeconds > 0);

  // The report: stages with times, the data, the plot, the evaluation table with the leaf's row.
  const report = readFileSync(reportPath, 'utf8');
  for (const stage of ['check', 'generate', 'train', 'export', 'serve', 'evaluate']) assert.match(report, new RegExp(`^\\| ${stage} \\| \\d+\\.\\d s`, 'm'));
  assert.match(report, /^\| evaluate \| \d+\.\d s \(2 attempts\) \|/m);
  assert.match(report, /\| check \| [^|]+ \| 1 leaf, 0 errors/);
  assert.match(report, /\| generate \| [^|]+ \| \d+ samples kept of 10 generated/);
  assert.match(report, /!\[Loss curve[^\]]*\]\(loss\.png\)/);
  assert.match(report, /\| Leaf \| Kind \| Questions \| Base F1 \| Tuned F1 \| Δ \| Tuned better \/ worse \|/);
  const f3 = (x: number) => x.toFixed(3);
  const l = evaluation.leaves[0];
  assert.ok(report.includes(`| ${haiku} | compositional_skills | 5 | ${f3(l.base)} | ${f3(l.tuned)} |`), report);

  // The loss plot is a PNG of the plot's size whose scanlines inflate to the right length.
  const png = decodePng(readFileSync(join(runDir, 'loss.png')));
  assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [defaultLayout.width, defaultLayout.height, 8, 2]);
  assert.equal(png.raw.length, (png.width * 3 + 1) * png.height);
});

test('errors in a selected leaf stop the pipeline at check with the findings; a taxonomy outside git needs --leaf or --all', async () => {
  const bad = join(taxonomy, 'compositional_skills/writing/freeform/broken');
  execFileSync('mkdir', ['-p', bad]);
  appendFileSync(join(bad, 'qna.yaml'), 'version: 3\ntask_description: x\ncreated_by: someone\nseed_examples: []\n');
  let stderr = '';
  const run = join(tmp, 'run-bad');
  const code = await runCli(['pipeline', taxonomy, '--leaf', bad, '--teacher', teacher, '--student', student, '--out', run], { ...quiet, stderr: (t) => (stderr += t) });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /check: \d+ errors? in 1 of the 1 selected leaves/);
  assert.match(stderr, /compositional_skills\/writing\/freeform\/broken\/qna\.yaml:\d+:\d+ error QNA\d+/);
  assert.match(stderr, /--allow-errors/);
  assert.ok(!existsSync(join(run, 'generate')));

  // --allow-errors goes past check, but with only that leaf there is nothing to generate for.
  stderr = '';
  const code2 = await runCli(['pipeline', taxonomy, '--leaf', bad, '--allow-errors', '--teacher', teacher, '--student', student, '--out', join(tmp, 'run-bad2')], { ...quiet, stderr: (t) => (stderr += t) });
  assert.equal(code2, 1);
  assert.match(stderr, /every selected leaf has errors/);

  const plain = join(tmp, 'plain');
  assert.equal(await runCli(['example', '--out', plain], quiet), 0);
  stderr = '';
  const code3 = await runCli(['pipeline', join(plain, 'taxonomy'), '--teacher', teacher, '--student', student, '--out', join(tmp, 'run-plain')], { ...quiet, stderr: (t) => (stderr += t) });
  assert.equal(code3, 1);
  assert.match(stderr, /not in a git repository.*--leaf PATH.*--all/);
});
