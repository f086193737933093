import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobArgsError } from '../../../engine/jobs/errors';
import { startJob, type JobEvents } from '../../../engine/jobs/runner';
import { trainJob } from '../../../engine/train/job';
import { readProvenanceJson } from '../../../engine/provenance';
import { createHash } from 'node:crypto';
import { tinyModel, toyDatasetLines } from './helpers';

test('the train job runs through the job runner: steps as progress, outputs in the run folder, cancel then resume', async () => {
  const { dir: model } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'train-job-'));
  try {
    const data = join(work, 'data.jsonl');
    writeFileSync(data, toyDatasetLines().join('\n'));
    const settings = { rank: 4, alpha: 8, lr: 0.01, batchTokens: 256, maxSeqLen: 64, epochs: 2, evalFraction: 0.2 };
    assert.throws(() => trainJob.parseSettings({ ...settings, rank: 0 }), (e: unknown) => e instanceof JobArgsError && /rank/.test((e as Error).message));
    assert.throws(() => trainJob.parseArgs({ model }), /data: required/);

    const progress: number[] = [];
    let running: Awaited<ReturnType<typeof startJob>> | undefined;
    const events: JobEvents = {
      progress: (p) => {
        progress.push(p.done);
        if (p.done === 3 && running?.state() === 'running') running.cancel();
      },
      log: () => undefined,
      partial: () => undefined,
    };
    const runDir = join(work, 'run');
    const request = { kind: 'train', args: { model, data }, settings, runDir };
    const table = [trainJob];
    running = await startJob(request, events, { table, progressIntervalMs: 0 });
    const first = await running.outcome;
    assert.equal(first.status, 'cancelled');
    assert.ok(existsSync(join(runDir, 'checkpoints', 'step-000003')));
    const second = await (await startJob({ ...request, resume: true }, { ...events, progress: (p) => progress.push(p.done) }, { table, progressIntervalMs: 0 })).outcome;
    assert.equal(second.status, 'succeeded', JSON.stringify(second.error));
    assert.equal(second.summary.steps, 8);
    assert.ok(progress.includes(8));
    assert.ok(existsSync(join(runDir, 'adapter', 'adapter_model.safetensors')));
    assert.equal(readFileSync(join(runDir, 'loss.csv'), 'utf8').trim().split('\n').length, 10);
    // What produced the adapter, for export-adapter to embed: base model by its config.json, the JSONL by its hash.
    const prov = await readProvenanceJson(join(runDir, 'adapter', 'provenance.json'));
    assert.equal(prov?.baseModel?.sha256, createHash('sha256').update(readFileSync(join(model, 'config.json'))).digest('hex'));
    assert.equal(prov?.dataset?.sha256, createHash('sha256').update(readFileSync(data)).digest('hex'));
    assert.deepEqual([prov?.leaves, prov?.settings?.rank, prov?.settings?.epochs], [[], 4, 2]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
