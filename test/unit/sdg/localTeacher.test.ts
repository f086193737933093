// The local GGUF teacher on the tiny fixture model (random weights, converted to F16 by our converter): every SDG
// step's schema yields JSON that parses and validates even from random weights (the grammar), calls run at once on
// the context's sequences, and generate runs a small leaf end to end with it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { runCli } from '../../../engine/cli/run';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { stepSchemas } from '../../../engine/sdg/prompts/schemas';
import type { RunReport } from '../../../engine/sdg/report';
import type { LeafPlan } from '../../../engine/sdg/pipelines/plan';
import { cutChunk, defaultStepSettings, dropReasons, runUnit, type StepSettings } from '../../../engine/sdg/pipelines/units';
import { isTeacherError, TeacherContextOverflowError } from '../../../engine/sdg/teachers/errors';
import { LocalTeacher } from '../../../engine/sdg/teachers/local';
import { copyExample } from './generateSupport';

const tmp = mkdtempSync(join(tmpdir(), 'sdg-local-'));
const modelPath = join(tmp, 'tiny-f16.gguf');
let teacher: LocalTeacher;

before(async () => {
  await writeFixtureModel(join(tmp, 'hf'), { size: 'tiny', seed: 7, std: 0.1 });
  await convertHfToGguf(join(tmp, 'hf'), modelPath, 'f16', { threads: 1 });
  // One thread: llama.cpp's workers spin, and the test machine is shared.
  teacher = await LocalTeacher.open({ modelPath, parallel: 4, contextSize: 1024, threads: 1, gpu: 'off' });
});

after(async () => {
  await teacher?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('local teacher', () => {
  test('health: loads, answers, tells its context size', async () => {
    const h = await teacher.health();
    assert.deepEqual(h, { ok: true, model: modelPath, contextSize: 1024 });
    assert.equal(teacher.parallel, 4);
  });

  test('every step schema parses from random weights, four calls decoding together', async () => {
    const schemas = Object.values(stepSchemas({ question: 40, answer: 40, context: 40, explanation: 20 }));
    const ajv = new Ajv2020({ strict: false });
    const results = await Promise.all(
      schemas.map((s, i) => teacher.chat([{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: `Step ${s.name}` }], { maxTokens: 400, temperature: 0.8, seed: i, jsonSchema: s })),
    );
    results.forEach((r, i) => {
      assert.ok(ajv.validate(schemas[i].schema, r.json), `${schemas[i].name}: ${r.text}`);
      assert.deepEqual(JSON.parse(r.text), r.json);
      assert.equal(r.finishReason, 'stop');
      assert.ok(r.promptTokens > 5 && r.completionTokens > 2, `${r.promptTokens} / ${r.completionTokens}`);
    });
    // The same seed gives the same answer.
    const again = await teacher.chat([{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: `Step ${schemas[0].name}` }], { maxTokens: 400, temperature: 0.8, seed: 0, jsonSchema: schemas[0] });
    assert.equal(again.text, results[0].text);
  });

  test('a missing or broken model file is a model-load error that says what to do', async () => {
    await assert.rejects(LocalTeacher.open({ modelPath: join(tmp, 'nope.gguf') }), (e: unknown) => isTeacherError(e, 'model-load') && /nope\.gguf: no such file \(the teacher must be a GGUF model file/.test((e as Error).message));
    await assert.rejects(LocalTeacher.open({ modelPath: join(tmp, 'hf', 'config.json'), gpu: 'off' }), (e: unknown) => isTeacherError(e, 'model-load') && /config\.json: llama\.cpp could not load the model/.test((e as Error).message));
  });

  test('generate runs a freeform leaf end to end with the GGUF teacher', async () => {
    const work = copyExample('sdg-local-gen-');
    try {
      const out = join(work.dir, 'run');
      const argv = ['generate', work.taxonomy, '--leaf', join(work.taxonomy, 'compositional_skills/writing/freeform/poetry/night_sky_haiku'), '--teacher', modelPath, '--out', out];
      let stderr = '';
      const code = await runCli([...argv, '--per-seed', '1', '--parallel', '4', '--threads', '1', '--gpu', 'off', '--ctx-size', '2048', '--max-tokens', '96', '--max-chars', '24', '--calibrate', '0'], {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        cwd: work.dir,
        env: { ...process.env, TERM: 'dumb' },
      });
      assert.equal(code, 0, stderr);
      assert.match(stderr, /teacher .*tiny-f16\.gguf: .*tiny-f16\.gguf answers, context 2048 tokens/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
      assert.equal(report.leaves.length, 1);
      const [leaf] = report.leaves;
      assert.equal(leaf.generated, 5);
      const known = new Set<string>([...Object.values(dropReasons), 'exact duplicate', 'near duplicate']);
      for (const reason of Object.keys(leaf.dropped)) assert.ok(known.has(reason), reason);
      assert.equal(leaf.kept + Object.values(leaf.dropped).reduce((a, b) => a + b, 0), 5);
      assert.ok(leaf.teacher.calls >= 5 && leaf.teacher.completionTokens > 0);
      const lines = readFileSync(join(out, leaf.files[0]), 'utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, leaf.kept);
      assert.equal(readFileSync(join(out, 'ledger.jsonl'), 'utf8').trim().split('\n').length, 5);
    } finally {
      rmSync(work.dir, { recursive: true, force: true });
    }
  });

  describe('prompts longer than the context (1,024 tokens here)', () => {
    const steps: StepSettings = { ...defaultStepSettings, maxTokens: { question: 48, answer: 96, context: 48, judge: 48 } };
    const words = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i % 97}`).join(' ');
    const plan = (over: Partial<LeafPlan>): LeafPlan => ({
      leaf: 'knowledge/astronomy/dome',
      file: '/t/knowledge/astronomy/dome/qna.yaml',
      pipeline: 'knowledge',
      task: 'astronomy',
      outline: 'The observatory dome',
      seeds: [[{ question: 'What turns the dome?', answer: 'A motor on the ring.' }]],
      chunks: [],
      documents: 1,
      unreadable: [],
      target: 1,
      ...over,
    });

    test('the teacher refuses with the token counts', async () => {
      const err = await teacher.chat([{ role: 'user', content: words(1500, 'w') }], { maxTokens: 16, temperature: 0 }).catch((e: unknown) => e);
      assert.ok(err instanceof TeacherContextOverflowError, String(err));
      assert.ok(err.promptTokens! > 1024 && err.contextSize === 1024 && err.maxTokens === 16, `${err.promptTokens} ${err.contextSize}`);
    });

    test('a knowledge chunk that does not fit is cut until the pair prompt fits, and the sample keeps the cut text', async () => {
      const chunk = words(1200, 'dome');
      const r = await runUnit(teacher, plan({ chunks: [{ file: 'dome.md', text: chunk }] }), 0, steps);
      assert.notEqual(r.dropped, dropReasons.contextOverflow);
      // After the cut the teacher answered the pair prompt (an overflow is refused before any call is counted), whatever
      // random weights then made of it.
      assert.ok(r.usage.calls + r.usage.failed >= 1, `calls ${r.usage.calls}, failed ${r.usage.failed}, dropped ${r.dropped}`);
      if (r.sample) {
        assert.ok(r.sample.document!.length < chunk.length && chunk.startsWith(r.sample.document!), 'the sample keeps the start of the chunk');
      }
    });

    test('a skill unit whose seeds do not fit is dropped with the reason, and the job would go on', async () => {
      const long = { question: words(700, 'q'), answer: words(700, 'a') };
      const r = await runUnit(teacher, plan({ pipeline: 'freeform_skill', leaf: 'compositional_skills/long', seeds: [[long], [long], [long]], target: 3 }), 0, steps);
      assert.equal(r.dropped, dropReasons.contextOverflow);
      assert.equal(r.sample, undefined);
    });

    test('cutChunk keeps a word-bounded start in proportion to the budget, never below a useful length', () => {
      const text = words(1000, 'x');
      const cut = cutChunk(text, 2000, 1000)!;
      assert.ok(text.startsWith(cut) && !cut.endsWith(' '));
      assert.equal(cut.split(' ').length, 450);
      assert.equal(cutChunk(text, 20000, 1000), undefined, '50 words is too short to ask about');
      assert.equal(cutChunk(text, 500, 1000), undefined, 'nothing to cut when the prompt fits');
    });
  });
});
