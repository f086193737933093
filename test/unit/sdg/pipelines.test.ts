// Pipeline pieces without a teacher: which pipeline a leaf gets and its unit count, which seeds and chunks a unit
// uses, dedup of staged samples against each other and the seeds, and the estimate line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateLine } from '../../../engine/sdg/generate';
import { finishLeaf } from '../../../engine/sdg/pipelines/finalize';
import { planLeaf, unitChunk, unitSeeds, type LeafPlan } from '../../../engine/sdg/pipelines/plan';
import type { StagedSample, UnitResult } from '../../../engine/sdg/pipelines/units';
import { parseLeaf } from '../../../engine/taxonomy/leaf';

const skill = (withContext: boolean) =>
  `version: 3\ncreated_by: t\ntask_description: Write notes.\nseed_examples:\n` +
  [0, 1, 2, 3, 4].map((i) => `  - ${withContext ? `context: Log ${i} says the dome stuck.\n    ` : ''}question: Seed question number ${i}?\n    answer: Seed answer ${i}.\n`).join('');

describe('pipelines', () => {
  test('a skill leaf is freeform or grounded by its seeds; the target is perSeed × seeds; units go round the seeds', async () => {
    const free = await planLeaf(parseLeaf(skill(false), '/t/compositional_skills/writing/notes/qna.yaml'), { perSeed: 3 });
    assert.deepEqual([free.pipeline, free.leaf, free.target, free.task], ['freeform_skill', 'compositional_skills/writing/notes', 15, 'Write notes.']);
    const grounded = await planLeaf(parseLeaf(skill(true), '/t/compositional_skills/extraction/notes/qna.yaml'), { perSeed: 2 });
    assert.deepEqual([grounded.pipeline, grounded.target, grounded.seeds[1][0].context], ['grounded_skill', 10, 'Log 1 says the dome stuck.']);
    assert.deepEqual(unitSeeds(free, 6).examples.map((e) => e.question), ['Seed question number 1?', 'Seed question number 2?', 'Seed question number 3?']);
    assert.equal(unitSeeds(free, 4).focus, 4);
    const k = { ...free, chunks: [{ file: 'a', text: 'A' }, { file: 'b', text: 'B' }] } as LeafPlan;
    assert.deepEqual([0, 1, 2, 3].map((u) => unitChunk(k, u)), [0, 1, 0, 1]);
  });

  test('finishLeaf drops copies of seed questions and duplicates of earlier units, keeping unit order', async () => {
    const plan = await planLeaf(parseLeaf(skill(false), '/t/compositional_skills/writing/notes/qna.yaml'), { perSeed: 1 });
    const s = (unit: number, question: string): StagedSample => ({ leaf: plan.leaf, unit, question, answer: `A${unit}`, scores: {} });
    const staged = [s(3, 'How do I close the roll-off roof when rain is coming?'), s(0, 'seed question NUMBER 2'), s(1, 'Which eyepiece suits the Orion nebula on a hazy night?'), s(4, 'How do I close the roll-off roof when rain is coming!')];
    const d = finishLeaf(plan, staged, { systemPrompt: 'SYS', seed: 1 });
    assert.deepEqual(d.kept.map((x) => x.unit), [1, 3]);
    assert.deepEqual(d.dropped, { 'exact duplicate': 2 });
    assert.deepEqual(d.skill!.map((l) => l.messages.map((m) => m.content)), [
      ['SYS', 'Which eyepiece suits the Orion nebula on a hazy night?', 'A1'],
      ['SYS', 'How do I close the roll-off roof when rain is coming?', 'A3'],
    ]);
  });

  test('the estimate scales the calibration units to what is left', async () => {
    const plan = await planLeaf(parseLeaf(skill(false), '/t/compositional_skills/writing/notes/qna.yaml'), { perSeed: 1 });
    const unit: UnitResult = { usage: { calls: 4, failed: 0, promptTokens: 400, completionTokens: 40, ms: 100 } };
    const line = estimateLine([unit, unit], 2, Array.from({ length: 30 }, () => ({ p: { plan } })));
    // 30 units × 4 calls × (100 in + 10 out) per call; 1 s per unit.
    assert.equal(line, 'estimate: 30 units left, about 30 s and at most ~13,200 teacher tokens (12,000 in, 1,200 out), from 2 calibration units in 2.0 s');
  });
});
