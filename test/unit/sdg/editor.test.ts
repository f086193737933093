// The editor's Generate Data, Preview and Review, in their parts that need no VS Code: the teacher setting and the
// API key's way to the engine (SecretStorage → the child's environment only: never in job.json, the log, the ledger
// or any output), which leaves a run covers, the estimate question, the requests and command lines, and the review
// document's round trip. The key test runs a real generate job through the extension's job manager and engine child.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRunRecord } from '../../../engine/jobs/runDir';
import { runCli } from '../../../engine/cli/run';
import type { ReviewSample } from '../../../engine/sdg/review';
import type { EngineCommand } from '../../../extension/engine';
import { JobManager } from '../../../extension/jobs/manager';
import { estimateMessage, formatDuration, type RunEstimate } from '../../../extension/sdg/estimate';
import { engineFailure, estimateArgv, generateJobRequest, leafScopes, previewArgv, taxonomyRootOf } from '../../../extension/sdg/request';
import { parseReviewDocument, reviewDocumentPath, reviewDocumentText, runOfReviewDocument } from '../../../extension/sdg/reviewDocument';
import { configuredTeachers, secretKeyOf, teacherEnvironment, teacherKeyEnv, TeacherSettingError } from '../../../extension/sdg/teachers';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';
import { repoRoot } from '../jobs/helpers';
import { copyExample, newTally, scriptedTeacher } from './generateSupport';

describe('teachers and keys', () => {
  test('the setting takes URLs, pools and {name, url, model}; anything else names its entry', () => {
    assert.deepEqual(configuredTeachers(['http://a:8080/v1', { name: 'lab', url: 'http://b:8000/v1, https://c/v1', model: 'mixtral' }]), [
      { label: 'http://a:8080/v1', teacher: 'http://a:8080/v1' },
      { label: 'lab', teacher: 'http://b:8000/v1,https://c/v1', model: 'mixtral' },
    ]);
    assert.deepEqual(configuredTeachers(undefined), []);
    assert.throws(() => configuredTeachers(['http://a/v1', 'model.gguf']), (e: unknown) => e instanceof TeacherSettingError && /taxonomyStudio\.sdg\.teachers\[1\]: expected http\(s\) URLs/.test(e.message));
    assert.throws(() => configuredTeachers('http://a/v1'), /expected a list/);
  });

  test('a key is stored per origin and reaches the engine only as an environment variable', async () => {
    assert.equal(secretKeyOf('http://127.0.0.1:8080/v1/'), secretKeyOf('http://127.0.0.1:8080/other'));
    assert.notEqual(secretKeyOf('http://127.0.0.1:8080/v1'), secretKeyOf('http://127.0.0.1:8081/v1'));
    // A test double of SecretStorage: one key, for the second endpoint of a pool.
    const store = new Map([[secretKeyOf('https://b.example/v1'), 'sk-pool-key']]);
    const get = async (k: string) => store.get(k);
    assert.deepEqual(await teacherEnvironment('https://a.example/v1,https://b.example/v1', get), { settings: { apiKeyEnv: teacherKeyEnv }, env: { [teacherKeyEnv]: 'sk-pool-key' } });
    assert.deepEqual(await teacherEnvironment('https://a.example/v1', get), { settings: {}, env: {} }, 'no stored key: none sent');
    assert.deepEqual(await teacherEnvironment('/models/teacher.gguf', get), { settings: {}, env: {} }, 'a local teacher needs no key');
  });
});

describe('what a run covers and what the author is asked', () => {
  const all = ['/t/knowledge/a/qna.yaml', '/t/compositional_skills/b/qna.yaml', '/t/compositional_skills/c/qna.yaml'];

  test('leaf scopes: this leaf, changed leaves, pick, all; empty choices left out', () => {
    const scopes = leafScopes({ all, changed: ['/t/compositional_skills/b/qna.yaml', '/elsewhere/qna.yaml'], current: all[0] });
    assert.deepEqual(scopes.map((s) => [s.scope, s.leaves.length]), [['current', 1], ['changed', 1], ['pick', 0], ['all', 3]]);
    assert.equal(scopes[1].description, '1 leaf changed against the git base', 'a changed file outside the taxonomy is not counted');
    assert.deepEqual(leafScopes({ all, changed: [] }).map((s) => s.scope), ['pick', 'all']);
    assert.deepEqual(leafScopes({ all, current: '/other/qna.yaml' }).map((s) => s.scope), ['pick', 'all'], 'a leaf outside the taxonomy is not "this leaf"');
    assert.deepEqual(leafScopes({ all: [] }), []);
  });

  test('the job request records the key variable’s name, never a key; command lines for estimate and preview', () => {
    const choices = { taxonomy: '/t', leaves: all.slice(1), teacher: { label: 'lab', teacher: 'http://b/v1', model: 'm' }, key: { settings: { apiKeyEnv: teacherKeyEnv }, env: { [teacherKeyEnv]: 'sk-secret' } } };
    const request = generateJobRequest(choices);
    assert.deepEqual(request, { kind: 'generate', args: { taxonomy: '/t', leaves: all.slice(1) }, settings: { teacher: 'http://b/v1', model: 'm', apiKeyEnv: teacherKeyEnv } });
    assert.ok(!JSON.stringify(request).includes('sk-secret'));
    assert.deepEqual(estimateArgv(choices), ['generate', '/t', '--leaf', all.slice(1).join(','), '--teacher', 'http://b/v1', '--model', 'm', '--api-key-env', teacherKeyEnv, '--estimate', '--json']);
    assert.ok(!estimateArgv(choices).join(' ').includes('sk-secret'));
    assert.throws(() => estimateArgv({ ...choices, leaves: ['/t/a,b/qna.yaml'] }), /comma/);
    assert.throws(() => generateJobRequest({ ...choices, leaves: ['rel/qna.yaml'] }), /absolute/);
    assert.deepEqual(previewArgv('/t', all[0], { label: 'x', teacher: '/m.gguf' }, { settings: {}, env: {} }, 3), ['generate', '/t', '--teacher', '/m.gguf', '--preview', all[0], '--count', '3']);
    assert.equal(taxonomyRootOf('/w/tax/compositional_skills/writing/knowledge/qna.yaml'), '/w/tax/compositional_skills/writing', 'the last kind folder');
    assert.equal(taxonomyRootOf('/w/tax/knowledge/a/qna.yaml'), '/w/tax');
    assert.equal(taxonomyRootOf('/w/qna.yaml'), undefined);
    assert.equal(engineFailure('debug\ntaxonomy-studio generate: teacher: 401 (check the key)\n', 1), 'teacher: 401 (check the key)');
    assert.equal(engineFailure('', 3), 'the engine exited with code 3');
  });

  test('the estimate question: units, leaves, tokens rounded, time, then the details', () => {
    const e: RunEstimate = {
      teacher: 'http://b/v1', model: 'mixtral', contextSize: 8192, warnings: ['http://c/v1 is down'],
      leaves: [{ leaf: 'a', pipeline: 'knowledge', units: 100 }, { leaf: 'b', pipeline: 'freeform_skill', units: 50 }],
      skipped: [{ leaf: 'c', reason: '1 error, first: 3:1 QNA101 missing' }],
      units: 150, seconds: 725, tokensIn: 80_400, tokensOut: 40_100, calibrationUnits: 4, calibrationSeconds: 19.4, line: '',
    };
    const { message, detail } = estimateMessage(e);
    assert.equal(message, 'Generate 150 candidate samples for 2 leaves: about 121,000 teacher tokens, ~12 minutes. Start?');
    assert.equal(detail, [
      'Teacher http://b/v1: mixtral, context 8,192 tokens.',
      'From 4 calibration units in 19.4 s (at most 80,400 tokens in, 40,100 out).',
      'Warning: http://c/v1 is down',
      'Skipped (1): c: 1 error, first: 3:1 QNA101 missing',
    ].join('\n'));
    assert.match(estimateMessage({ ...e, leaves: e.leaves.slice(0, 1), tokensIn: 900, tokensOut: 34, seconds: 20 }).message, /for 1 leaf: about 934 teacher tokens, ~20 seconds\./);
    assert.equal(formatDuration(3 * 3600), '3.0 hours');
  });
});

describe('the review document', () => {
  const samples: ReviewSample[] = [
    { leaf: 'compositional_skills/x', unit: 0, question: 'Q zero?', answer: 'Line one.\nLine two: with colon', scores: {}, rejected: false },
    { leaf: 'compositional_skills/x', unit: 3, question: 'Q three?', answer: 'A three', context: 'Some context\nover lines', scores: {}, rejected: true },
    { leaf: 'compositional_skills/x', unit: 5, question: 'Q five?', answer: 'A five', scores: {}, rejected: false, edit: { answer: 'Edited five' } },
  ];

  test('shows the verdicts and edits, and reads back what the author changed', () => {
    const run = '/w/.taxonomy-studio/runs/generate-1';
    const file = reviewDocumentPath(run, 'compositional_skills/x');
    assert.equal(file, join(run, 'review', 'compositional_skills_x.yaml'));
    assert.equal(runOfReviewDocument(file), run);
    assert.equal(runOfReviewDocument('/w/qna.yaml'), undefined);
    const text = reviewDocumentText(run, 'compositional_skills/x', samples);
    const back = parseReviewDocument(text, file);
    assert.equal(back.leaf, 'compositional_skills/x');
    assert.deepEqual(back.decisions, [
      { unit: 0, keep: true, question: 'Q zero?', answer: 'Line one.\nLine two: with colon' },
      { unit: 3, keep: false, question: 'Q three?', answer: 'A three' },
      { unit: 5, keep: true, question: 'Q five?', answer: 'Edited five' },
    ]);
    const edited = parseReviewDocument(text.replace('keep: true', 'keep: false').replace('Q five?', 'Q five, better?'), file);
    assert.deepEqual(edited.decisions.map((d) => [d.unit, d.keep, d.question]), [[0, false, 'Q zero?'], [3, false, 'Q three?'], [5, true, 'Q five, better?']]);
  });

  test('mistakes name the file and the sample', () => {
    const text = reviewDocumentText('/r', 'l', samples);
    assert.throws(() => parseReviewDocument(text.replace('keep: true', 'keep: maybe'), 'f.yaml'), /f\.yaml: samples\[0\] \(unit 0\): keep must be true or false/);
    assert.throws(() => parseReviewDocument(text.replace('unit: 3', 'unit: x'), 'f.yaml'), /f\.yaml: samples\[1\]: unit must stay the number it was/);
    assert.throws(() => parseReviewDocument('samples: [\n', 'f.yaml'), /^ReviewDocumentError: f\.yaml:\d+:\d+: /);
  });
});

describe('the teacher key through a real generate job', () => {
  const key = 'sk-test-DO-NOT-LEAK-4711';
  let work: { dir: string; taxonomy: string };
  let server: OpenAIServer;
  before(async () => {
    work = copyExample('sdg-editor-');
    server = await startOpenAIServer({ handler: scriptedTeacher(newTally()), apiKey: key, models: [{ id: 'test-teacher', contextSize: 8192 }] });
  });
  after(async () => {
    await server?.close();
    rmSync(work.dir, { recursive: true, force: true });
  });

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
  }

  test('the job authenticates with the stored key, and no file of its run folder holds it', async () => {
    const leaf = join(work.taxonomy, 'compositional_skills/writing/freeform/event_announcements/qna.yaml');
    const store = new Map([[secretKeyOf(server.url), key]]); // SecretStorage's test double
    const choices = { taxonomy: work.taxonomy, leaves: [leaf], teacher: { label: 'test', teacher: server.url }, key: await teacherEnvironment(server.url, async (k) => store.get(k)) };

    // The estimate first, as the command runs it: the key in the environment only.
    let stdout = '';
    let stderr = '';
    const code = await runCli(estimateArgv(choices), { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: work.dir, env: { ...process.env, TERM: 'dumb', ...choices.key.env } });
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as RunEstimate).units, 30 * 5);
    assert.ok(!stdout.includes(key) && !stderr.includes(key));

    const engine: EngineCommand = { command: process.execPath, args: ['--import', 'tsx', join(repoRoot, 'engine/cli/main.ts')], env: process.env, shell: false };
    const manager = new JobManager({ engine: async () => engine, runsRoots: () => [], supervisor: { cwd: repoRoot } });
    const runDir = join(work.dir, 'runs', 'generate-1');
    const request = generateJobRequest(choices);
    const started = await manager.start({ ...request, args: { ...request.args, perSeed: 1 }, runDir }, { env: choices.key.env });
    const outcome = await started.outcome;
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.error));
    assert.ok(server.requests.some((r) => r.authorization === `Bearer ${key}`), 'the server got the key');
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${key}`), 'every request carried it');

    const record = await readRunRecord(runDir);
    assert.equal(record?.settings.apiKeyEnv, teacherKeyEnv, 'job.json names the variable');
    const files = filesUnder(runDir);
    assert.ok(files.some((f) => f.endsWith('report.json')) && files.some((f) => f.endsWith('log.jsonl')) && files.some((f) => f.endsWith('job.json')));
    for (const f of files) assert.ok(!readFileSync(f, 'utf8').includes(key), `${f} does not hold the key`);
  });
});
