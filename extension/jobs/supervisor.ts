// One job in one engine child: spawns `taxonomy-studio rpc`, starts the job over JSON-RPC, relays its reports, and
// turns however the child ends into an outcome. Cancel is a job/cancel request; an engine that does not stop gets
// SIGTERM after a grace period, then SIGKILL. An engine that dies (a crash, a kill, a broken pipe) is an outcome
// with its last lines, never an exception: nothing here can take the extension host down. No vscode import, so
// tests run it under plain Node against the real engine.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type Message, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  JobCancelRequest,
  JobErrorCodes,
  JobFinishedNotification,
  JobLogNotification,
  JobPartialNotification,
  JobProgressNotification,
  JobStartRequest,
  type JobError,
  type JobFinishedParams,
  type JobProgress,
  type JobStartParams,
  type JobStartResult,
  type JobStatus,
  type LogLevel,
} from '../../engine/rpc/protocol';
import type { EngineCommand } from '../engine';
import { TailLines } from './tail';

export interface JobListener {
  started?(result: JobStartResult): void;
  progress?(p: JobProgress): void;
  log?(level: LogLevel, text: string): void;
  partial?(name: string, data: unknown): void;
  /** A line the engine wrote to stderr (not protocol): library output, a crash's stack. */
  stderr?(line: string): void;
}

export interface JobOutcome {
  status: JobStatus;
  summary: Record<string, unknown>;
  /** One line about a success, from the job kind. */
  text?: string;
  error?: JobError;
  /** The engine ended without reporting the job's end: how, and its last lines. */
  crash?: { code: number | null; signal: NodeJS.Signals | null; tail: string[] };
  /** The signal a cancel had to send because the engine did not stop by itself. */
  escalated?: 'SIGTERM' | 'SIGKILL';
}

/** Runs `fn` after `ms`; returns a function that calls it off. Tests pass their own to fire escalations at will. */
export type Schedule = (ms: number, fn: () => void) => () => void;

export interface JobProcessOptions {
  engine: EngineCommand;
  request: JobStartParams;
  cwd?: string;
  /** Added to the engine's environment for this job: secrets (API keys) go here, never into args or settings, which job.json records. */
  env?: Record<string, string>;
  listener?: JobListener;
  /** After job/cancel, how long the job has to stop before SIGTERM. */
  cancelGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. */
  termGraceMs?: number;
  /** After job/finished and stdin closed, how long the engine has to exit before SIGTERM. */
  exitGraceMs?: number;
  /** Lines of stderr and log kept for a crash report. */
  tailLines?: number;
  schedule?: Schedule;
}

const defaultSchedule: Schedule = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/**
 * Writes to the child's stdin and never rejects: a write to an engine that just died fails, and vscode-jsonrpc would
 * turn that failed request into an unhandled rejection. The child's 'close' reports the death instead.
 */
class ChildStdinWriter extends StreamMessageWriter {
  override async write(msg: Message): Promise<void> {
    try {
      await super.write(msg);
    } catch {
      // Reported by 'close'.
    }
  }
}

/** Codes the engine answers job/start with; anything else (the connection broke) is not a refusal. */
const refusalCodes = new Set<number>(Object.values(JobErrorCodes));

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

export class JobProcess {
  readonly outcome: Promise<JobOutcome>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly connection: MessageConnection;
  private readonly tail: TailLines;
  private readonly schedule: Schedule;
  private readonly timers: (() => void)[] = [];
  private settle!: (o: JobOutcome) => void;
  private finished: JobFinishedParams | undefined;
  private refused: JobError | undefined;
  private spawnError: Error | undefined;
  private cancelRequested = false;
  private escalated: 'SIGTERM' | 'SIGKILL' | undefined;
  private exited = false;
  runId: string | undefined;

  private constructor(private readonly options: JobProcessOptions) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.tail = new TailLines(options.tailLines ?? 50);
    this.schedule = options.schedule ?? defaultSchedule;
    const { engine } = options;
    const listener = options.listener ?? {};
    this.child = spawn(engine.command, [...engine.args, 'rpc'], { cwd: options.cwd, env: { ...engine.env, ...options.env }, shell: engine.shell, stdio: 'pipe', windowsHide: true });
    this.child.on('error', (err) => {
      // Not startable (ENOENT, EACCES): 'close' follows with no exit code.
      this.spawnError ??= err;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of this.tail.write(chunk)) listener.stderr?.(line);
    });
    // A write to a child that died mid-message fails with EPIPE; 'close' reports the death.
    this.child.stdin.on('error', () => undefined);
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout), new ChildStdinWriter(this.child.stdin));
    this.connection.onError(() => undefined);
    this.connection.onNotification(JobProgressNotification, ({ runId: _runId, ...p }) => listener.progress?.(p));
    this.connection.onNotification(JobLogNotification, ({ level, text }) => {
      for (const line of text.split('\n')) this.tail.push(`[${level}] ${line}`);
      listener.log?.(level, text);
    });
    this.connection.onNotification(JobPartialNotification, ({ name, data }) => listener.partial?.(name, data));
    this.connection.onNotification(JobFinishedNotification, (params) => {
      this.finished = params;
      this.closeInput();
      this.escalate(options.exitGraceMs ?? 5_000);
    });
    this.child.on('close', (code, signal) => this.onClose(code, signal));
    this.connection.listen();
    // Only a process that started can take the request ('error' instead means it never will).
    this.child.once('spawn', () => this.sendStart(listener));
  }

  private sendStart(listener: JobListener): void {
    const { options } = this;
    this.connection.sendRequest(JobStartRequest, options.request).then(
      (result) => {
        this.runId = result.runId;
        listener.started?.(result);
        if (this.cancelRequested) this.sendCancel();
      },
      (err: unknown) => {
        // Anything but an answer (the connection broke: the engine died) is for 'close' to report, with the tail.
        if (this.exited || !(err instanceof ResponseError) || !refusalCodes.has(err.code)) return;
        this.refused = { message: err.message, code: codeName(err.code) };
        this.closeInput();
        this.escalate(options.exitGraceMs ?? 5_000);
      },
    );
  }

  /** Starts an engine child and the job in it. */
  static start(options: JobProcessOptions): JobProcess {
    return new JobProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The engine's last lines: stderr and job log lines, oldest first. */
  lastLines(): string[] {
    return this.tail.snapshot();
  }

  /** Asks the job to stop (keeping what it finished); escalates to SIGTERM, then SIGKILL, if the engine does not. */
  cancel(): void {
    if (this.cancelRequested || this.exited) return;
    this.cancelRequested = true;
    if (this.runId !== undefined) this.sendCancel();
    this.escalate(this.options.cancelGraceMs ?? 10_000);
  }

  /** Stops the engine at once (SIGKILL): for an editor that is closing. The run can be resumed. */
  kill(): void {
    if (!this.exited) this.signal('SIGKILL');
  }

  private sendCancel(): void {
    this.connection.sendRequest(JobCancelRequest, { runId: this.runId! }).catch(() => undefined);
  }

  /** After `graceMs`, SIGTERM; after termGraceMs more, SIGKILL. A second call keeps the earlier schedule. */
  private escalate(graceMs: number): void {
    if (this.timers.length > 0 || this.exited) return;
    this.timers.push(
      this.schedule(graceMs, () => {
        this.signal('SIGTERM');
        this.timers.push(this.schedule(this.options.termGraceMs ?? 5_000, () => this.signal('SIGKILL')));
      }),
    );
  }

  private signal(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.exited) return;
    if (this.cancelRequested && !this.finished) this.escalated = signal;
    this.child.kill(signal);
  }

  private closeInput(): void {
    // The engine exits once its stdin closes and its jobs have ended.
    this.connection.dispose();
    this.child.stdin.end();
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    for (const cancel of this.timers.splice(0)) cancel();
    this.connection.dispose();
    const escalated = this.escalated ? { escalated: this.escalated } : {};
    if (this.finished) {
      const { runId: _runId, ...rest } = this.finished;
      this.settle({ ...rest, ...escalated });
      return;
    }
    const tail = this.tail.snapshot();
    if (this.spawnError) {
      const { command } = this.options.engine;
      this.settle({ status: 'failed', summary: {}, error: { message: `the engine could not be started (${command}: ${this.spawnError.message})` }, crash: { code, signal, tail } });
      return;
    }
    if (this.refused) {
      this.settle({ status: 'failed', summary: {}, error: this.refused });
      return;
    }
    if (this.cancelRequested && this.escalated) {
      // Killed because it would not stop: the run folder keeps every unit that had committed.
      this.settle({ status: 'cancelled', summary: {}, crash: { code, signal, tail }, ...escalated });
      return;
    }
    const last = tail.length > 0 ? `; its last lines:\n${tail.join('\n')}` : ' and wrote nothing to stderr';
    this.settle({
      status: 'failed',
      summary: {},
      error: { message: `the engine ${describeExit(code, signal)} before ${this.options.request.kind} finished${last}`, code: 'crashed' },
      crash: { code, signal, tail },
    });
  }
}

function codeName(code: number): string {
  const entry = Object.entries(JobErrorCodes).find(([, value]) => value === code);
  return entry ? entry[0] : String(code);
}
