import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { configFromHf } from '../../../engine/model/config';
import { initLora, loraTargetNames } from '../../../engine/train/lora';
import { estimateMemory } from '../../../engine/train/memory';
import { trainJob } from '../../../engine/train/job';
import { defaultRunSettings } from '../../../engine/train/settings';
import { memoryQuestion, trainJobRequest, trainMemoryEstimate } from '../../../extension/train/request';
import { readFileSync } from 'node:fs';

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'train-editor-'));
  await writeFixtureModel(join(dir, 'model'), { size: 'tiny' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the editor's estimate is the trainer's: same LoRA parameter count as the weights it would create", async () => {
  const config = configFromHf(JSON.parse(readFileSync(join(dir, 'model', 'config.json'), 'utf8')));
  for (const qlora of [false, true]) {
    for (const rank of [4, 8]) {
      const lora = initLora(config, { targets: loraTargetNames, rank, alpha: 16 }, 1);
      const expected = estimateMemory({ config, qlora, loraParameters: lora.parameterCount(), batchTokens: defaultRunSettings.batchTokens, maxSeqLen: defaultRunSettings.maxSeqLen });
      assert.deepEqual(await trainMemoryEstimate({ model: join(dir, 'model'), qlora, rank }), expected);
    }
  }
  await assert.rejects(trainMemoryEstimate({ model: dir, qlora: false, rank: 8 }), /config\.json: missing \(pick a Hugging Face model folder\)/);
});

test('the job request is one the train job accepts, with the chosen method, rank and epochs', () => {
  const r = trainJobRequest({ model: '/m/student', data: '/w/.taxonomy-studio/runs/generate-1', qlora: true, rank: 16, epochs: 3 });
  assert.deepEqual(trainJob.parseArgs(r.args), { model: '/m/student', data: '/w/.taxonomy-studio/runs/generate-1' });
  const s = trainJob.parseSettings(r.settings);
  assert.deepEqual([s.run.qlora, s.run.rank, s.run.epochs], [true, 16, 3]);
  assert.throws(() => trainJobRequest({ model: 'student', data: '/d', qlora: false, rank: 8, epochs: 1 }), /absolute paths, not student/);
});

test('the question says whether the estimate fits the free memory', () => {
  const e = { baseWeights: 100 * 2 ** 20, lora: 10 * 2 ** 20, activations: 50 * 2 ** 20, runtime: 160 * 2 ** 20, total: 320 * 2 ** 20 };
  const fits = memoryQuestion(e, 2 ** 30);
  assert.equal(fits.message, 'Training needs 320.0 MiB; 1.00 GiB is free. Start?');
  assert.ok(fits.fits);
  const not = memoryQuestion(e, 200 * 2 ** 20);
  assert.equal(not.message, 'Training needs 320.0 MiB but only 200.0 MiB is free.');
  assert.match(not.detail, /^about 320\.0 MiB: base weights 100\.0 MiB, .* choose QLoRA or a lower rank/);
  assert.equal(not.fits, false);
});
