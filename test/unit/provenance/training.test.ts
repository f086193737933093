import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainingProvenance } from '../../../engine/provenance/training';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('training on a generate run records its leaves (relative to the taxonomy), teacher, dataset files and base', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-train-'));
  try {
    const taxonomy = join(dir, 'taxonomy');
    const leaf = join(taxonomy, 'knowledge', 'astronomy', 'qna.yaml');
    mkdirSync(join(taxonomy, 'knowledge', 'astronomy'), { recursive: true });
    writeFileSync(leaf, 'version: 3\n');
    const model = join(dir, 'model');
    mkdirSync(model);
    writeFileSync(join(model, 'config.json'), '{"model_type":"llama"}');
    const run = join(dir, 'run');
    mkdirSync(run);
    const gone = join(taxonomy, 'knowledge', 'deleted', 'qna.yaml');
    writeFileSync(join(run, 'job.json'), JSON.stringify({ format: 1, kind: 'generate', args: { taxonomy, leaves: [leaf, gone] }, settings: { teacher: 'http://127.0.0.1:8000/v1' } }));
    writeFileSync(join(run, 'knowledge_train_msgs.jsonl'), '{"messages":[]}\n');
    writeFileSync(join(run, 'report.json'), JSON.stringify({ mixed: [{ file: 'knowledge_train_msgs.jsonl', lines: 1 }] }));

    const prov = await trainingProvenance(model, run, { rank: 8 });
    assert.deepEqual(prov.leaves, [{ path: 'knowledge/astronomy/qna.yaml', sha: `sha256:${sha256('version: 3\n')}` }]);
    assert.equal(prov.taxonomy, taxonomy);
    assert.equal(prov.teacher, 'http://127.0.0.1:8000/v1');
    assert.deepEqual(prov.dataset?.files, [{ path: join(run, 'knowledge_train_msgs.jsonl'), sha256: sha256('{"messages":[]}\n') }]);
    assert.equal(prov.baseModel?.sha256, sha256('{"model_type":"llama"}'));
    assert.deepEqual(prov.settings, { rank: 8 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
