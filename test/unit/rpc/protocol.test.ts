// The job protocol end to end: the server over in-memory streams (requests, errors, status, closing), then a real
// engine child (`taxonomy-studio rpc`): reports in order, cancel mid-run, and SIGKILL then resume with every unit
// written exactly once.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { readRunRecord } from '../../../engine/jobs/runDir';
import {
  JobCancelRequest,
  JobErrorCodes,
  JobFinishedNotification,
  JobLogNotification,
  JobPartialNotification,
  JobProgressNotification,
  JobStartRequest,
  JobStatusRequest,
  type JobFinishedParams,
  type JobLogParams,
  type JobProgressParams,
} from '../../../engine/rpc/protocol';
import { serveJobs } from '../../../engine/rpc/server';
import { countedUnits, kindList, range, repoRoot, tempRoot } from '../jobs/helpers';

const tmp = tempRoot('ts-rpc-');
after(() => tmp.remove());

/** What a client saw on a connection, with a wait that resolves on a matching notification. */
class Client {
  readonly progress: JobProgressParams[] = [];
  readonly logs: JobLogParams[] = [];
  readonly partials: unknown[] = [];
  readonly finished: JobFinishedParams[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(readonly connection: MessageConnection) {
    connection.onNotification(JobProgressNotification, (p) => this.push(() => this.progress.push(p)));
    connection.onNotification(JobLogNotification, (p) => this.push(() => this.logs.push(p)));
    connection.onNotification(JobPartialNotification, (p) => this.push(() => this.partials.push(p.data)));
    connection.onNotification(JobFinishedNotification, (p) => this.push(() => this.finished.push(p)));
    connection.listen();
  }

  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  holding(unit: number): Promise<void> {
    return this.until(() => this.logs.some((l) => l.text.startsWith(`holding before unit ${unit}`)));
  }

  done(): Promise<JobFinishedParams> {
    return this.until(() => this.finished.length > 0).then(() => this.finished[0]);
  }

  private push(record: () => void): void {
    record();
    this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }
}

function inMemory(options: Parameters<typeof serveJobs>[1] = {}) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createMessageConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const server = serveJobs(serverConnection, options);
  serverConnection.listen();
  const client = new Client(createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer)));
  return { server, client, close: () => toServer.end() };
}

async function rejectsWith(promise: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(promise, (err: ResponseError<unknown>) => {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

describe('the server over in-memory streams', () => {
  test('job/start answers a runId, then progress in order, partials, and job/finished; job/status follows', async () => {
    const { client, close, server } = inMemory({ progressIntervalMs: 0 });
    const runDir = tmp.next();
    const started = await client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 5 }, settings: { delayMs: 0 }, runDir });
    assert.deepEqual(Object.keys(started).sort(), ['engineVersion', 'resumedUnits', 'runId']);
    assert.equal(started.resumedUnits, 0);
    const finished = await client.done();
    assert.deepEqual(finished, {
      runId: started.runId,
      status: 'succeeded',
      summary: { counted: 5, resumedFrom: 0, output: 'counts.jsonl' },
      text: '5 units counted, in counts.jsonl',
    });
    assert.deepEqual(client.progress.map((p) => [p.runId, p.done, p.total, p.unit, p.stage]), range(6).map((d) => [started.runId, d, 5, 'units', 'counting']));
    assert.deepEqual(client.partials, range(5).map((unit) => ({ unit })));
    const status = await client.connection.sendRequest(JobStatusRequest, { runId: started.runId });
    assert.deepEqual({ ...status, progress: undefined }, { runId: started.runId, kind: 'demo-count', runDir, state: 'succeeded', progress: undefined });
    assert.equal(status.progress?.done, 5);
    assert.deepEqual(await client.connection.sendRequest(JobCancelRequest, { runId: started.runId }), { cancelling: false });
    close();
    await server.done;
  });

  test('refusals are response errors with the protocol\'s codes and messages that say why', async () => {
    const { client, close, server } = inMemory();
    const send = client.connection;
    const runDir = tmp.next();
    await rejectsWith(send.sendRequest(JobStartRequest, { kind: 'nope', runDir }), JobErrorCodes.UnknownJobKind, `unknown job kind 'nope' (the engine runs: ${kindList})`);
    await rejectsWith(send.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: -1 }, runDir }), JobErrorCodes.InvalidJobArgs, 'n: expected a whole number from 0 to 10000000, got -1');
    await send.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 1 }, settings: { delayMs: 0 }, runDir });
    await client.done();
    await rejectsWith(
      send.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 1 }, runDir }),
      JobErrorCodes.RunDirRefused,
      `${runDir}: the folder already holds a demo-count run (succeeded, started ${(await readRunRecord(runDir))!.createdAt}); resume it (--resume), or choose a new folder for a new run`,
    );
    await rejectsWith(send.sendRequest(JobCancelRequest, { runId: 'r-1' }), JobErrorCodes.UnknownRun, `no job r-1 in this engine (it runs: ${client.finished[0].runId})`);
    close();
    await server.done;
  });

  test('job/status while running; the client going away cancels the job, keeping its finished units', async () => {
    const { client, close, server } = inMemory();
    const runDir = tmp.next();
    const { runId } = await client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 10 }, settings: { delayMs: 0, holdAt: 3 }, runDir });
    await client.holding(3);
    const status = await client.connection.sendRequest(JobStatusRequest, { runId });
    assert.equal(status.state, 'running');
    assert.equal(status.progress?.done, 3);
    close();
    await server.done;
    assert.equal((await readRunRecord(runDir))?.status, 'cancelled');
    assert.deepEqual(countedUnits(runDir), range(3));
  });
});

/** `taxonomy-studio rpc` as the editor starts it (through tsx, so no build is needed). */
function engine(): { child: ChildProcessWithoutNullStreams; client: Client; stderr: () => string; exited: Promise<[number | null, NodeJS.Signals | null]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'rpc'], { cwd: repoRoot, stdio: 'pipe' });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  // A killed child breaks the pipe; the test looks at what arrived before.
  connection.onError(() => undefined);
  return { child, client: new Client(connection), stderr: () => stderr, exited };
}

describe('a real engine child', () => {
  test('progress arrives in order; cancel mid-run ends cancelled with the finished lines kept; the engine exits when stdin closes', async () => {
    const { child, client, exited, stderr } = engine();
    const runDir = tmp.next();
    const { runId } = await client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 40 }, settings: { delayMs: 1, holdAt: 25 }, runDir });
    await client.holding(25);
    assert.deepEqual(await client.connection.sendRequest(JobCancelRequest, { runId }), { cancelling: true });
    const finished = await client.done();
    assert.deepEqual(finished, { runId, status: 'cancelled', summary: { finishedUnits: 25 } }, stderr());
    const dones = client.progress.map((p) => p.done);
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b), 'progress never goes back');
    assert.equal(dones[0], 0);
    assert.equal(dones.at(-1), 25);
    assert.ok(client.progress.every((p) => p.runId === runId && p.total === 40));
    assert.deepEqual(countedUnits(runDir), range(25));
    assert.equal((await readRunRecord(runDir))?.status, 'cancelled');
    client.connection.dispose();
    child.stdin.end();
    assert.deepEqual(await exited, [0, null], stderr());
  });

  test('SIGTERM cancels the running job cleanly and the engine exits 0, even with stdin still open', async () => {
    const { child, client, exited, stderr } = engine();
    const runDir = tmp.next();
    const { runId } = await client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 10 }, settings: { delayMs: 0, holdAt: 4 }, runDir });
    await client.holding(4);
    child.kill('SIGTERM');
    assert.deepEqual(await client.done(), { runId, status: 'cancelled', summary: { finishedUnits: 4 } });
    assert.deepEqual(await exited, [0, null], stderr());
    assert.deepEqual(countedUnits(runDir), range(4));
    assert.equal((await readRunRecord(runDir))?.status, 'cancelled');
  });

  test('SIGKILL mid-run, then resume in a new engine: every unit exactly once', async () => {
    const runDir = tmp.next();
    const first = engine();
    await first.client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', args: { n: 30 }, settings: { delayMs: 0, holdAt: 12 }, runDir });
    await first.client.holding(12);
    first.child.kill('SIGKILL');
    assert.deepEqual(await first.exited, [null, 'SIGKILL']);
    assert.equal((await readRunRecord(runDir))?.status, 'running', 'a killed run records no end');

    const second = engine();
    const started = await second.client.connection.sendRequest(JobStartRequest, { kind: 'demo-count', settings: { delayMs: 0 }, runDir, resume: true });
    assert.equal(started.resumedUnits, 12);
    const finished = await second.client.done();
    assert.deepEqual(finished.summary, { counted: 30, resumedFrom: 12, output: 'counts.jsonl' });
    assert.deepEqual(countedUnits(runDir), range(30));
    const record = await readRunRecord(runDir);
    assert.equal(record?.status, 'succeeded');
    assert.equal(record?.attempts, 2);
    assert.deepEqual(record?.args, { n: 30 });
    second.child.stdin.end();
    assert.deepEqual(await second.exited, [0, null]);
  });
});
