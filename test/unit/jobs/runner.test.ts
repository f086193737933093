// The job runner in this process, with demo-count: reports in order, cancel, failure, a full disk, resume after a
// kill that tore the last lines; requests refused before anything is written; and the rate, ETA and throttle maths.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobArgsError, UnknownJobKindError } from '../../../engine/jobs/errors';
import { formatDuration, formatProgress, formatRate, percentDone } from '../../../engine/jobs/format';
import { defineJob } from '../../../engine/jobs/job';
import { RateMeter } from '../../../engine/jobs/rate';
import { readRunRecord, RunDir, runFiles } from '../../../engine/jobs/runDir';
import { ProgressThrottle, startJob } from '../../../engine/jobs/runner';
import type { JobProgress, JobStartParams } from '../../../engine/rpc/protocol';
import { abandon, countedUnits, DiskFullFs, jsonLines, kindList, range, Recorder, tempRoot } from './helpers';

const tmp = tempRoot('ts-runner-');
after(() => tmp.remove());

const demo = (runDir: string, n: number, settings: Record<string, unknown> = { delayMs: 0 }, over: Partial<JobStartParams> = {}): JobStartParams => ({
  kind: 'demo-count',
  args: { n },
  settings,
  runDir,
  ...over,
});

describe('demo-count through the runner', () => {
  test('reports every unit in order, a partial per unit, and ends succeeded with its summary recorded', async () => {
    const dir = tmp.next();
    const events = new Recorder();
    const job = await startJob(demo(dir, 6), events, { progressIntervalMs: 0 });
    assert.equal(job.state(), 'running');
    assert.equal(job.resumedUnits, 0);
    const outcome = await job.outcome;
    assert.deepEqual(outcome, { status: 'succeeded', summary: { counted: 6, resumedFrom: 0, output: 'counts.jsonl' } });
    assert.equal(job.state(), 'succeeded');
    assert.deepEqual(events.progresses.map((p) => p.done), range(7));
    for (const p of events.progresses) {
      assert.equal(p.total, 6);
      assert.equal(p.unit, 'units');
      assert.equal(p.stage, 'counting', 'the stage stays until another is named');
    }
    assert.deepEqual(events.partials, range(6).map((unit) => ({ name: 'count', data: { unit } })));
    assert.deepEqual(countedUnits(dir), range(6));
    assert.deepEqual(jsonLines(join(dir, 'counts.jsonl'))[5], { unit: 5, square: 25 });
    const record = await readRunRecord(dir);
    assert.equal(record?.status, 'succeeded');
    assert.deepEqual(record?.summary, outcome.summary);
    assert.equal(job.cancel(), false, 'a finished job cannot be cancelled');
  });

  test('cancel mid-run: status cancelled, the finished units kept, the unit in hand not written', async () => {
    const dir = tmp.next();
    const events = new Recorder();
    const job = await startJob(demo(dir, 20, { delayMs: 0, holdAt: 7 }), events);
    await events.waitFor(() => events.logs.some((l) => l.text.startsWith('holding before unit 7')));
    assert.equal(job.cancel(), true);
    assert.equal(job.cancel(), false, 'cancelling twice is one cancel');
    const outcome = await job.outcome;
    assert.deepEqual(outcome, { status: 'cancelled', summary: { finishedUnits: 7 } });
    assert.deepEqual(countedUnits(dir), range(7));
    assert.equal(events.progresses.at(-1)?.done, 7, 'the report held back is sent before the end');
    const record = await readRunRecord(dir);
    assert.equal(record?.status, 'cancelled');
    assert.ok(!existsSync(join(dir, runFiles.lock)));

    // Resume with other settings (no hold): the 13 units left, each once.
    const rest = new Recorder();
    const resumed = await startJob(demo(dir, 20, { delayMs: 0 }, { resume: true }), rest, { progressIntervalMs: 0 });
    assert.equal(resumed.resumedUnits, 7);
    assert.deepEqual(await resumed.outcome, { status: 'succeeded', summary: { counted: 20, resumedFrom: 7, output: 'counts.jsonl' } });
    assert.deepEqual(countedUnits(dir), range(20));
    assert.deepEqual(rest.progresses.map((p) => p.done), range(21, 7));
    assert.equal(rest.logs[0].text, `resuming ${dir} (attempt 2): 7 units were finished before`);
    assert.equal((await readRunRecord(dir))?.attempts, 2);
  });

  test('a failing job ends failed with its message; the finished units are kept', async () => {
    const dir = tmp.next();
    const outcome = await (await startJob(demo(dir, 10, { delayMs: 0, failAt: 3 }), new Recorder())).outcome;
    assert.deepEqual(outcome, { status: 'failed', summary: { finishedUnits: 3 }, error: { message: 'unit 3 failed, as the failAt setting asked' } });
    assert.deepEqual(countedUnits(dir), range(3));
    assert.deepEqual((await readRunRecord(dir))?.error, outcome.error);
  });

  test('resume after a kill: a torn ledger line and the lines of unfinished units are dropped and redone, each unit once', async () => {
    const dir = tmp.next();
    // What a SIGKILL leaves: five units committed, the sixth's line written and its ledger line torn, the
    // seventh's line half written. The dead process's lock stays.
    const killed = await RunDir.open(dir, { kind: 'demo-count', args: { n: 12 }, settings: { delayMs: 0 }, resume: false, engineVersion: '0', pid: 999_999_999, isAlive: () => false });
    for (let i = 0; i < 5; i++) await killed.commit(`unit-${i}`, { 'counts.jsonl': [{ unit: i, square: i * i }] });
    await abandon(killed, 999_999_999);
    appendFileSync(join(dir, 'counts.jsonl'), '{"unit":5,"square":25}\n{"unit":6,"squ');
    appendFileSync(join(dir, runFiles.ledger), '{"key":"unit-5","sizes":{"coun');

    const events = new Recorder();
    const job = await startJob(demo(dir, 12, undefined, { resume: true, args: undefined, settings: undefined }), events, { isAlive: () => false });
    assert.equal(job.resumedUnits, 5);
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(countedUnits(dir), range(12));
    assert.deepEqual(
      events.logs.map((l) => l.text),
      [
        `resuming ${dir} (attempt 2): 5 units were finished before`,
        'ledger.jsonl: dropped a torn last line (30 bytes); that unit is redone',
        'counts.jsonl: dropped 1 line of unfinished units and a torn last line (37 bytes); those units are redone',
      ],
    );
    assert.deepEqual(jsonLines(join(dir, runFiles.ledger)).map((e) => (e as { key: string }).key), range(12).map((i) => `unit-${i}`));
  });

  test('a full disk fails the job with a message naming the file; resume finishes every unit exactly once', async () => {
    const dir = tmp.next();
    // Room for the opening and a few units: the disk fills partway through.
    const disk = new DiskFullFs(1400);
    const outcome = await (await startJob(demo(dir, 30), new Recorder(), { fs: disk })).outcome;
    assert.equal(outcome.status, 'failed');
    const kept = countedUnits(dir);
    assert.ok(kept.length > 0 && kept.length < 30, `some units were finished before the disk filled (${kept.length})`);
    assert.deepEqual(kept, range(kept.length));
    assert.equal(outcome.summary.finishedUnits, kept.length);
    assert.equal(outcome.error?.code, 'ENOSPC');
    assert.ok(outcome.error?.file?.startsWith(dir), outcome.error?.file);
    assert.match(outcome.error?.message ?? '', new RegExp(`: writing failed \\(ENOSPC: no space left on device\\); the disk is full: free disk space on the drive holding ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, then resume the run\\. The ${kept.length} units finished before are kept$`));

    const resumed = await (await startJob(demo(dir, 30, undefined, { resume: true }), new Recorder())).outcome;
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual(countedUnits(dir), range(30));
  });
});

describe('requests the runner refuses', () => {
  test('an unknown kind names the kinds there are; bad args name the field; nothing is written', async () => {
    const dir = tmp.next();
    await assert.rejects(startJob({ kind: 'nope', runDir: dir }, new Recorder()), (err: UnknownJobKindError) => {
      assert.ok(err instanceof UnknownJobKindError);
      assert.equal(err.message, `unknown job kind 'nope' (the engine runs: ${kindList})`);
      assert.ok(kindList.split(', ').includes('demo-count'), kindList);
      return true;
    });
    const cases: [Record<string, unknown> | undefined, Record<string, unknown> | undefined, string][] = [
      [{}, undefined, 'n: required (a whole number)'],
      [{ n: 'x' }, undefined, 'n: expected a whole number from 0 to 10000000, got "x"'],
      [{ n: 2.5 }, undefined, 'n: expected a whole number from 0 to 10000000, got 2.5'],
      [{ n: 2, m: 1 }, undefined, "args: unknown field 'm' (expected 'n')"],
      [{ n: 2 }, { delay: 1, hold: 2 }, "settings: unknown fields 'delay', 'hold' (expected 'delayMs', 'holdAt', 'crashAt', 'failAt')"],
      [{ n: 2 }, { delayMs: -1 }, 'delayMs: expected a whole number from 0 to 60000, got -1'],
    ];
    for (const [args, settings, message] of cases) {
      await assert.rejects(startJob({ kind: 'demo-count', args, settings, runDir: dir }, new Recorder()), (err: Error) => {
        assert.ok(err instanceof JobArgsError);
        assert.equal(err.message, message);
        return true;
      });
    }
    assert.ok(!existsSync(dir), 'a refused request creates no run folder');
  });

  test('a bug in a job is a failure that says so, with the stack in log.jsonl', async () => {
    const dir = tmp.next();
    const buggy = defineJob({
      kind: 'buggy',
      title: 'Buggy',
      description: 'throws',
      unit: 'things',
      parseArgs: () => ({}),
      parseSettings: () => ({}),
      run: async () => {
        throw new TypeError('boom');
      },
      describe: () => '',
    });
    const outcome = await (await startJob({ kind: 'buggy', runDir: dir }, new Recorder(), { table: [buggy] })).outcome;
    assert.deepEqual(outcome, {
      status: 'failed',
      summary: { finishedUnits: 0 },
      error: { message: "internal error: boom (a bug: the run's log.jsonl has the stack)", code: 'internal' },
    });
    const log = readFileSync(join(dir, runFiles.log), 'utf8');
    assert.match(log, /"level":"error","text":"TypeError: boom\\n    at /);
  });
});

describe('progress maths', () => {
  test('the rate looks over a window, needs half a second of samples, and restarts when the count drops', () => {
    const m = new RateMeter({ windowSeconds: 10 });
    m.sample(0, 0);
    assert.equal(m.rate(), undefined);
    m.sample(0.25, 1);
    assert.equal(m.rate(), undefined, 'a quarter second says little');
    m.sample(1, 4);
    assert.equal(m.rate(), 4);
    assert.equal(m.etaSeconds(20), 4);
    assert.equal(m.etaSeconds(undefined), undefined);
    m.sample(11, 14);
    // The window keeps one sample older than 10 s: (14 - 4) / (11 - 1).
    assert.equal(m.rate(), 1);
    m.sample(21, 14);
    assert.equal(m.rate(), 0);
    assert.equal(m.etaSeconds(20), undefined, 'no ETA while stalled');
    m.sample(22, 2);
    assert.equal(m.rate(), undefined, 'a new stage counting from 2 starts over');
  });

  test('the throttle sends the first report, new stages and the last unit at once, and the latest held report later', () => {
    let now = 0;
    const sent: JobProgress[] = [];
    const t = new ProgressThrottle((p) => sent.push(p), 100, () => now);
    const p = (done: number, stage = 'a'): JobProgress => ({ done, total: 10, unit: 'u', stage });
    t.push(p(0));
    now = 10;
    t.push(p(1));
    now = 20;
    t.push(p(2));
    assert.deepEqual(sent.map((x) => x.done), [0]);
    now = 30;
    t.push(p(3, 'b'));
    assert.deepEqual(sent.map((x) => x.done), [0, 3], 'a new stage goes at once; the held 2 is superseded');
    now = 140;
    t.push(p(4, 'b'));
    assert.deepEqual(sent.map((x) => x.done), [0, 3, 4], '100 ms after the last report');
    now = 150;
    t.push(p(5, 'b'));
    t.flush();
    assert.deepEqual(sent.map((x) => x.done), [0, 3, 4, 5]);
    t.flush();
    assert.equal(sent.length, 4, 'nothing held: flush sends nothing');
    now = 151;
    t.push(p(10, 'b'));
    assert.deepEqual(sent.map((x) => x.done), [0, 3, 4, 5, 10], 'the last unit goes at once');
  });

  test('durations, rates and progress lines', () => {
    assert.deepEqual([0, 3, 59.6, 187, 3599, 4000, 36_000].map(formatDuration), ['0:00', '0:03', '1:00', '3:07', '59:59', '1:06:40', '10:00:00']);
    assert.equal(formatRate(4.54, 'units'), '4.5 units/s');
    assert.equal(formatRate(12.6, 'units'), '13 units/s');
    assert.equal(formatRate(0.2, 'samples'), '12 samples/min');
    assert.equal(formatRate(0.1, 'samples'), '6.0 samples/min');
    assert.equal(formatRate(0.001, 'steps'), '3.6 steps/h');
    assert.equal(percentDone({ done: 199, total: 200 }), 99, 'rounded down: 100% only when done');
    assert.equal(percentDone({ done: 0, total: 0 }), 100);
    assert.equal(percentDone({ done: 3 }), undefined);
    assert.equal(formatProgress({ done: 9, total: 20, unit: 'units', rate: 4.5, etaSeconds: 2.4 }), '9/20 units (45%), 4.5 units/s, ETA 0:02');
    assert.equal(formatProgress({ done: 20, total: 20, unit: 'units', rate: 4.5, etaSeconds: 0 }), '20/20 units (100%), 4.5 units/s');
    assert.equal(formatProgress({ done: 7, unit: 'chunks' }), '7 chunks');
  });
});
