// Run folders: what a new run records, which folders are refused, commits and the ledger, and what a resume repairs
// after a kill (a torn last line, lines of units that never committed) or finds damaged; a full disk on every step.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunDirError } from '../../../engine/jobs/errors';
import { readRunRecord, RunDir, runFiles, type OpenRunOptions } from '../../../engine/jobs/runDir';
import { abandon, DiskFullFs, jsonLines, tempRoot } from './helpers';

const tmp = tempRoot('ts-rundir-');
after(() => tmp.remove());

const clock = (iso: string) => () => new Date(iso);
const base = (over: Partial<OpenRunOptions> = {}): OpenRunOptions => ({
  kind: 'demo-count',
  args: { n: 3 },
  settings: { delayMs: 5 },
  resume: false,
  engineVersion: '9.9.9',
  now: clock('2030-01-02T03:04:05.000Z'),
  pid: 4242,
  isAlive: () => false,
  ...over,
});

/** A run that committed units 0..k-1 of demo-count's shape, then stopped without finishing (a kill). */
async function killedRun(dir: string, k: number): Promise<void> {
  const run = await RunDir.open(dir, base());
  for (let i = 0; i < k; i++) await run.commit(`unit-${i}`, { 'counts.jsonl': [{ unit: i }] });
  // The process "died" here: job.json still says running, run.lock names pid 4242, which isAlive says is gone.
  await abandon(run, 4242);
}

describe('a new run', () => {
  test('records kind, args, settings, engine version and times in job.json, and locks the folder', async () => {
    const dir = tmp.next();
    const run = await RunDir.open(dir, base());
    assert.deepEqual(await readRunRecord(dir), {
      format: 1,
      kind: 'demo-count',
      args: { n: 3 },
      settings: { delayMs: 5 },
      engineVersion: '9.9.9',
      createdAt: '2030-01-02T03:04:05.000Z',
      startedAt: '2030-01-02T03:04:05.000Z',
      status: 'running',
      attempts: 1,
      pid: 4242,
    });
    assert.equal(readFileSync(join(dir, runFiles.lock), 'utf8'), '4242\n');
    assert.equal(run.resumed, false);
    assert.deepEqual(run.notes, []);
    run.log('info', 'hello');
    run.log('warn', 'careful\nsecond line');
    await run.commit('unit-0', { 'counts.jsonl': [{ unit: 0 }, { unit: 0.5 }], 'other/x.jsonl': [] });
    const problem = await run.finish({ status: 'succeeded', summary: { counted: 1 } });
    assert.equal(problem, undefined);
    assert.deepEqual(readdirSync(dir).sort(), ['counts.jsonl', 'job.json', 'ledger.jsonl', 'log.jsonl']);
    assert.deepEqual(jsonLines(join(dir, runFiles.log)), [
      { t: '2030-01-02T03:04:05.000Z', level: 'info', text: 'hello' },
      { t: '2030-01-02T03:04:05.000Z', level: 'warn', text: 'careful\nsecond line' },
    ]);
    assert.equal(readFileSync(join(dir, 'counts.jsonl'), 'utf8'), '{"unit":0}\n{"unit":0.5}\n');
    assert.equal(readFileSync(join(dir, runFiles.ledger), 'utf8'), '{"key":"unit-0","sizes":{"counts.jsonl":24}}\n');
    const record = await readRunRecord(dir);
    assert.equal(record?.status, 'succeeded');
    assert.equal(record?.finishedAt, '2030-01-02T03:04:05.000Z');
    assert.deepEqual(record?.summary, { counted: 1 });
  });

  test('refuses a folder that holds a run (unless resumed), a non-empty folder, and a folder a live process runs', async () => {
    const dir = tmp.next();
    await (await RunDir.open(dir, base())).finish({ status: 'succeeded', summary: {} });
    await assert.rejects(RunDir.open(dir, base()), (err: RunDirError) => {
      assert.equal(err.problem, 'exists');
      assert.equal(err.message, `${dir}: the folder already holds a demo-count run (succeeded, started 2030-01-02T03:04:05.000Z); resume it (--resume), or choose a new folder for a new run`);
      return true;
    });

    const full = tmp.next();
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    await assert.rejects(RunDir.open(full, base()), {
      name: 'RunDirError',
      problem: 'not-empty',
      message: `${full}: the folder is not empty and holds no run (no job.json); choose a new or empty folder for the run`,
    });
    assert.deepEqual(readdirSync(full), ['notes.txt'], 'nothing was written into it');

    const busy = tmp.next();
    await killedRun(busy, 1);
    await assert.rejects(RunDir.open(busy, base({ resume: true, pid: 7, isAlive: (pid) => pid === 4242 })), {
      problem: 'busy',
      message: `${busy}: process 4242 is running this job now; wait for it to end or cancel it before resuming`,
    });
  });

  test('a resume must be of the same kind and, when args are given, the same args', async () => {
    const dir = tmp.next();
    await (await RunDir.open(dir, base({ args: { n: 3, extra: 'a' } }))).finish({ status: 'cancelled', summary: {} });
    await assert.rejects(RunDir.open(dir, base({ resume: true, kind: 'generate' })), {
      problem: 'mismatch',
      message: `${dir}: the folder holds a demo-count run (cancelled, started 2030-01-02T03:04:05.000Z), not a generate run; choose a new folder for a new run`,
    });
    await assert.rejects(RunDir.open(dir, base({ resume: true, args: { n: 4 } })), {
      problem: 'mismatch',
      message: `${dir}: the run was started with other arguments (extra="a", not (none); n=3, not 4); resume with the same arguments or none, or choose a new folder for a new run`,
    });
    // Same args in another key order, or none: accepted; settings may change.
    const run = await RunDir.open(dir, base({ resume: true, args: { extra: 'a', n: 3 }, settings: { delayMs: 0 }, now: clock('2030-02-01T00:00:00.000Z') }));
    assert.equal(run.resumed, true);
    assert.deepEqual(run.info.settings, { delayMs: 0 });
    assert.equal(run.info.attempts, 2);
    assert.equal(run.info.createdAt, '2030-01-02T03:04:05.000Z');
    assert.equal(run.info.startedAt, '2030-02-01T00:00:00.000Z');
    await run.finish({ status: 'succeeded', summary: {} });
    const again = await RunDir.open(dir, base({ resume: true, args: undefined, settings: undefined }));
    assert.deepEqual(again.info.args, { n: 3, extra: 'a' });
    assert.deepEqual(again.info.settings, { delayMs: 0 }, 'no settings given: the recorded ones');
    await again.release();
  });

  test('a resume of a folder without a run starts a new one, and says so', async () => {
    const dir = tmp.next();
    const run = await RunDir.open(dir, base({ resume: true }));
    assert.equal(run.resumed, false);
    assert.deepEqual(run.notes, [`nothing to resume in ${dir}: starting a new run`]);
    await run.release();
    assert.ok(!existsSync(join(dir, runFiles.lock)), 'release removes the lock');
  });
});

describe('commits and resume', () => {
  test('completed keys and their meta survive into the next attempt; a unit cannot commit twice', async () => {
    const dir = tmp.next();
    const run = await RunDir.open(dir, base());
    await Promise.all([run.commit('a', { 'o.jsonl': [1] }, { tokens: 10 }), run.commit('b', { 'o.jsonl': [2, 3] }), run.commit('c', {})]);
    await assert.rejects(run.commit('a', { 'o.jsonl': [9] }), { problem: 'misuse', message: `${dir}: unit 'a' was committed before; check isDone(key) before redoing a unit` });
    await run.finish({ status: 'cancelled', summary: {} });
    await assert.rejects(run.commit('d', {}), { problem: 'misuse' });

    const next = await RunDir.open(dir, base({ resume: true }));
    assert.deepEqual([...next.completedKeys()], ['a', 'b', 'c']);
    assert.deepEqual(next.completedMeta('a'), { tokens: 10 });
    assert.equal(next.isDone('d'), false);
    assert.deepEqual(await next.readJsonl('o.jsonl'), [1, 2, 3]);
    assert.deepEqual(next.notes, []);
    await next.release();
  });

  test('a torn last ledger line is dropped, and the output lines of that unit with it', async () => {
    const dir = tmp.next();
    await killedRun(dir, 3);
    // Killed while committing unit 3: its output line is complete, its ledger line half written.
    appendFileSync(join(dir, 'counts.jsonl'), '{"unit":3}\n');
    appendFileSync(join(dir, runFiles.ledger), '{"key":"unit-3","siz');
    const run = await RunDir.open(dir, base({ resume: true }));
    assert.deepEqual(run.notes, [
      'ledger.jsonl: dropped a torn last line (20 bytes); that unit is redone',
      'counts.jsonl: dropped 1 line of unfinished units (11 bytes); those units are redone',
    ]);
    assert.deepEqual([...run.completedKeys()], ['unit-0', 'unit-1', 'unit-2']);
    assert.deepEqual(jsonLines(join(dir, 'counts.jsonl')), [{ unit: 0 }, { unit: 1 }, { unit: 2 }]);
    await run.commit('unit-3', { 'counts.jsonl': [{ unit: 3 }] });
    await run.finish({ status: 'succeeded', summary: {} });
    assert.deepEqual(jsonLines(join(dir, 'counts.jsonl')), [{ unit: 0 }, { unit: 1 }, { unit: 2 }, { unit: 3 }]);
    assert.deepEqual(
      jsonLines(join(dir, runFiles.ledger)).map((e) => (e as { key: string }).key),
      ['unit-0', 'unit-1', 'unit-2', 'unit-3'],
    );
  });

  test('a torn last output line is dropped, also in an output the ledger never saw', async () => {
    const dir = tmp.next();
    await killedRun(dir, 2);
    appendFileSync(join(dir, 'counts.jsonl'), '{"unit":2}\n{"unit":3}\n{"un');
    writeFileSync(join(dir, 'late.jsonl'), '{"x":');
    const run = await RunDir.open(dir, base({ resume: true }));
    assert.deepEqual(run.notes, ['counts.jsonl: dropped 2 lines of unfinished units and a torn last line (26 bytes); those units are redone']);
    assert.deepEqual(await run.readJsonl('late.jsonl'), [], 'an output with no committed unit reads as empty');
    await run.commit('unit-2', { 'late.jsonl': [{ x: 1 }] });
    assert.deepEqual(run.notes.slice(1), ['late.jsonl: dropped a torn last line (5 bytes); those units are redone']);
    await run.release();
    assert.equal(readFileSync(join(dir, 'late.jsonl'), 'utf8'), '{"x":1}\n');
    assert.deepEqual(jsonLines(join(dir, 'counts.jsonl')), [{ unit: 0 }, { unit: 1 }]);
  });

  test('an output shorter than its ledger says, or a ledger line that is not JSON, is damage the resume names', async () => {
    const dir = tmp.next();
    await killedRun(dir, 3);
    truncateSync(join(dir, 'counts.jsonl'), 15);
    await assert.rejects(RunDir.open(dir, base({ resume: true })), {
      problem: 'damaged',
      message: `${join(dir, 'counts.jsonl')}: the file has 15 bytes but its finished units wrote 33; it was changed outside the run (restore it, or start a new run folder)`,
    });
    assert.ok(!existsSync(join(dir, runFiles.lock)), 'a refused resume leaves no lock behind');

    const other = tmp.next();
    await killedRun(other, 1);
    appendFileSync(join(other, runFiles.ledger), 'garbage\n');
    await assert.rejects(RunDir.open(other, base({ resume: true })), {
      problem: 'damaged',
      message: `${join(other, runFiles.ledger)}:2: expected a ledger entry {"key", "sizes"}; the run folder is damaged (start a new run folder)`,
    });
    writeFileSync(join(other, runFiles.record), '{"kind":');
    await assert.rejects(readRunRecord(other), { problem: 'damaged', message: `${join(other, runFiles.record)}: not valid JSON; the run folder is damaged (start a new run folder)` });
  });

  test('output names stay inside the run folder and off the machinery\'s files', async () => {
    const run = await RunDir.open(tmp.next(), base());
    for (const bad of ['../x.jsonl', '/tmp/x.jsonl', 'a/../../x', '', 'ledger.jsonl', 'job.json']) {
      await assert.rejects(run.commit(`k-${bad}`, { [bad]: [1] }), { problem: 'misuse' }, bad);
    }
    await assert.rejects(run.writeAtomic('a/./b.json', '{}'), {
      message: `output name 'a/./b.json': expected a relative path inside the run folder, like "samples.jsonl" or "leaves/a.jsonl"`,
    });
    await run.release();
  });

  test('writeAtomic replaces a whole file and leaves no temporary file', async () => {
    const dir = tmp.next();
    const run = await RunDir.open(dir, base());
    await run.writeAtomic('report/summary.json', '{"a":1}');
    await run.writeAtomic('report/summary.json', '{"a":2}');
    assert.equal(readFileSync(join(dir, 'report/summary.json'), 'utf8'), '{"a":2}');
    assert.deepEqual(readdirSync(join(dir, 'report')), ['summary.json']);
    await run.release();
  });
});

describe('a full disk', () => {
  test('a commit that hits ENOSPC names the file, keeps the committed units, and the run takes no more commits', async () => {
    const dir = tmp.next();
    const sizeAfterOpen = async () => {
      // Measure what opening writes (job.json, the lock) so the disk can fill at a chosen commit.
      const probe = new DiskFullFs(Infinity);
      const r = await RunDir.open(tmp.next(), base({ fs: probe }));
      await r.release();
      return probe.written;
    };
    const opening = await sizeAfterOpen();
    // Room for the opening, two units (11 bytes of output + 45 of ledger each), and 5 bytes of the third.
    const disk = new DiskFullFs(opening + 2 * (11 + 45) + 5);
    const run = await RunDir.open(dir, base({ fs: disk }));
    await run.commit('unit-0', { 'counts.jsonl': [{ unit: 0 }] });
    await run.commit('unit-1', { 'counts.jsonl': [{ unit: 1 }] });
    const path = join(dir, 'counts.jsonl');
    const expected = `${path}: writing failed (ENOSPC: no space left on device); the disk is full: free disk space on the drive holding ${dir}, then resume the run. The 2 units finished before are kept`;
    await assert.rejects(run.commit('unit-2', { 'counts.jsonl': [{ unit: 2 }] }), (err: RunDirError) => {
      assert.equal(err.message, expected);
      assert.equal(err.code, 'ENOSPC');
      assert.equal(err.file, path);
      return true;
    });
    await assert.rejects(run.commit('unit-3', { 'counts.jsonl': [{ unit: 3 }] }), { message: expected }, 'no commit after a failed one');
    assert.equal(readFileSync(path, 'utf8'), '{"unit":0}\n{"unit":1}\n', 'the partial line is cut off again');
    // job.json cannot be rewritten on a full disk: finish says so instead of throwing.
    const problem = await run.finish({ status: 'failed', summary: {} });
    assert.match(problem ?? '', new RegExp(`^${join(dir, 'job.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: writing failed \\(ENOSPC`));
    assert.deepEqual(readdirSync(dir).sort(), ['counts.jsonl', 'job.json', 'ledger.jsonl', 'log.jsonl'], 'no temporary job.json left');

    const resumed = await RunDir.open(dir, base({ resume: true }));
    assert.deepEqual([...resumed.completedKeys()], ['unit-0', 'unit-1']);
    await resumed.release();
  });

  test('a full disk while opening the run is an error naming the file', async () => {
    const dir = tmp.next();
    await assert.rejects(RunDir.open(dir, base({ fs: new DiskFullFs(3) })), (err: RunDirError) => {
      assert.equal(err.code, 'ENOSPC');
      assert.match(err.message, /run\.lock: cannot create the lock \(ENOSPC: no space left on device\); the disk is full/);
      return true;
    });
  });
});
