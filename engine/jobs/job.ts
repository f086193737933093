// What a job is: a kind in the job table (registry.ts) with a function from a JobContext to a summary. The runner
// (runner.ts) gives every job the same context whether the editor (over RPC) or a terminal started it.
import type { LogLevel } from '../rpc/protocol';
import type { RunDir } from './runDir';

export interface ProgressUpdate {
  done: number;
  /** Omit while unknown. */
  total?: number;
  /** Overrides the kind's unit for this stage ("chunks" while chunking documents, say). */
  unit?: string;
  /** What the job is doing now; kept until the next update that names a stage. */
  stage?: string;
}

export interface JobContext<A, S> {
  readonly kind: string;
  readonly args: A;
  readonly settings: S;
  /** The run folder: commit finished units, read what earlier attempts finished, write reports atomically. */
  readonly run: RunDir;
  /** True when this attempt resumes a run that has earlier attempts. */
  readonly resumed: boolean;
  /** Aborted when the job is cancelled (job/cancel, Ctrl+C, SIGTERM); pass it to everything that waits. */
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  /** A line for log.jsonl, the editor's output channel and the terminal. */
  log(level: LogLevel, text: string): void;
  /** A result ready before the job ends (a generated sample), for previews. */
  partial(name: string, data: unknown): void;
}

export type JobSummary = Record<string, unknown>;

export interface JobKind<A = unknown, S = unknown, R extends JobSummary = JobSummary> {
  /** The name job/start and `taxonomy-studio job` take, e.g. "demo-count". */
  kind: string;
  /** A few words for progress titles, e.g. "Counting (demo)". */
  title: string;
  /** One paragraph for `taxonomy-studio help job`. */
  description: string;
  /** What progress counts, plural, e.g. "units". */
  unit: string;
  /** Checks what the job computes; throws JobArgsError naming the field. */
  parseArgs(raw: Record<string, unknown>): A;
  /** Checks how it runs; throws JobArgsError naming the field. */
  parseSettings(raw: Record<string, unknown>): S;
  /** Does the work. Cancelled: reject (an AbortError) once `signal` aborts; committed units are kept. */
  run(ctx: JobContext<A, S>): Promise<R>;
  /** One line about a summary, for the terminal and notifications: "20 units counted". */
  describe(summary: R): string;
}

export function defineJob<A, S, R extends JobSummary>(job: JobKind<A, S, R>): JobKind<A, S, R> {
  return job;
}

/** Resolves never; rejects with the signal's reason (an AbortError) once it aborts. Keeps the process alive. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    // A pending promise alone does not keep Node running; this timer does, until the abort.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Waits `ms`, or rejects with the signal's reason (an AbortError) once it aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
