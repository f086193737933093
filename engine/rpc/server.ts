// The engine side of the job protocol: serves job/start, job/cancel and job/status on a JSON-RPC connection and
// reports each job's progress, log lines, partial results and end as notifications. `taxonomy-studio rpc` runs it
// on stdin/stdout; tests run it over in-memory streams.
import { ResponseError, type MessageConnection, type NotificationType } from 'vscode-jsonrpc';
import { startErrorCode } from '../jobs/errors';
import { startJob, type RunnerOptions, type RunningJob } from '../jobs/runner';
import {
  JobCancelRequest,
  JobErrorCodes,
  JobFinishedNotification,
  JobLogNotification,
  JobPartialNotification,
  JobProgressNotification,
  JobStartRequest,
  JobStatusRequest,
  type JobStatusResult,
} from './protocol';

export interface JobServer {
  /** Settles when the connection has closed (or `shutdown` was called) and every job has ended. */
  readonly done: Promise<void>;
  /** Cancels every running job and stops taking new ones. */
  shutdown(): void;
}

/** Serves jobs on `connection` (which the caller then `listen()`s to). */
export function serveJobs(connection: MessageConnection, options: RunnerOptions & { signal?: AbortSignal } = {}): JobServer {
  const jobs = new Map<string, RunningJob>();
  const running = new Set<Promise<unknown>>();
  let closing = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  // Once the client is gone, reports have nowhere to go; a job must not fail for that.
  const notify = <P>(type: NotificationType<P>, params: P): Promise<void> => {
    try {
      return connection.sendNotification(type, params).catch(() => undefined);
    } catch {
      return Promise.resolve();
    }
  };

  const shutdown = () => {
    if (closing) return;
    closing = true;
    for (const job of jobs.values()) job.cancel();
    markClosed();
  };

  connection.onRequest(JobStartRequest, async (params) => {
    if (closing) throw new ResponseError(JobErrorCodes.RunDirRefused, 'the engine is shutting down and takes no new jobs');
    let job: RunningJob;
    // runId is only known once the job exists; reports made before that wait in this queue.
    const early: (() => void)[] = [];
    let runId: string | undefined;
    const send = (f: (id: string) => void) => (runId === undefined ? early.push(() => f(runId!)) : f(runId));
    try {
      job = await startJob(
        params,
        {
          progress: (p) => send((id) => void notify(JobProgressNotification, { runId: id, ...p })),
          log: (level, text) => send((id) => void notify(JobLogNotification, { runId: id, level, text })),
          partial: (name, data) => send((id) => void notify(JobPartialNotification, { runId: id, name, data })),
        },
        options,
      );
    } catch (err) {
      const code = startErrorCode(err);
      if (code) throw new ResponseError(JobErrorCodes[code], (err as Error).message);
      throw err;
    }
    runId = job.runId;
    for (const f of early.splice(0)) f();
    jobs.set(job.runId, job);
    const finished = job.outcome.then((outcome) =>
      notify(JobFinishedNotification, { runId: job.runId, ...outcome, ...(outcome.status === 'succeeded' ? { text: job.kind.describe(outcome.summary) } : {}) }),
    );
    running.add(finished);
    void finished.then(() => running.delete(finished));
    if (closing) job.cancel();
    return { runId: job.runId, engineVersion: job.run.info.engineVersion, resumedUnits: job.resumedUnits };
  });

  const find = (runId: string): RunningJob => {
    const job = jobs.get(runId);
    if (!job) throw new ResponseError(JobErrorCodes.UnknownRun, `no job ${runId} in this engine (it runs: ${[...jobs.keys()].join(', ') || 'none'})`);
    return job;
  };

  connection.onRequest(JobCancelRequest, ({ runId }) => ({ cancelling: find(runId).cancel() }));

  connection.onRequest(JobStatusRequest, ({ runId }): JobStatusResult => {
    const job = find(runId);
    const progress = job.lastProgress();
    return { runId, kind: job.kind.kind, runDir: job.run.dir, state: job.state(), ...(progress ? { progress } : {}) };
  });

  // The client went away (its end of stdin closed): nobody is left to see the jobs, so stop them, keeping their work.
  connection.onClose(shutdown);
  if (options.signal?.aborted) shutdown();
  options.signal?.addEventListener('abort', shutdown, { once: true });

  const done = closed.then(async () => {
    // A job that starts while we close is added to `running` before its start resolves; wait until none is left.
    while (running.size > 0) await Promise.all([...running]);
  });
  return { done, shutdown };
}
