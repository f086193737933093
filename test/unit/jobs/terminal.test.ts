// Jobs in a terminal: the exact bar and plain lines for fixed reports, end lines and exit codes, `taxonomy-studio
// job` in this process, and Ctrl+C on a real engine process (exit 130, finished units kept, resume completes).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { demoCountJob } from '../../../engine/jobs/demoCount';
import { readRunRecord } from '../../../engine/jobs/runDir';
import { endLine, exitCodeOf, ProgressRenderer } from '../../../engine/jobs/terminal';
import type { JobProgress } from '../../../engine/rpc/protocol';
import { countedUnits, kindList, range, repoRoot, tempRoot } from './helpers';

const tmp = tempRoot('ts-terminal-');
after(() => tmp.remove());

function screen(isTTY: boolean, columns = 100) {
  const writes: string[] = [];
  return { writes, out: { write: (t: string) => void writes.push(t), isTTY, columns } };
}

const at = (done: number, extra: Partial<JobProgress> = {}): JobProgress => ({ done, total: 20, unit: 'units', ...extra });

describe('the renderer', () => {
  test('on a TTY: one line redrawn in place, log lines above it, cleared at the end', () => {
    const { writes, out } = screen(true);
    const r = new ProgressRenderer(out, 'demo-count');
    r.progress(at(0, { stage: 'counting' }));
    r.progress(at(9, { stage: 'counting', rate: 4.5, etaSeconds: 2.6 }));
    r.log('warn', 'slow teacher\nretrying');
    r.log('debug', 'hidden without --verbose');
    r.progress(at(20, { stage: 'counting', rate: 4.5, etaSeconds: 0 }));
    r.end('demo-count succeeded: 20 units counted');
    assert.deepEqual(writes, [
      '\r\x1b[2Kdemo-count [--------------------] 0/20 units (0%) - counting',
      '\r\x1b[2Kdemo-count [#########-----------] 9/20 units (45%), 4.5 units/s, ETA 0:03 - counting',
      '\r\x1b[2Kwarning: slow teacher\nwarning: retrying\n',
      '\r\x1b[2Kdemo-count [#########-----------] 9/20 units (45%), 4.5 units/s, ETA 0:03 - counting',
      '\r\x1b[2Kdemo-count [####################] 20/20 units (100%), 4.5 units/s - counting',
      '\r\x1b[2K',
      'demo-count succeeded: 20 units counted\n',
    ]);
  });

  test('on a TTY the line is cut to the terminal width; without a total there is no bar', () => {
    const { writes, out } = screen(true, 30);
    const r = new ProgressRenderer(out, 'generate');
    r.progress({ done: 123, unit: 'chunks', stage: 'chunking documents' });
    assert.deepEqual(writes, ['\r\x1b[2Kgenerate 123 chunks - chunkin']);
  });

  test('not a TTY: a plain line for the first report, each tenth of the work and each new stage; logs as lines', () => {
    const { writes, out } = screen(false);
    const r = new ProgressRenderer(out, 'demo-count');
    for (let i = 0; i <= 20; i++) r.progress(at(i, { stage: i < 15 ? 'counting' : 'checking', ...(i >= 10 ? { rate: 2, etaSeconds: (20 - i) / 2 } : {}) }));
    r.log('info', 'a note');
    r.log('error', 'bad');
    r.end('demo-count succeeded: 20 units counted');
    assert.deepEqual(writes.join('').split('\n'), [
      'demo-count: 0/20 units (0%) - counting',
      'demo-count: 2/20 units (10%) - counting',
      'demo-count: 4/20 units (20%) - counting',
      'demo-count: 6/20 units (30%) - counting',
      'demo-count: 8/20 units (40%) - counting',
      'demo-count: 10/20 units (50%), 2.0 units/s, ETA 0:05 - counting',
      'demo-count: 12/20 units (60%), 2.0 units/s, ETA 0:04 - counting',
      'demo-count: 14/20 units (70%), 2.0 units/s, ETA 0:03 - counting',
      'demo-count: 15/20 units (75%), 2.0 units/s, ETA 0:03 - checking',
      'demo-count: 16/20 units (80%), 2.0 units/s, ETA 0:02 - checking',
      'demo-count: 18/20 units (90%), 2.0 units/s, ETA 0:01 - checking',
      'demo-count: 20/20 units (100%), 2.0 units/s - checking',
      'a note',
      'error: bad',
      'demo-count succeeded: 20 units counted',
      '',
    ]);
  });

  test('not a TTY, without a total: a line at each power of ten', () => {
    const { writes, out } = screen(false);
    const r = new ProgressRenderer(out, 'scan');
    for (const done of [0, 1, 5, 9, 10, 11, 99, 100, 250]) r.progress({ done, unit: 'files' });
    assert.deepEqual(writes, ['scan: 0 files\n', 'scan: 10 files\n', 'scan: 100 files\n']);
  });

  test('end lines and exit codes', () => {
    const dir = '/runs/a';
    assert.equal(
      endLine(demoCountJob, { status: 'succeeded', summary: { counted: 20, resumedFrom: 7, output: 'counts.jsonl' } }, dir, 'taxonomy-studio job'),
      'demo-count succeeded: 20 units counted (7 from an earlier attempt), in counts.jsonl (run folder /runs/a)',
    );
    assert.equal(
      endLine(demoCountJob, { status: 'cancelled', summary: { finishedUnits: 7 } }, dir, 'taxonomy-studio job'),
      'demo-count cancelled: the 7 finished units are kept in /runs/a; continue with --resume',
    );
    assert.equal(
      endLine(demoCountJob, { status: 'failed', summary: { finishedUnits: 3 }, error: { message: 'unit 3 failed' } }, dir, 'taxonomy-studio job'),
      'taxonomy-studio job: unit 3 failed\ndemo-count failed: the 3 finished units are kept in /runs/a; fix the cause and continue with --resume',
    );
    assert.deepEqual(
      (['succeeded', 'failed', 'cancelled'] as const).map((status) => exitCodeOf({ status, summary: {} })),
      [0, 1, 130],
    );
  });
});

function cli(args: string[], signal?: AbortSignal) {
  const out = { stdout: '', stderr: '' };
  const done = runCli(args, { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), cwd: tmp.dir, env: { TERM: 'dumb' }, signal });
  return { out, done };
}

describe('taxonomy-studio job', () => {
  test('runs a kind with name=value args, prints the outcome as JSON, refuses a second run in the folder', async () => {
    const { out, done } = cli(['job', 'demo-count', 'n=5', '--settings', '{"delayMs":0}', '--out', 'cli-a', '--json']);
    assert.equal(await done, 0);
    const dir = join(tmp.dir, 'cli-a');
    assert.deepEqual(JSON.parse(out.stdout), { runDir: dir, kind: 'demo-count', status: 'succeeded', summary: { counted: 5, resumedFrom: 0, output: 'counts.jsonl' } });
    assert.deepEqual(out.stderr.split('\n').slice(-2), [`demo-count succeeded: 5 units counted, in counts.jsonl (run folder ${dir})`, '']);
    assert.match(out.stderr, /^demo-count: 0\/5 units \(0%\) - counting\n/);
    assert.deepEqual(countedUnits(dir), range(5));

    const again = cli(['job', 'demo-count', 'n=5', '--out', 'cli-a']);
    assert.equal(await again.done, 1);
    assert.match(again.out.stderr, new RegExp(`^taxonomy-studio job: ${dir}: the folder already holds a demo-count run \\(succeeded, started [^)]+\\); resume it \\(--resume\\), or choose a new folder for a new run\\n$`));
  });

  test('bad usage exits 2 with the reason', async () => {
    const cases: [string[], string][] = [
      [['job', 'demo-count', 'n=5'], 'taxonomy-studio job: job needs --out <run-dir>'],
      [['job', 'nope', '--out', 'x'], `taxonomy-studio job: unknown job kind 'nope' (the engine runs: ${kindList})`],
      [['job', 'demo-count', 'n=x', '--out', 'x'], 'taxonomy-studio job: n: expected a whole number from 0 to 10000000, got "x"'],
      [['job', 'demo-count', 'n', '--out', 'x'], "taxonomy-studio job: expected name=value, got 'n'"],
      [['job', 'demo-count', '--args', '[1]', '--out', 'x'], 'taxonomy-studio job: --args must be a JSON object like {"n": 20}'],
      [['job', '--out', 'x'], `taxonomy-studio job: job needs a kind (${kindList}), or --resume to continue a run`],
      [['job', '--resume', '--out', 'empty'], 'taxonomy-studio job: nothing to resume in empty (no job.json there); give the job kind to start a new run'],
    ];
    for (const [args, first] of cases) {
      const { out, done } = cli(args);
      assert.equal(await done, 2, args.join(' '));
      assert.equal(out.stderr.split('\n')[0], first);
    }
  });

  test('a cancel (the signal Ctrl+C aborts) exits 130 and keeps the finished units; --resume alone continues', async () => {
    const controller = new AbortController();
    const { out, done } = cli(['job', 'demo-count', 'n=12', '--settings', '{"delayMs":0,"holdAt":4}', '--out', 'cli-c'], controller.signal);
    const dir = join(tmp.dir, 'cli-c');
    // Ready when the job holds: its log line is on stderr.
    while (!out.stderr.includes('holding before unit 4')) await new Promise((r) => setImmediate(r));
    controller.abort();
    assert.equal(await done, 130);
    assert.deepEqual(out.stderr.split('\n').slice(-3), ['cancelling: finishing the unit in hand…', `demo-count cancelled: the 4 finished units are kept in ${dir}; continue with --resume`, '']);
    assert.deepEqual(countedUnits(dir), range(4));

    const resumed = cli(['job', '--resume', '--out', 'cli-c', '--settings', '{"delayMs":0}']);
    assert.equal(await resumed.done, 0);
    assert.deepEqual(countedUnits(dir), range(12));
    assert.match(resumed.out.stderr, new RegExp(`^resuming ${dir} \\(attempt 2\\): 4 units were finished before\\n`));
  });

  test('Ctrl+C on a real engine process: exit status 130, finished units kept', async () => {
    const dir = join(tmp.dir, 'cli-sigint');
    const child = spawn(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'job', 'demo-count', 'n=30', '--settings', '{"delayMs":0,"holdAt":9}', '--out', dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const exited = once(child, 'exit');
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('holding before unit 9')) resolve();
      });
    });
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130, stderr);
    assert.ok(stderr.endsWith(`demo-count cancelled: the 9 finished units are kept in ${dir}; continue with --resume\n`), stderr);
    assert.deepEqual(countedUnits(dir), range(9));
    assert.equal((await readRunRecord(dir))?.status, 'cancelled');
  });
});
