import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipelineJob } from '../../../engine/pipeline/job';

const pipelineArgsOf = (raw: Record<string, unknown>) => pipelineJob.parseArgs(raw);
const pipelineSettingsOf = (raw: Record<string, unknown>) => pipelineJob.parseSettings(raw);
import { pipelineJobRequest, reportOf } from '../../../extension/pipeline/request';

const base = { taxonomy: '/w/taxonomy', student: '/models/student', teacher: { label: 'vllm', teacher: 'http://10.0.0.2:8000/v1', model: 'mixtral' }, qlora: true };

test('the editor request is one the pipeline job accepts: changed leaves, the teacher and its key variable, never the key', () => {
  const r = pipelineJobRequest({ ...base, leaves: ['/w/taxonomy/knowledge/a/qna.yaml'], key: { settings: { apiKeyEnv: 'TAXONOMY_STUDIO_TEACHER_API_KEY' }, env: { TAXONOMY_STUDIO_TEACHER_API_KEY: 'sk-secret' } } });
  assert.equal(r.kind, 'pipeline');
  const args = pipelineArgsOf(r.args);
  assert.deepEqual([args.taxonomy, args.student, args.leaves, args.all, args.qlora], ['/w/taxonomy', '/models/student', ['/w/taxonomy/knowledge/a/qna.yaml'], false, true]);
  const settings = pipelineSettingsOf(r.settings);
  assert.equal(settings.teacher, 'http://10.0.0.2:8000/v1');
  assert.deepEqual(settings.generate, { model: 'mixtral', apiKeyEnv: 'TAXONOMY_STUDIO_TEACHER_API_KEY' });
  assert.ok(!JSON.stringify(r).includes('sk-secret'));
});

test('no changed leaf: every leaf; relative paths are refused; the report comes from the summary', () => {
  const r = pipelineJobRequest({ ...base, leaves: [], all: true, key: { settings: {}, env: {} } });
  assert.equal(pipelineArgsOf(r.args).all, true);
  assert.throws(() => pipelineJobRequest({ ...base, student: 'student', leaves: [], key: { settings: {}, env: {} } }), /absolute paths, not student/);
  assert.equal(reportOf({ report: '/w/.taxonomy-studio/runs/pipeline-1/report.md' }), '/w/.taxonomy-studio/runs/pipeline-1/report.md');
  assert.equal(reportOf({ report: 'report.md' }), undefined);
  assert.equal(reportOf({}), undefined);
});
