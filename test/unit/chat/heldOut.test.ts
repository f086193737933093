// Held-out questions for "Ask this leaf": the training behind a model from its provenance, the split recomputed by the
// engine (export-training, run in process here) and checked against the trainer's split function applied to each
// phase file on its own, and the selection of the leaf's held-out pairs that no trained sample carries. Data lines
// are written with generate's own line writers (engine/sdg/datasets.ts), so the parsing follows the real format.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { makeProvenance } from '../../../engine/provenance/record';
import { knowledgePhaseLine, skillLine, skillsPhaseLines, type KnowledgeSample, type MessagesLine } from '../../../engine/sdg/datasets';
import { splitHeldOut } from '../../../engine/train/data';
import { toCsv, toMarkdown, type AskReport } from '../../../extension/chat/report';
import {
  computeTrainingSplit,
  exportTrainingArgs,
  heldOutQuestions,
  HeldOutError,
  knowledgePair,
  parseSource,
  selectHeldOut,
  trainingOf,
  type DataLine,
  type EngineRunner,
  type TrainingSplit,
} from '../../../extension/chat/heldOut';

const leaf = 'knowledge/science/astronomy';
const other = 'knowledge/history/harbour';
const chunkA = 'The Kestrel Observatory opened in 1932 on Mount Ada.\n\nIts dome is 12 metres wide.';
const chunkB = 'The observatory library holds 4,000 star charts.';

function sample(n: number, document = chunkA, leafPath = leaf): KnowledgeSample {
  return { leaf: leafPath, question: `Question ${n} about the observatory?`, answer: `Answer ${n}.`, document, domain: 'astronomy' };
}

const asData = (l: MessagesLine): DataLine => ({ messages: l.messages, metadata: l.metadata });

describe('reading generated lines', () => {
  test('a knowledge-phase line and a RAFT line give back the question and answer generate was given', () => {
    const s = sample(1);
    assert.deepEqual(knowledgePair(asData(knowledgePhaseLine(s))), { leaf, question: s.question, answer: s.answer });
    const samples = [sample(1), sample(2, chunkB), sample(3, 'A third chunk.'), sample(4, 'A fourth chunk.'), sample(5, 'A fifth chunk.')];
    for (const line of skillsPhaseLines(samples, 7)) {
      const pair = knowledgePair(asData(line));
      const from = samples.find((x) => x.answer === line.messages.at(-1)!.content)!;
      assert.deepEqual(pair, { leaf, question: from.question, answer: from.answer }, line.messages[0].content);
    }
  });

  test('skill lines and lines without metadata are not knowledge pairs', () => {
    assert.equal(knowledgePair(asData(skillLine({ leaf: 'compositional_skills/haiku', question: 'q', answer: 'a' }, 'sys'))), undefined);
    assert.equal(knowledgePair({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }), undefined);
  });

  test('sources: the line number after the last colon, so a Windows path keeps its drive', () => {
    assert.deepEqual(parseSource('C:\\runs\\g\\knowledge.jsonl:12'), { file: 'C:\\runs\\g\\knowledge.jsonl', line: 12 });
    assert.equal(parseSource('no-line'), undefined);
    assert.equal(parseSource('/x.jsonl:0'), undefined);
  });
});

describe('selecting held-out pairs', () => {
  // Sources are arbitrary keys here: "k:n" knowledge phase, "s:n" skills phase.
  const p07 = (n: number, leafPath = leaf) => asData(knowledgePhaseLine(sample(n, chunkA, leafPath)));
  const lines = new Map<string, DataLine>([
    ['k:1', p07(1)],
    ['k:2', p07(2)],
    ['k:3', p07(3)],
    ['k:4', p07(4, other)],
    ['k:5', p07(5)],
    ['k:6', p07(6)],
    ['k:7', p07(7)],
    ['s:1', asData(skillLine({ leaf: 'compositional_skills/haiku', question: 'Write a haiku', answer: 'Leaves fall' }, 'sys'))],
    ['s:2', p07(2)],
    ['s:3', asData(skillsPhaseLines([sample(3), sample(8, chunkB)], 1)[0])],
    ['s:5', p07(5)],
  ]);

  test('the leaf’s held-out pairs in held-out order; a pair trained in the other phase, another leaf and skills left out', () => {
    const split: TrainingSplit = { heldOut: ['k:3', 'k:2', 's:1', 'k:4', 'k:1', 'k:5', 's:5'], trained: ['s:2', 's:3', 'k:6', 'k:7'] };
    const sel = selectHeldOut(split, lines, { leaf });
    // k:3 is held out of the knowledge phase but its RAFT twin s:3 trained; k:2 likewise through s:2.
    assert.deepEqual(
      sel.questions.map((q) => [q.source, q.question, q.expected]),
      [
        ['k:1', 'Question 1 about the observatory?', 'Answer 1.'],
        ['k:5', 'Question 5 about the observatory?', 'Answer 5.'],
      ],
    );
    assert.equal(sel.seenElsewhere, 2);
    // Pairs 1, 2, 3, 5 (held out) and 6, 7 (trained); 5 counted once though held out in both phases.
    assert.equal(sel.leafPairs, 6);
  });

  test('a seed question is not asked twice, and the limit holds', () => {
    const split: TrainingSplit = { heldOut: ['k:1', 'k:5', 'k:6', 'k:7'], trained: [] };
    assert.deepEqual(selectHeldOut(split, lines, { leaf, skipQuestions: ['  question 5 about THE observatory? '] }).questions.map((q) => q.source), ['k:1', 'k:6', 'k:7']);
    assert.deepEqual(selectHeldOut(split, lines, { leaf, limit: 2 }).questions.map((q) => q.source), ['k:1', 'k:5']);
    assert.deepEqual(selectHeldOut(split, lines, { leaf: 'knowledge/none' }), { questions: [], leafPairs: 0, seenElsewhere: 0 });
  });
});

describe('the training behind a model', () => {
  const base = { path: '/models/student', sha256: 'a'.repeat(64), hashed: 'config.json' };
  const dataset = { path: '/runs/generate-1', sha256: 'b'.repeat(64) };

  test("a train job's record, a pipeline's record, and records that name no data", () => {
    const job = makeProvenance({ leaves: [], dataset, baseModel: base, settings: { evalFraction: 0.2, seed: 7, maxSeqLen: 512, overlong: 'drop' } });
    assert.deepEqual(trainingOf(job), { modelDir: '/models/student', data: '/runs/generate-1', evalFraction: 0.2, seed: 7, maxSeqLen: 512, dropLong: true });
    const pipeline = makeProvenance({ leaves: [], dataset, baseModel: base, settings: { seed: 3, 'train.evalFraction': 0.1, adapterType: 'f16' } });
    assert.deepEqual(trainingOf(pipeline), { modelDir: '/models/student', data: '/runs/generate-1', evalFraction: 0.1, seed: 3, maxSeqLen: 1024, dropLong: false });
    assert.equal(trainingOf(makeProvenance({ leaves: [], baseModel: base })), undefined);
    assert.equal(trainingOf(undefined), undefined);
    assert.deepEqual(exportTrainingArgs(trainingOf(job)!, '/tmp/x').slice(0, 9), ['export-training', '/runs/generate-1', '--for', 'trl', '--model', '/models/student', '--out', '/tmp/x', '--force']);
    assert.ok(exportTrainingArgs(trainingOf(job)!, '/tmp/x').includes('--drop-long'));
  });
});

describe('the split, recomputed by the engine', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'held-out-'));
  const modelDir = join(tmp, 'student');
  const data = join(tmp, 'generate');
  const knowledgeFile = join(data, 'knowledge_train_msgs_2025-01-02T03_04_05.jsonl');
  const skillsFile = join(data, 'skills_train_msgs_2025-01-02T03_04_05.jsonl');
  const run: EngineRunner = async (args, signal) => {
    const err: string[] = [];
    const code = await runCli(args, { stdout: () => undefined, stderr: (t) => void err.push(t), cwd: tmp, env: {}, ...(signal ? { signal } : {}) });
    return { code, stderr: err.join('') };
  };
  const knowledge = Array.from({ length: 12 }, (_, i) => sample(i + 1, i % 2 ? chunkB : chunkA)).concat([sample(20, chunkA, other), sample(21, chunkB, other)]);

  before(async () => {
    await writeFixtureModel(modelDir, { size: 'tiny', seed: 3 });
    mkdirSync(data, { recursive: true });
    writeFileSync(knowledgeFile, knowledge.map((s) => `${JSON.stringify(knowledgePhaseLine(s))}\n`).join(''));
    const skills = [...skillsPhaseLines(knowledge.slice(0, 12), 1), ...skillsPhaseLines(knowledge.slice(12), 1), skillLine({ leaf: 'compositional_skills/haiku', question: 'Write a haiku', answer: 'Leaves fall' }, 'sys')];
    writeFileSync(skillsFile, skills.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test("held out per phase exactly as the trainer's split function holds out; the leaf's questions unseen by training", async () => {
    const src = { modelDir, data, evalFraction: 0.5, seed: 4, maxSeqLen: 4096, dropLong: false };
    const split = await computeTrainingSplit(run, src);
    // The trainer splits each phase file's samples on its own; nothing here is dropped, so samples are the lines.
    const expected = { heldOut: [] as string[], trained: [] as string[] };
    for (const file of [knowledgeFile, skillsFile]) {
      const count = readFileSync(file, 'utf8').trim().split('\n').length;
      const parts = splitHeldOut(Array.from({ length: count }, (_, i) => `${file}:${i + 1}`), src.evalFraction, src.seed);
      expected.heldOut.push(...parts.heldOut);
      expected.trained.push(...parts.train);
    }
    assert.deepEqual(split, expected);
    assert.ok(split.heldOut.length >= 15, `${split.heldOut.length} held out`);

    const sel = await heldOutQuestions(split, { leaf, limit: 50 });
    // A knowledge pair is in three samples (knowledge phase; skills phase with and without RAFT context), so only
    // some held-out pairs are unseen; this seed gives both kinds.
    assert.ok(sel.questions.length > 0 && sel.seenElsewhere > 0, JSON.stringify(sel));
    assert.equal(sel.leafPairs, 12);
    const lineAt = (source: string) => {
      const p = parseSource(source)!;
      return readFileSync(p.file, 'utf8').split('\n')[p.line - 1];
    };
    const trainedTexts = split.trained.map(lineAt);
    for (const q of sel.questions) {
      assert.ok(split.heldOut.includes(q.source));
      const from = knowledge.find((s) => s.question === q.question)!;
      assert.equal(from.leaf, leaf);
      assert.equal(q.expected, from.answer);
      // No trained line, in either phase, carries this answer: training never saw the pair.
      assert.ok(!trainedTexts.some((t) => t.includes(JSON.stringify(from.answer))), `${q.question} was trained on`);
    }
    // Every held-out pair of the leaf is either selected or trained elsewhere.
    const heldPairs = new Set(split.heldOut.map((s) => knowledgePair(JSON.parse(lineAt(s)) as DataLine)).filter((p) => p?.leaf === leaf).map((p) => p!.question));
    assert.equal(sel.questions.length + sel.seenElsewhere, heldPairs.size);
  });

  test('a training data folder that is gone, and a model the engine cannot read, say so', async () => {
    await assert.rejects(computeTrainingSplit(run, { modelDir, data: join(tmp, 'gone'), evalFraction: 0.2, seed: 1, maxSeqLen: 64, dropLong: false }), (e: unknown) => e instanceof HeldOutError && /training data .*gone.* is gone/.test(e.message));
    await assert.rejects(computeTrainingSplit(run, { modelDir: data, data, evalFraction: 0.2, seed: 1, maxSeqLen: 64, dropLong: false }), (e: unknown) => e instanceof HeldOutError && /could not recompute the training split: .+/.test(e.message));
  });
});

test('the exported table marks held-out rows and carries the note', () => {
  const report: AskReport = {
    leaf: 'knowledge/science/astronomy/qna.yaml',
    models: ['tuned'],
    rows: [
      { seed: 1, question: 'When?', expected: 'In 1932.', prompt: 'When?', line: 4, answers: { tuned: { text: 'In 1932.', score: 1 } } },
      { seed: 0, question: 'How wide is the dome?', expected: '12 metres.', prompt: 'How wide is the dome?', heldOut: '/runs/g/knowledge.jsonl:7', answers: { tuned: { text: '12 metres.', score: 1 } } },
    ],
    note: '1 generated question from /runs/g that training held out',
  };
  assert.deepEqual(toCsv(report).split('\r\n').slice(1, 3).map((l) => l.split(',')[0]), ['1', 'held-out']);
  const md = toMarkdown(report);
  assert.match(md, /\| held-out \| How wide is the dome\? \|/);
  assert.ok(md.trimEnd().endsWith('1 generated question from /runs/g that training held out'));
});
