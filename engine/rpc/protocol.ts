// The job protocol between the extension and the engine child (`taxonomy-studio rpc`), JSON-RPC 2.0 over the
// child's stdin/stdout. Every message is declared once here, with its direction, and both sides import these
// declarations. stdout carries protocol only; the engine logs through job/log (and crashes on stderr).
import { NotificationType, RequestType } from 'vscode-jsonrpc';

// ---- Shapes shared with the job runner -------------------------------------------------------------------------

export type JobStatus = 'succeeded' | 'failed' | 'cancelled';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where a job stands, as the runner reports it: rate in units per second, ETA in seconds. */
export interface JobProgress {
  done: number;
  /** Absent while the job does not know yet (e.g. before it has counted its units). */
  total?: number;
  /** What is counted, plural: "units", "samples", "steps". */
  unit: string;
  /** Units per second over the recent past; absent until it can be measured. */
  rate?: number;
  etaSeconds?: number;
  /** What the job is doing now, e.g. "generating questions". */
  stage?: string;
}

export interface JobError {
  message: string;
  /** A system error code (ENOSPC, EACCES, ...) or one of the names in JobErrorCodes. */
  code?: string;
  /** The file the error is about, when there is one. */
  file?: string;
}

// ---- Client -> engine requests ---------------------------------------------------------------------------------

export interface JobStartParams {
  /** A kind from the engine's job table (engine/jobs/registry.ts), e.g. "demo-count". */
  kind: string;
  /** What the job computes; recorded in job.json, and a resumed run must be given the same (or none: the recorded). */
  args?: Record<string, unknown>;
  /** How it runs (concurrency, delays, endpoints): recorded, and free to change on resume. */
  settings?: Record<string, unknown>;
  /** The run folder: created when missing; must hold no other run unless `resume`. */
  runDir: string;
  /** Continue the run in runDir, skipping the units it finished. */
  resume?: boolean;
}

export interface JobStartResult {
  runId: string;
  /** The engine's version, as recorded in job.json. */
  engineVersion: string;
  /** Units a resumed run found finished (0 for a new run). */
  resumedUnits: number;
}

export interface JobRef {
  runId: string;
}

export interface JobCancelResult {
  /** False when the job had already finished (its job/finished was or will be sent anyway). */
  cancelling: boolean;
}

export interface JobStatusResult {
  runId: string;
  kind: string;
  runDir: string;
  state: 'running' | JobStatus;
  progress?: JobProgress;
}

export const JobStartRequest = new RequestType<JobStartParams, JobStartResult, void>('job/start');
export const JobCancelRequest = new RequestType<JobRef, JobCancelResult, void>('job/cancel');
export const JobStatusRequest = new RequestType<JobRef, JobStatusResult, void>('job/status');

// ---- Engine -> client notifications ----------------------------------------------------------------------------

export interface JobProgressParams extends JobProgress {
  runId: string;
}

export interface JobLogParams {
  runId: string;
  level: LogLevel;
  text: string;
}

/** A result the job has ready before it ends (a generated sample, say), for previews. */
export interface JobPartialParams {
  runId: string;
  /** What the data is, chosen by the job kind, e.g. "sample". */
  name: string;
  data: unknown;
}

export interface JobFinishedParams {
  runId: string;
  status: JobStatus;
  /** What the job returned (succeeded) or what it had finished when it stopped. */
  summary: Record<string, unknown>;
  /** One line about a success, from the job kind: "20 units counted, in counts.jsonl". */
  text?: string;
  error?: JobError;
}

export const JobProgressNotification = new NotificationType<JobProgressParams>('job/progress');
export const JobLogNotification = new NotificationType<JobLogParams>('job/log');
export const JobPartialNotification = new NotificationType<JobPartialParams>('job/partial');
export const JobFinishedNotification = new NotificationType<JobFinishedParams>('job/finished');

// ---- Errors of job/start, job/cancel, job/status ---------------------------------------------------------------

/** Response error codes, outside JSON-RPC's reserved range (-32768 to -32000). */
export const JobErrorCodes = {
  /** No job kind of that name; the message lists the kinds there are. */
  UnknownJobKind: 1001,
  /** The args or settings do not fit the kind; the message names the field. */
  InvalidJobArgs: 1002,
  /** The run folder cannot be used: another run is in it, it is locked by a live process, or it is damaged. */
  RunDirRefused: 1003,
  /** No job with that runId on this connection. */
  UnknownRun: 1004,
} as const;

export type JobErrorCodeName = keyof typeof JobErrorCodes;
