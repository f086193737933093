// The pipeline's export stage records provenance in both GGUFs it writes: the adapter (leaves by git blob sha,
// dataset, teacher without credentials, student, settings) and the converted student (the student alone).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFixtureAdapter } from '../../../engine/gguf/lora/fixtureAdapter';
import { startJob } from '../../../engine/jobs/runner';
import type { CheckStageSummary } from '../../../engine/pipeline/checkStage';
import { exportStageJob, type ExportStageSummary } from '../../../engine/pipeline/exportStage';
import { pipelineJob, stageRequest } from '../../../engine/pipeline/job';
import { readProvenance, sidecarPath } from '../../../engine/provenance';
import { fixture, tempFolder } from '../gguf/convertFixtures';

const tmp = tempFolder('provenance-export-');
after(() => tmp.remove());

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const sha256sum = (file: string) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

test('export writes the provenance the pipeline hands it into adapter.gguf and base.gguf', async () => {
  const taxonomy = join(tmp.dir, 'taxonomy');
  const leaf = join(taxonomy, 'compositional_skills', 'haiku', 'qna.yaml');
  mkdirSync(join(taxonomy, 'compositional_skills', 'haiku'), { recursive: true });
  writeFileSync(leaf, 'version: 3\ntask_description: haiku\n');
  git(taxonomy, 'init', '-q', '-b', 'main');
  git(taxonomy, 'add', '.');
  git(taxonomy, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'leaf');

  const student = await fixture(tmp.dir, { size: 'tiny' });
  const runDir = join(tmp.dir, 'run');
  await writeFixtureAdapter(join(runDir, 'train', 'adapter'), student, { rank: 4 });
  const generate = join(runDir, 'generate');
  mkdirSync(generate, { recursive: true });
  writeFileSync(join(generate, 'skills_train_msgs.jsonl'), '{"messages":[]}\n');
  writeFileSync(join(generate, 'report.json'), JSON.stringify({ mixed: [{ file: 'skills_train_msgs.jsonl', lines: 1 }] }));

  // The request the pipeline makes, from its own args and the check stage's summary.
  const args = pipelineJob.parseArgs({ taxonomy, student, rank: 4 });
  const settings = pipelineJob.parseSettings({ teacher: 'http://user:secret@127.0.0.1:8000/v1', threads: 1, train: { lr: 0.001 } });
  const check: CheckStageSummary = { selection: 'every leaf', leaves: [{ file: leaf, path: 'compositional_skills/haiku', errors: 0, warnings: 0 }], errors: 0, warnings: 0, findings: 'findings.jsonl' };
  const request = stageRequest('export', args, settings, { check }, runDir, generate);

  const job = await startJob({ kind: exportStageJob.kind, runDir: join(runDir, 'export'), args: request.args, settings: request.settings }, { progress() {}, log() {}, partial() {} }, { table: [exportStageJob] });
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.error));
  const summary = outcome.summary as ExportStageSummary;

  const adapter = await readProvenance(summary.adapter.file);
  assert.equal(adapter?.source, 'gguf');
  const prov = adapter!.provenance;
  assert.deepEqual(prov.leaves, [{ path: 'compositional_skills/haiku/qna.yaml', sha: git(taxonomy, 'rev-parse', 'HEAD:compositional_skills/haiku/qna.yaml') }]);
  assert.equal(prov.taxonomy, taxonomy);
  assert.deepEqual(prov.dataset?.files, [{ path: join(generate, 'skills_train_msgs.jsonl'), sha256: sha256sum(join(generate, 'skills_train_msgs.jsonl')) }]);
  assert.equal(prov.teacher, 'http://127.0.0.1:8000/v1', 'credentials in the URL are not recorded');
  assert.deepEqual(prov.baseModel, { path: student, sha256: sha256sum(join(student, 'config.json')), hashed: 'config.json' });
  assert.deepEqual(prov.settings, { perSeed: 30, seed: 42, rank: 4, epochs: 1, qlora: false, 'train.lr': 0.001, adapterType: 'f32' });
  assert.deepEqual(JSON.parse(readFileSync(sidecarPath(summary.adapter.file), 'utf8')), prov);
  assert.equal(summary.adapter.size, statSync(summary.adapter.file).size);

  const base = await readProvenance(summary.base.file);
  assert.deepEqual(base?.provenance.leaves, []);
  assert.deepEqual(base?.provenance.settings, { baseType: 'f16' });
  assert.equal(base?.provenance.baseModel?.path, student);
  assert.equal(summary.base.size, statSync(summary.base.file).size);
});
