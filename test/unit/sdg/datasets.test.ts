// Dataset lines and files in InstructLab's shapes, the mixer with a replay buffer, and the run report.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dateSuffix,
  knowledgePhaseLine,
  leafNodePath,
  runFileNames,
  sampleId,
  skillLine,
  skillsPhaseLines,
  toMessagesLine,
  uuidV5,
  withSystemPrompt,
  type KnowledgeSample,
  type MessagesLine,
} from '../../../engine/sdg/datasets';
import { JsonlError, writeJsonlAtomic } from '../../../engine/sdg/jsonl';
import { mixDatasets, recipeYaml, sampleCounts, writeMixedDatasets } from '../../../engine/sdg/mixer';
import { addTeacherCall, countDrop, formatRunReport, newLeafReport, runTotals, type RunReport } from '../../../engine/sdg/report';

const dir = mkdtempSync(join(tmpdir(), 'sdg-datasets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const prompt = 'You are a careful assistant.';
const parseLines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('names', () => {
  test('leaf node paths, run suffixes and file names as InstructLab writes them', () => {
    assert.equal(leafNodePath('knowledge/astronomy/observatories/kestrel_hill/instruments'), 'knowledge_astronomy_observatories_kestrel_hill_instruments');
    assert.equal(dateSuffix(new Date(2024, 2, 1, 9, 5, 7)), '2024-03-01T09_05_07');
    const n = runFileNames('2024-03-01T09_05_07');
    assert.deepEqual(n.knowledgeLeaf('knowledge/a/b'), {
      p07: 'node_datasets_2024-03-01T09_05_07/knowledge_a_b_p07.jsonl',
      p10: 'node_datasets_2024-03-01T09_05_07/knowledge_a_b_p10.jsonl',
    });
    assert.equal(n.skillLeaf('compositional_skills/writing/freeform/haiku'), 'node_datasets_2024-03-01T09_05_07/compositional_skills_writing_freeform_haiku.jsonl');
    assert.deepEqual([n.knowledgeRecipe, n.skillsRecipe, n.knowledgeMixed, n.skillsMixed], [
      'knowledge_recipe_2024-03-01T09_05_07.yaml',
      'skills_recipe_2024-03-01T09_05_07.yaml',
      'knowledge_train_msgs_2024-03-01T09_05_07.jsonl',
      'skills_train_msgs_2024-03-01T09_05_07.jsonl',
    ]);
  });

  test('ids are RFC 4122 version-5 UUIDs of the content', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org')
    assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
    assert.match(sampleId('a', 'b'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(sampleId('a', 'b'), sampleId('a', 'b'));
    assert.notEqual(sampleId('a', 'b'), sampleId('ab'));
  });
});

describe('lines', () => {
  test('a grounded skill sample: context, blank line, question; system prompt first; metadata as JSON text', () => {
    const line = skillLine({ leaf: 'compositional_skills/extraction/grounded/log', question: ' Make a table. ', answer: '| a |\n', context: 'Log: 21:00 clear.', metadata: { seed: 2 } }, prompt);
    assert.deepEqual(line, {
      id: line.id,
      messages: [
        { role: 'system', content: prompt },
        { role: 'user', content: 'Log: 21:00 clear.\n\nMake a table.' },
        { role: 'assistant', content: '| a |' },
      ],
      metadata: '{"leaf":"compositional_skills/extraction/grounded/log","seed":2}',
      unmask: false,
    });
    assert.equal(skillLine({ leaf: 'x', question: 'Q?', answer: 'A.' }, prompt).messages[1].content, 'Q?');
  });

  const sample = (i: number, doc: string): KnowledgeSample => ({ leaf: 'knowledge/k', question: `Q${i}?`, answer: `A${i}.`, document: doc, domain: 'astronomy' });

  test('knowledge phase: chunk then question, learned whole', () => {
    const line = knowledgePhaseLine(sample(1, 'Chunk one.'));
    assert.deepEqual(line, {
      id: line.id,
      messages: [
        { role: 'user', content: 'Chunk one.\n\nQ1?' },
        { role: 'assistant', content: 'A1.' },
      ],
      metadata: '{"sdg_document":"Chunk one.","domain":"astronomy","dataset":"document_knowledge_qa","leaf":"knowledge/k"}',
      unmask: true,
    });
  });

  test('skills phase: each question behind four chunks, the right one in about 40%, then the knowledge-phase lines', () => {
    const chunks = ['C0', 'C1', 'C2', 'C3', 'C4', 'C5'];
    const samples = Array.from({ length: 300 }, (_, i) => sample(i, chunks[i % chunks.length]));
    const lines = skillsPhaseLines(samples, 42);
    assert.equal(lines.length, 600);
    assert.deepEqual(lines.slice(300), samples.map(knowledgePhaseLine));
    let golden = 0;
    lines.slice(0, 300).forEach((l, i) => {
      const user = l.messages[0].content;
      const docs = [...user.matchAll(/Document:\n(C\d)\n\n/g)].map((m) => m[1]);
      assert.equal(docs.length, 4, user);
      assert.equal(new Set(docs).size, 4);
      assert.ok(user.endsWith(`\n\nQ${i}?`));
      assert.equal(l.unmask, false);
      assert.equal(JSON.parse(l.metadata).dataset, 'document_knowledge_qa_raft_p0.4');
      if (docs.includes(samples[i].document)) golden++;
    });
    assert.ok(golden > 90 && golden < 150, `${golden} of 300 with the right chunk`);
    assert.deepEqual(skillsPhaseLines(samples, 42), lines, 'the same seed chooses the same');
    assert.notDeepEqual(skillsPhaseLines(samples, 43).slice(0, 300), lines.slice(0, 300));
  });

  test('skills phase with one chunk: the context is that chunk', () => {
    const [raft] = skillsPhaseLines([sample(0, 'Only chunk.')], 1);
    assert.equal(raft.messages[0].content, 'Document:\nOnly chunk.\n\n\n\nQ0?');
  });

  test('reading lines back: InstructLab lines, extra keys into metadata, and what is wrong otherwise', () => {
    const line = toMessagesLine({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], metadata: '{"dataset":"x"}', id: 'abc', source: 'community' });
    assert.deepEqual(line, {
      id: 'abc',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
      metadata: '{"dataset":"x","source":"community"}',
      unmask: false,
    });
    const noId = toMessagesLine({ messages: [{ role: 'user', content: 'q' }], metadata: { a: 1 }, unmask: true }) as MessagesLine;
    assert.equal(noId.id, sampleId('line', '[{"role":"user","content":"q"}]'));
    assert.equal(noId.metadata, '{"a":1}');
    assert.equal(noId.unmask, true);
    assert.equal(toMessagesLine([1]), 'not a JSON object');
    assert.equal(toMessagesLine({ messages: [] }), 'no "messages" array');
    assert.equal(toMessagesLine({ messages: [{ role: 'bot', content: 'x' }] }), 'messages[0].role is "bot", not system, user, assistant or pretraining');
    assert.equal(toMessagesLine({ messages: [{ role: 'user', content: 1 }] }), 'messages[0].content is not a string');
    assert.equal(toMessagesLine({ messages: [{ role: 'user', content: 'x' }], metadata: '{' }), '"metadata" is a string that is not JSON');
  });

  test('the system prompt replaces every system turn, or comes first', () => {
    const base: MessagesLine = { id: 'i', messages: [{ role: 'user', content: 'q' }], metadata: '{}', unmask: false };
    assert.deepEqual(withSystemPrompt(base, 'S').messages, [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'q' },
    ]);
    const sys = withSystemPrompt({ ...base, messages: [{ role: 'system', content: 'old' }, { role: 'user', content: 'q' }] }, 'S');
    assert.deepEqual(sys.messages[0], { role: 'system', content: 'S' });
    assert.equal(sys.messages.length, 2);
  });
});

describe('mixing', () => {
  test('sampleCounts: distinct lines when there are enough, whole repeats and a remainder when not', () => {
    const four = sampleCounts(10, { count: 4 }, 's');
    assert.equal(four.reduce((a, b) => a + b, 0), 4);
    assert.ok(four.every((c) => c <= 1));
    assert.deepEqual(sampleCounts(10, { count: 4 }, 's'), four);
    assert.notDeepEqual(sampleCounts(10, { count: 4 }, 't'), four);
    const up = sampleCounts(10, { count: 25 }, 's');
    assert.equal(up.reduce((a, b) => a + b, 0), 25);
    assert.deepEqual([...new Set(up)].sort(), [2, 3]);
    assert.equal(up.filter((c) => c === 3).length, 5);
    assert.equal(sampleCounts(10, { ratio: 0.55 }, 's').reduce((a, b) => a + b, 0), 5);
    assert.deepEqual([...sampleCounts(3, 'all', 's')], [1, 1, 1]);
    assert.deepEqual([...sampleCounts(0, { count: 5 }, 's')], []);
    assert.throws(() => sampleCounts(3, { count: -1 }, 's'), /whole number of lines, got -1/);
  });

  test('recipes keep 1.0 a float and counts whole', () => {
    assert.equal(
      recipeYaml(
        [
          { path: 'node_datasets_S/a.jsonl', sampling: { count: 30 } },
          { path: 'node_datasets_S/k_p10.jsonl' },
          { path: '/data/replay.jsonl', sampling: { ratio: 0.25 } },
        ],
        'Be "careful".',
      ),
      'datasets:\n- path: "node_datasets_S/a.jsonl"\n  sampling_size: 30\n- path: "node_datasets_S/k_p10.jsonl"\n  sampling_size: 1.0\n- path: "/data/replay.jsonl"\n  sampling_size: 0.25\nmetadata:\n  sys_prompt: "Be \\"careful\\"."\n',
    );
    assert.equal(recipeYaml([], 'S'), 'datasets: []\nmetadata:\n  sys_prompt: "S"\n');
  });

  test('a run: both phases mixed from leaf files and a replay buffer, deterministic by seed', async () => {
    const out = join(dir, 'run');
    const names = runFileNames('S');
    const skillA = Array.from({ length: 40 }, (_, i) => skillLine({ leaf: 'compositional_skills/a', question: `qa${i}`, answer: `aa${i}` }, prompt));
    const skillB = Array.from({ length: 10 }, (_, i) => skillLine({ leaf: 'compositional_skills/b', question: `qb${i}`, answer: `ab${i}` }, prompt));
    const ks = Array.from({ length: 6 }, (_, i): KnowledgeSample => ({ leaf: 'knowledge/k', question: `kq${i}`, answer: `ka${i}`, document: `chunk ${i % 3}`, domain: 'd' }));
    const kFiles = names.knowledgeLeaf('knowledge/k');
    await writeJsonlAtomic(join(out, names.skillLeaf('compositional_skills/a')), skillA);
    await writeJsonlAtomic(join(out, names.skillLeaf('compositional_skills/b')), skillB);
    await writeJsonlAtomic(join(out, kFiles.p07), ks.map(knowledgePhaseLine));
    await writeJsonlAtomic(join(out, kFiles.p10), skillsPhaseLines(ks, 1));
    const replay = join(dir, 'replay.jsonl');
    writeFileSync(
      replay,
      Array.from({ length: 100 }, (_, i) =>
        JSON.stringify({ messages: [{ role: 'system', content: 'old prompt' }, { role: 'user', content: `rq${i}` }, { role: 'assistant', content: i === 7 ? '' : `ra${i}` }], metadata: '{}', id: `r${i}`, origin: 'community' }),
      ).join('\n') + '\n',
    );
    const leaves = { knowledge: [kFiles], skills: [names.skillLeaf('compositional_skills/a'), names.skillLeaf('compositional_skills/b')] };
    const run = await writeMixedDatasets(out, names, leaves, { systemPrompt: prompt, seed: 7, replay: { skills: [{ path: replay, sampling: 'all' }] } });

    assert.deepEqual(run.knowledge, {
      file: names.knowledgeMixed,
      recipe: names.knowledgeRecipe,
      lines: 6,
      sources: [{ path: kFiles.p07, available: 6, taken: 6 }],
      droppedEmpty: 0,
    });
    assert.deepEqual(run.skills!.sources, [
      { path: names.skillLeaf('compositional_skills/a'), available: 40, taken: 30 },
      { path: names.skillLeaf('compositional_skills/b'), available: 10, taken: 30 },
      { path: kFiles.p10, available: 12, taken: 12 },
      { path: replay, available: 100, taken: 100 },
    ]);
    assert.equal(run.skills!.droppedEmpty, 1, 'the replay line with an empty answer');
    assert.equal(run.skills!.lines, 30 + 30 + 12 + 99);

    const knowledge = parseLines(join(out, names.knowledgeMixed));
    assert.deepEqual(knowledge[0], { ...knowledgePhaseLine(ks[0]), messages: [{ role: 'system', content: prompt }, ...knowledgePhaseLine(ks[0]).messages] });
    const skills = parseLines(join(out, names.skillsMixed));
    for (const l of [...knowledge, ...skills]) {
      assert.deepEqual(Object.keys(l).sort(), ['id', 'messages', 'metadata', 'unmask']);
      const messages = l.messages as { role: string; content: string }[];
      assert.deepEqual(messages[0], { role: 'system', content: prompt });
      assert.equal(messages.filter((m) => m.role === 'system').length, 1);
      assert.equal(typeof l.metadata, 'string');
    }
    // 30 of skill a, distinct, in file order; all of skill b three times
    const fromA = skills.slice(0, 30).map((l) => (l.messages as { content: string }[])[1].content);
    assert.equal(new Set(fromA).size, 30);
    assert.deepEqual(fromA, [...fromA].sort((x, y) => Number(x.slice(2)) - Number(y.slice(2))));
    const fromB = skills.slice(30, 60).map((l) => (l.messages as { content: string }[])[1].content);
    assert.deepEqual(fromB, Array.from({ length: 10 }, (_, i) => [`qb${i}`, `qb${i}`, `qb${i}`]).flat());
    const replayed = skills.slice(72);
    assert.equal(replayed[0].metadata, '{"origin":"community"}');
    assert.equal(replayed[0].id, 'r0');

    assert.equal(
      readFileSync(join(out, names.skillsRecipe), 'utf8'),
      [
        'datasets:',
        '- path: "node_datasets_S/compositional_skills_a.jsonl"',
        '  sampling_size: 30',
        '- path: "node_datasets_S/compositional_skills_b.jsonl"',
        '  sampling_size: 30',
        '- path: "node_datasets_S/knowledge_k_p10.jsonl"',
        '  sampling_size: 1.0',
        `- path: ${JSON.stringify(replay)}`,
        '  sampling_size: 1.0',
        'metadata:',
        `  sys_prompt: ${JSON.stringify(prompt)}`,
        '',
      ].join('\n'),
    );

    const firstBytes = readFileSync(join(out, names.skillsMixed), 'utf8');
    await writeMixedDatasets(out, names, leaves, { systemPrompt: prompt, seed: 7, replay: { skills: [{ path: replay, sampling: 'all' }] } });
    assert.equal(readFileSync(join(out, names.skillsMixed), 'utf8'), firstBytes, 'same seed, same file');
    await writeMixedDatasets(out, names, leaves, { systemPrompt: prompt, seed: 8, replay: { skills: [{ path: replay, sampling: 'all' }] } });
    assert.notEqual(readFileSync(join(out, names.skillsMixed), 'utf8'), firstBytes, 'another seed, another sample of skill a');
  });

  test('a replay buffer sampled down, shuffled output, and a bad replay line named by file and line', async () => {
    const out = join(dir, 'mix2');
    mkdirSync(out, { recursive: true });
    const replay = join(out, 'replay.jsonl');
    writeFileSync(replay, Array.from({ length: 50 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `u${i}` }, { role: 'assistant', content: `a${i}` }] })).join('\n') + '\n');
    const s = await mixDatasets(out, 'r.yaml', 'm.jsonl', [{ path: 'replay.jsonl', sampling: { count: 20 } }], { systemPrompt: 'S', seed: 1, shuffle: true });
    assert.equal(s.lines, 20);
    const users = parseLines(join(out, 'm.jsonl')).map((l) => (l.messages as { content: string }[])[1].content);
    assert.equal(new Set(users).size, 20);
    assert.notDeepEqual(users, [...users].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))), 'shuffled');

    writeFileSync(replay, `${JSON.stringify({ messages: [{ role: 'user', content: 'u' }] })}\n{"messages": "nope"}\n`);
    await assert.rejects(mixDatasets(out, 'r.yaml', 'm2.jsonl', [{ path: 'replay.jsonl' }], { systemPrompt: 'S', seed: 1 }), (e) => {
      assert.ok(e instanceof JsonlError);
      assert.equal(e.message, `${replay}:2: not a messages line: no "messages" array`);
      return true;
    });
  });
});

describe('report', () => {
  test('per-leaf counts, drops by reason, teacher usage, totals and the printed table', () => {
    const k = newLeafReport('knowledge/astronomy/instruments', 'knowledge');
    k.generated = 40;
    k.kept = 31;
    countDrop(k, 'judged unfaithful', 5);
    countDrop(k, 'teacher returned invalid JSON');
    countDrop(k, 'near duplicate', 3);
    addTeacherCall(k.teacher, { promptTokens: 1200, completionTokens: 300, ms: 1500 });
    addTeacherCall(k.teacher, { promptTokens: 800, completionTokens: 200, ms: 1000 });
    addTeacherCall(k.teacher, undefined, 250);
    const s = newLeafReport('compositional_skills/writing/freeform/haiku', 'freeform_skill');
    s.generated = 150;
    s.kept = 148;
    countDrop(s, 'near duplicate', 2);
    addTeacherCall(s.teacher, { promptTokens: 5000, completionTokens: 4000, ms: 120_000 });
    const bad = newLeafReport('knowledge/broken', 'knowledge');
    bad.skipped = 'the leaf has errors (QNA101)';
    const report: RunReport = { version: 1, teacher: 'http://127.0.0.1:8080/v1', startedAt: '2024-03-01T12:00:00Z', leaves: [k, s, bad], mixed: [{ file: 'skills_train_msgs_S.jsonl', lines: 179 }] };

    const totals = runTotals(report.leaves);
    assert.deepEqual(totals, {
      leaves: 3,
      skipped: 1,
      generated: 190,
      kept: 179,
      dropped: { 'judged unfaithful': 5, 'teacher returned invalid JSON': 1, 'near duplicate': 5 },
      teacher: { calls: 3, failed: 1, promptTokens: 7000, completionTokens: 4500, ms: 122_750 },
    });
    assert.equal(
      formatRunReport(report),
      [
        'leaf                                         pipeline        generated  kept  dropped  tokens in  tokens out  teacher time',
        'knowledge/astronomy/instruments              knowledge              40    31        9       2000         500         2.8 s',
        'compositional_skills/writing/freeform/haiku  freeform_skill        150   148        2       5000        4000         120 s',
        'knowledge/broken                             knowledge       skipped: the leaf has errors (QNA101)',
        'total                                                              190   179       11       7000        4500         123 s',
        '',
        'dropped:',
        '       5  judged unfaithful',
        '       5  near duplicate',
        '       1  teacher returned invalid JSON',
        '',
        'mixed:',
        '  skills_train_msgs_S.jsonl: 179 lines',
      ].join('\n'),
    );
  });
});
