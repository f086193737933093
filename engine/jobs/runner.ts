// Runs one job: checks the request, opens its run folder, gives the job its context, and turns however it ends
// into an outcome (succeeded, failed with a message, cancelled) recorded in job.json. The RPC server and the
// terminal both start jobs here, so a job behaves the same in the editor and headless.
import { randomUUID } from 'node:crypto';
import { version as engineVersion } from '../../package.json';
import type { JobError, JobProgress, JobStartParams, JobStatus, LogLevel } from '../rpc/protocol';
import { JobArgsError, JobFailure, RunDirError } from './errors';
import type { RunFs } from './fs';
import type { JobContext, JobKind, JobSummary, ProgressUpdate } from './job';
import { RateMeter } from './rate';
import { findJobKind, jobKinds } from './registry';
import { RunDir } from './runDir';

/** Where a running job's reports go: JSON-RPC notifications, or the terminal. */
export interface JobEvents {
  progress(p: JobProgress): void;
  log(level: LogLevel, text: string): void;
  partial(name: string, data: unknown): void;
}

export interface JobOutcome {
  status: JobStatus;
  summary: JobSummary;
  error?: JobError;
}

export interface RunnerOptions {
  table?: readonly JobKind<any, any, any>[];
  fs?: RunFs;
  /** Wall-clock time for job.json and log.jsonl. */
  now?: () => Date;
  /** Monotonic seconds for rates. */
  clock?: () => number;
  /** Least time between two progress reports (stage changes and the last report go at once). */
  progressIntervalMs?: number;
  engineVersion?: string;
  pid?: number;
  isAlive?: (pid: number) => boolean;
}

export interface RunningJob {
  readonly runId: string;
  readonly kind: JobKind<any, any, any>;
  readonly run: RunDir;
  /** Units earlier attempts finished. */
  readonly resumedUnits: number;
  /** Settles when the job has ended and job.json records it; never rejects. */
  readonly outcome: Promise<JobOutcome>;
  state(): 'running' | JobStatus;
  lastProgress(): JobProgress | undefined;
  /** Asks the job to stop; false when it had already ended. */
  cancel(): boolean;
}

export { engineVersion };

/**
 * Starts a job. Rejects (UnknownJobKindError, JobArgsError, RunDirError) when it cannot start; once started, every
 * end is an outcome. The job's body begins on a later turn, after the caller has had the chance to answer job/start.
 */
export async function startJob(request: JobStartParams, events: JobEvents, options: RunnerOptions = {}): Promise<RunningJob> {
  const job = findJobKind(request.kind, options.table ?? jobKinds);
  // Check what was given before touching the folder; a resume without args checks the recorded ones below.
  const givenArgs = request.args ?? (request.resume ? undefined : {});
  if (givenArgs !== undefined) job.parseArgs(givenArgs);
  if (request.settings !== undefined) job.parseSettings(request.settings);
  const run = await RunDir.open(request.runDir, {
    kind: job.kind,
    args: givenArgs,
    settings: request.settings,
    resume: request.resume === true,
    engineVersion: options.engineVersion ?? engineVersion,
    fs: options.fs,
    now: options.now,
    pid: options.pid,
    isAlive: options.isAlive,
  });
  let args: unknown;
  let settings: unknown;
  try {
    args = job.parseArgs(run.info.args);
    settings = job.parseSettings(run.info.settings);
  } catch (err) {
    await run.release();
    throw err instanceof JobArgsError ? new JobArgsError(`${run.dir}: the recorded ${err.message}`) : err;
  }

  const controller = new AbortController();
  const clock = options.clock ?? (() => performance.now() / 1000);
  const throttle = new ProgressThrottle((p) => events.progress(p), options.progressIntervalMs ?? 100, () => clock() * 1000);
  const meter = new RateMeter();
  let current: JobProgress | undefined;
  let state: 'running' | JobStatus = 'running';

  const log = (level: LogLevel, text: string) => {
    // Progress held back goes first, so that reports and log lines read in the order they happened.
    throttle.flush();
    run.log(level, text);
    events.log(level, text);
  };
  const ctx: JobContext<unknown, unknown> = {
    kind: job.kind,
    args,
    settings,
    run,
    resumed: run.resumed,
    signal: controller.signal,
    progress(update: ProgressUpdate) {
      const unit = update.unit ?? current?.unit ?? job.unit;
      const stage = update.stage ?? current?.stage;
      meter.sample(clock(), update.done);
      const rate = meter.rate();
      const eta = meter.etaSeconds(update.total);
      current = {
        done: update.done,
        unit,
        ...(update.total !== undefined ? { total: update.total } : {}),
        ...(rate !== undefined ? { rate } : {}),
        ...(eta !== undefined ? { etaSeconds: eta } : {}),
        ...(stage !== undefined ? { stage } : {}),
      };
      throttle.push(current);
    },
    log,
    partial: (name, data) => events.partial(name, data),
  };

  const outcome = (async (): Promise<JobOutcome> => {
    await new Promise((resolve) => setImmediate(resolve));
    if (run.resumed) log('info', `resuming ${run.dir} (attempt ${run.info.attempts}): ${run.completedKeys().size} units were finished before`);
    for (const note of run.notes) log('info', note);
    let result: JobOutcome;
    try {
      const summary = await job.run(ctx);
      result = { status: 'succeeded', summary };
    } catch (err) {
      const summary = { finishedUnits: run.completedKeys().size };
      if (controller.signal.aborted) {
        result = { status: 'cancelled', summary };
      } else {
        if (!isExpected(err)) log('error', (err as Error)?.stack ?? String(err));
        result = { status: 'failed', summary, error: jobError(err) };
      }
    }
    throttle.flush();
    state = result.status;
    const problem = await run.finish(result);
    if (problem) events.log('warn', `the end of the run could not be recorded: ${problem}`);
    return result;
  })();

  return {
    runId: randomUUID(),
    kind: job,
    run,
    resumedUnits: run.completedKeys().size,
    outcome,
    state: () => state,
    lastProgress: () => current,
    cancel() {
      if (state !== 'running' || controller.signal.aborted) return false;
      controller.abort();
      return true;
    },
  };
}

function isExpected(err: unknown): boolean {
  return err instanceof RunDirError || err instanceof JobFailure || err instanceof JobArgsError;
}

/** The error a job/finished carries: the message a user acts on, with the file and system code when known. */
export function jobError(err: unknown): JobError {
  if (err instanceof RunDirError) return { message: err.message, file: err.file, ...(err.code ? { code: err.code } : {}) };
  if (err instanceof JobFailure) return { message: err.message, ...(err.file ? { file: err.file } : {}) };
  if (err instanceof JobArgsError) return { message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${message} (a bug: the run's log.jsonl has the stack)`, code: 'internal' };
}

/**
 * Passes progress on at most every `intervalMs`, always passing the first report, a new stage and the last unit at
 * once; a report held back goes out when the interval has passed, so a job that stalls still shows where it is.
 */
export class ProgressThrottle {
  private last: JobProgress | undefined;
  private lastAt = 0;
  private pending: JobProgress | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (p: JobProgress) => void,
    private readonly intervalMs: number,
    private readonly clockMs: () => number,
  ) {}

  push(p: JobProgress): void {
    const now = this.clockMs();
    const urgent =
      !this.last || p.stage !== this.last.stage || p.unit !== this.last.unit || (p.total !== undefined && p.done >= p.total) || now - this.lastAt >= this.intervalMs;
    if (urgent) {
      this.send(p, now);
      return;
    }
    this.pending = p;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.intervalMs - (now - this.lastAt)));
  }

  /** Sends the report held back, if any. */
  flush(): void {
    if (this.pending) this.send(this.pending, this.clockMs());
  }

  private send(p: JobProgress, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.last = p;
    this.lastAt = now;
    this.emit(p);
  }
}
