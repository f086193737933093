// The extension's side of jobs, under plain Node against the real engine: the supervisor (start, reports, cancel,
// SIGTERM/SIGKILL escalation, crashes reported with the engine's last lines, refusals, an engine that cannot
// start), the job manager (entries, resume, run folders found on disk) and how jobs are presented.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRunRecord, RunDir, runFiles } from '../../../engine/jobs/runDir';
import type { JobProgress } from '../../../engine/rpc/protocol';
import type { EngineCommand } from '../../../extension/engine';
import { JobManager, newRunDirName, scanRun, type JobEntry } from '../../../extension/jobs/manager';
import { endMessage, jobStateText, presentJob } from '../../../extension/jobs/presentation';
import { JobProcess, type Schedule } from '../../../extension/jobs/supervisor';
import { TailLines } from '../../../extension/jobs/tail';
import { abandon, countedUnits, kindList, range, repoRoot, tempRoot } from './helpers';

const tmp = tempRoot('ts-supervisor-');
after(() => tmp.remove());

/** The engine as the extension would run it, through tsx so that no build is needed. */
const engine: EngineCommand = { command: process.execPath, args: ['--import', 'tsx', join(repoRoot, 'engine/cli/main.ts')], env: process.env, shell: false };

/** Resolves when `test` holds, checked at each report. */
function waiter() {
  const waiting: { test: () => boolean; resolve: () => void }[] = [];
  return {
    poke: () => {
      for (const w of waiting.splice(0)) (w.test() ? w.resolve() : waiting.push(w));
    },
    until: (test: () => boolean) => (test() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ test, resolve }))),
  };
}

/** A schedule the test fires by hand: escalations happen when the test says, not after real seconds. */
function manualSchedule() {
  const pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  const schedule: Schedule = (ms, fn) => {
    const item = { ms, fn, cancelled: false };
    pending.push(item);
    return () => (item.cancelled = true);
  };
  return {
    schedule,
    delays: () => pending.filter((p) => !p.cancelled).map((p) => p.ms),
    fireNext: () => {
      const next = pending.find((p) => !p.cancelled);
      assert.ok(next, 'an escalation is scheduled');
      next.cancelled = true;
      next.fn();
    },
  };
}

describe('the supervisor', () => {
  test('starts the job in an engine child and relays its reports; the outcome carries the summary and its line', async () => {
    const runDir = tmp.next();
    const seen = { started: 0, progress: [] as JobProgress[], partials: 0, logs: [] as string[] };
    const job = JobProcess.start({
      engine,
      cwd: repoRoot,
      request: { kind: 'demo-count', args: { n: 8 }, settings: { delayMs: 0 }, runDir },
      listener: {
        started: (r) => {
          seen.started++;
          assert.equal(r.resumedUnits, 0);
        },
        progress: (p) => seen.progress.push(p),
        partial: () => seen.partials++,
        log: (_level, text) => seen.logs.push(text),
      },
    });
    const outcome = await job.outcome;
    assert.deepEqual(outcome, { status: 'succeeded', summary: { counted: 8, resumedFrom: 0, output: 'counts.jsonl' }, text: '8 units counted, in counts.jsonl' });
    assert.equal(seen.started, 1);
    assert.equal(seen.partials, 8);
    assert.equal(seen.progress.at(-1)?.done, 8);
    assert.deepEqual(seen.progress.map((p) => p.done), [...seen.progress.map((p) => p.done)].sort((a, b) => a - b));
    assert.ok(job.runId && /^[0-9a-f-]{36}$/.test(job.runId));
    assert.deepEqual(countedUnits(runDir), range(8));
  });

  test('cancel is a job/cancel request: the engine stops by itself, keeps the finished units, and nothing escalates', async () => {
    const runDir = tmp.next();
    const w = waiter();
    const logs: string[] = [];
    const timers = manualSchedule();
    const job = JobProcess.start({
      engine,
      cwd: repoRoot,
      schedule: timers.schedule,
      request: { kind: 'demo-count', args: { n: 20 }, settings: { delayMs: 0, holdAt: 6 }, runDir },
      listener: { log: (_l, text) => (logs.push(text), w.poke()) },
    });
    await w.until(() => logs.some((l) => l.startsWith('holding before unit 6')));
    job.cancel();
    job.cancel();
    assert.deepEqual(timers.delays(), [10_000], 'one escalation is armed, after the default grace');
    const outcome = await job.outcome;
    assert.deepEqual(outcome, { status: 'cancelled', summary: { finishedUnits: 6 } });
    assert.deepEqual(timers.delays(), [], 'the engine stopped: the escalation is called off');
    assert.deepEqual(countedUnits(runDir), range(6));
  });

  test('an engine that ignores cancel and SIGTERM gets SIGKILL; the outcome says cancelled and how', async () => {
    const fake = join(tmp.dir, 'stubborn-engine.js');
    // Speaks no protocol, answers nothing, and shrugs off SIGTERM.
    writeFileSync(fake, "process.on('SIGTERM', () => console.error('ignoring SIGTERM'));\nprocess.stdin.resume();\nconsole.error('ready');\n");
    const w = waiter();
    const lines: string[] = [];
    const timers = manualSchedule();
    const job = JobProcess.start({
      engine: { command: process.execPath, args: [fake], env: process.env, shell: false },
      schedule: timers.schedule,
      cancelGraceMs: 1000,
      termGraceMs: 2000,
      request: { kind: 'demo-count', args: { n: 1 }, runDir: tmp.next() },
      listener: { stderr: (line) => (lines.push(line), w.poke()) },
    });
    await w.until(() => lines.includes('ready'));
    job.cancel();
    assert.deepEqual(timers.delays(), [1000]);
    timers.fireNext();
    await w.until(() => lines.includes('ignoring SIGTERM'));
    assert.deepEqual(timers.delays(), [2000]);
    timers.fireNext();
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'cancelled');
    assert.equal(outcome.escalated, 'SIGKILL');
    assert.deepEqual(outcome.crash, { code: null, signal: 'SIGKILL', tail: ['ready', 'ignoring SIGTERM'] });
  });

  test('an engine that crashes is a failed outcome with its last lines, and the caller lives on', async () => {
    const runDir = tmp.next();
    const stderr: string[] = [];
    const job = JobProcess.start({
      engine,
      cwd: repoRoot,
      request: { kind: 'demo-count', args: { n: 10 }, settings: { delayMs: 0, crashAt: 4 }, runDir },
      listener: { stderr: (line) => stderr.push(line) },
    });
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'crashed');
    assert.equal(outcome.crash?.signal, null);
    assert.notEqual(outcome.crash?.code, 0);
    const message = outcome.error?.message ?? '';
    assert.equal(message.split('\n')[0], `the engine exited with code ${outcome.crash?.code} before demo-count finished; its last lines:`);
    assert.ok(message.includes('[info] crashing before unit 4 (crashAt)'), message);
    assert.ok(message.includes('Error: demo-count: crashed before unit 4, as the crashAt setting asked'), message);
    assert.deepEqual(outcome.crash?.tail, message.split('\n').slice(1));
    assert.ok(stderr.some((l) => l.includes('crashed before unit 4')), 'stderr lines reach the listener too');
    assert.deepEqual(countedUnits(runDir), range(4));
    assert.equal((await readRunRecord(runDir))?.status, 'running', 'a crash records no end; the Jobs view shows it interrupted');
  });

  test('an engine killed from outside mid-run is reported with the signal', async () => {
    const w = waiter();
    const logs: string[] = [];
    const job = JobProcess.start({
      engine,
      cwd: repoRoot,
      request: { kind: 'demo-count', args: { n: 10 }, settings: { delayMs: 0, holdAt: 2 }, runDir: tmp.next() },
      listener: { log: (_l, text) => (logs.push(text), w.poke()) },
    });
    await w.until(() => logs.length > 0);
    process.kill(job.pid!, 'SIGKILL');
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.message.split('\n')[0], 'the engine was killed by SIGKILL before demo-count finished; its last lines:');
    assert.equal(outcome.crash?.tail.at(-1), '[info] holding before unit 2 (holdAt): waiting to be cancelled');
  });

  test('a refused start is a failed outcome with the engine\'s reason; an engine that cannot start says which', async () => {
    const refused = await JobProcess.start({ engine, cwd: repoRoot, request: { kind: 'nope', runDir: tmp.next() } }).outcome;
    assert.deepEqual(refused, { status: 'failed', summary: {}, error: { message: `unknown job kind 'nope' (the engine runs: ${kindList})`, code: 'UnknownJobKind' } });

    const missing = join(tmp.dir, 'no-such-engine');
    const outcome = await JobProcess.start({ engine: { command: missing, args: [], env: process.env, shell: false }, request: { kind: 'demo-count', runDir: tmp.next() } }).outcome;
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.message, `the engine could not be started (${missing}: spawn ${missing} ENOENT)`);
  });

  test('extra environment (an API key) reaches the engine child only', async () => {
    const fake = join(tmp.dir, 'env-engine.js');
    writeFileSync(fake, "console.error(`key=${process.env.TS_TEST_API_KEY}`);\nprocess.exit(3);\n");
    const outcome = await JobProcess.start({
      engine: { command: process.execPath, args: [fake], env: { PATH: process.env.PATH }, shell: false },
      env: { TS_TEST_API_KEY: 'sk-test' },
      request: { kind: 'demo-count', args: { n: 1 }, runDir: tmp.next() },
    }).outcome;
    assert.deepEqual(outcome.crash, { code: 3, signal: null, tail: ['key=sk-test'] });
    assert.equal(process.env.TS_TEST_API_KEY, undefined);
  });

  test('the tail keeps the last lines, whole, however the chunks split them', () => {
    const tail = new TailLines(3);
    assert.deepEqual(tail.write('one\ntw'), ['one']);
    assert.deepEqual(tail.write('o\r\nthree\nfour\nfi'), ['two', 'three', 'four']);
    assert.deepEqual(tail.snapshot(), ['three', 'four', 'fi']);
    tail.push('[info] a log line');
    assert.deepEqual(tail.snapshot(), ['four', '[info] a log line', 'fi']);
  });
});

describe('the job manager', () => {
  test('a job shows as running with progress, then as it ended; cancel and resume go through the same entry', async () => {
    const root = join(tmp.dir, 'runs-a');
    const manager = new JobManager({ engine: async () => engine, runsRoots: () => [root], supervisor: { cwd: repoRoot } });
    const w = waiter();
    manager.onDidChange(w.poke);
    const runDir = join(root, 'count');
    const logs: string[] = [];
    const started = await manager.start(
      { kind: 'demo-count', args: { n: 12 }, settings: { delayMs: 0, holdAt: 5 }, runDir },
      { title: 'Counting (demo)', listener: { log: (_l, t) => (logs.push(t), w.poke()) } },
    );
    assert.deepEqual(manager.entries().map((e) => [e.runDir, e.state, e.live, e.title]), [[runDir, 'running', true, 'Counting (demo)']]);
    await assert.rejects(manager.start({ kind: 'demo-count', args: { n: 1 }, runDir }), { message: `a job is already running in ${runDir}; cancel it first` });
    await w.until(() => logs.some((l) => l.startsWith('holding')));
    assert.equal(started.entry.progress?.done, 5);
    assert.equal(manager.cancel(runDir), true);
    assert.equal(started.entry.cancelling, true);
    assert.equal(jobStateText(started.entry), 'cancelling…');
    await started.outcome;
    assert.deepEqual([started.entry.state, started.entry.live, started.entry.finishedUnits], ['cancelled', false, 5]);
    assert.equal(manager.cancel(runDir), false, 'nothing runs there any more');

    // Resume takes the recorded args and settings; demo-count holds in its first attempt only.
    const resumed = await manager.resume(runDir);
    const outcome = await resumed.outcome;
    assert.equal(outcome.status, 'succeeded');
    assert.equal(resumed.entry.title, 'Counting (demo)', 'the title carries over');
    assert.deepEqual(countedUnits(runDir), range(12));
    await manager.refresh();
    assert.deepEqual(manager.entries().map((e) => [e.state, e.text]), [['succeeded', '12 units counted (5 from an earlier attempt), in counts.jsonl']]);
  });

  test('run folders on disk: finished, interrupted (with its units counted), running elsewhere, damaged', async () => {
    const root = join(tmp.dir, 'runs-b');
    mkdirSync(root, { recursive: true });
    const base = { kind: 'demo-count', args: { n: 9 }, settings: {}, engineVersion: '1', isAlive: () => false };
    const open = (name: string, day: number) => RunDir.open(join(root, name), { ...base, resume: false, pid: 4242, now: () => new Date(Date.UTC(2030, 0, day)) });

    await (await open('done', 1)).finish({ status: 'succeeded', summary: { counted: 9 } });
    const killed = await open('killed', 2);
    for (const i of range(3)) await killed.commit(`unit-${i}`, { 'counts.jsonl': [i] });
    await abandon(killed, 999_999_999);
    const elsewhere = await open('elsewhere-run', 3);
    await abandon(elsewhere, process.pid);
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', runFiles.record), 'not json');
    mkdirSync(join(root, 'not-a-run'));

    const manager = new JobManager({ engine: async () => engine, runsRoots: () => [root, join(tmp.dir, 'missing-root')] });
    await manager.refresh();
    const rows = manager.entries().map((e) => [e.runDir.slice(root.length + 1), e.state, jobStateText(e)]);
    assert.deepEqual(rows, [
      ['elsewhere-run', 'elsewhere', `running in process ${process.pid}`],
      ['killed', 'interrupted', 'interrupted · 3 units kept'],
      ['done', 'succeeded', 'succeeded'],
      ['broken', 'failed', 'failed · finished work kept'],
    ]);
    assert.equal((await scanRun(join(root, 'broken')))?.error?.message, `${join(root, 'broken', runFiles.record)}: not valid JSON; the run folder is damaged (start a new run folder)`);
    assert.equal(await scanRun(join(root, 'not-a-run')), undefined);
  });

  test('new run folder names carry the kind and the local time, numbered when taken', () => {
    const now = new Date(2030, 0, 2, 3, 4, 5);
    assert.equal(newRunDirName('demo-count', now, () => false), 'demo-count-20300102-030405');
    const taken = new Set(['demo-count-20300102-030405', 'demo-count-20300102-030405-2']);
    assert.equal(newRunDirName('demo-count', now, (n) => taken.has(n)), 'demo-count-20300102-030405-3');
  });
});

describe('presentation', () => {
  const entry = (over: Partial<JobEntry>): JobEntry => ({ runDir: '/w/.taxonomy-studio/runs/demo-1', kind: 'demo-count', title: 'Counting (demo)', state: 'running', live: true, ...over });

  test('rows: label, state words, icon and the context value the menus match', () => {
    const running = presentJob(entry({ progress: { done: 9, total: 20, unit: 'units', rate: 4.5, etaSeconds: 3, stage: 'counting' }, startedAt: '2030-01-01T00:00:00.000Z' }));
    assert.deepEqual(running, {
      label: 'demo-1',
      description: '9/20 units (45%), 4.5 units/s, ETA 0:03',
      tooltip: 'Counting (demo) (demo-count)\n/w/.taxonomy-studio/runs/demo-1\n\n9/20 units (45%), 4.5 units/s, ETA 0:03\nStage: counting\n\nStarted 2030-01-01T00:00:00.000Z',
      icon: { id: 'sync~spin' },
      contextValue: 'job.running.demo-count',
    });
    assert.equal(presentJob(entry({})).description, 'starting…');
    const failed = presentJob(entry({ state: 'failed', live: false, finishedUnits: 3, error: { message: '/w/x.jsonl: writing failed (ENOSPC)\nmore' } }));
    assert.deepEqual([failed.description, failed.icon, failed.contextValue], ['failed · 3 units kept', { id: 'error', color: 'list.errorForeground' }, 'job.failed.demo-count']);
    assert.equal(failed.tooltip.split('\n').slice(3).join('\n'), 'failed · 3 units kept\n/w/x.jsonl: writing failed (ENOSPC)\nFix the cause, then Resume continues where it stopped.');
    assert.deepEqual(presentJob(entry({ state: 'interrupted', live: false })).icon, { id: 'debug-disconnect', color: 'list.warningForeground' });
    assert.equal(presentJob(entry({ state: 'succeeded', text: '20 units counted' })).description, '20 units counted');
  });

  test('end messages and their buttons', () => {
    assert.deepEqual(endMessage(entry({ state: 'succeeded', text: '20 units counted, in counts.jsonl' })), {
      severity: 'info',
      text: 'Counting (demo) finished: 20 units counted, in counts.jsonl.',
      actions: ['Reveal Output'],
    });
    assert.deepEqual(endMessage(entry({ state: 'cancelled', finishedUnits: 7 })), { severity: 'info', text: 'Counting (demo) cancelled; 7 units kept in demo-1.', actions: ['Resume', 'Reveal Output'] });
    assert.deepEqual(endMessage(entry({ state: 'failed', error: { message: 'the engine was killed by SIGKILL before demo-count finished; its last lines:\n[info] x' } })), {
      severity: 'error',
      text: 'Counting (demo) failed: the engine was killed by SIGKILL before demo-count finished; its last lines:',
      actions: ['Show Log', 'Resume', 'Reveal Output'],
    });
  });
});
