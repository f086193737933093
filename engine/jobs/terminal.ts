// Jobs headless, from a terminal: a progress bar redrawn in place on a TTY, plain lines when not (CI logs, pipes),
// log lines in between, and an end line that says where the work is. Ctrl+C cancels cleanly: the finished units
// stay committed and the command exits 130. Progress goes to stderr; stdout stays free for --json.
import type { JobProgress, JobStartParams, LogLevel } from '../rpc/protocol';
import { formatProgress, percentDone } from './format';
import type { JobKind } from './job';
import { startJob, type JobOutcome, type RunnerOptions } from './runner';

export interface TerminalOut {
  write(text: string): void;
  isTTY: boolean;
  /** Terminal width; lines are cut to fit. */
  columns?: number;
  /** Show debug log lines too. */
  verbose?: boolean;
}

const clearLine = '\r\x1b[2K';
const barWidth = 20;

/** Draws a job's progress, log lines and end on a terminal or a plain stream. */
export class ProgressRenderer {
  private current: JobProgress | undefined;
  private drawn = false;
  /** Non-TTY: the step (tenth of the work, or power of ten) and the stage of the last line printed. */
  private lastStep: number | undefined;
  private lastStage: string | undefined;

  constructor(
    private readonly out: TerminalOut,
    private readonly label: string,
  ) {}

  progress(p: JobProgress): void {
    this.current = p;
    if (this.out.isTTY) {
      this.draw();
      return;
    }
    // Plain lines: the first report, each new stage, and each tenth of the work (each power of ten without a total).
    const step = p.total === undefined ? (p.done > 0 ? Math.floor(Math.log10(p.done)) : 0) : Math.floor((percentDone(p) ?? 0) / 10);
    if (this.lastStep === undefined || p.stage !== this.lastStage || step > this.lastStep) {
      this.lastStep = step;
      this.lastStage = p.stage;
      this.out.write(`${this.plainLine(p)}\n`);
    }
  }

  log(level: LogLevel, text: string): void {
    if (level === 'debug' && !this.out.verbose) return;
    const prefix = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : level === 'debug' ? 'debug: ' : '';
    const lines = text.split('\n').map((l) => `${prefix}${l}\n`).join('');
    if (this.out.isTTY && this.drawn) {
      this.out.write(`${clearLine}${lines}`);
      this.draw();
    } else {
      this.out.write(lines);
    }
  }

  /** Removes the bar and prints how the job ended. */
  end(text: string): void {
    if (this.out.isTTY && this.drawn) this.out.write(clearLine);
    this.drawn = false;
    this.out.write(`${text}\n`);
  }

  /** A line for a plain stream: "demo-count: 5/20 units (25%), 4.5 units/s, ETA 0:03 - counting". */
  plainLine(p: JobProgress): string {
    return `${this.label}: ${formatProgress(p)}${p.stage ? ` - ${p.stage}` : ''}`;
  }

  /** The TTY line, cut to the terminal's width: "demo-count [#####---------------] 5/20 units (25%), ... - counting". */
  barLine(p: JobProgress): string {
    const percent = percentDone(p);
    const filled = percent === undefined ? 0 : Math.round((percent / 100) * barWidth);
    const bar = percent === undefined ? '' : ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
    const line = `${this.label}${bar} ${formatProgress(p)}${p.stage ? ` - ${p.stage}` : ''}`;
    const width = (this.out.columns ?? 80) - 1;
    return line.length > width ? line.slice(0, Math.max(0, width)) : line;
  }

  private draw(): void {
    if (!this.current) return;
    this.out.write(`${clearLine}${this.barLine(this.current)}`);
    this.drawn = true;
  }
}

export interface TerminalJobOptions extends RunnerOptions {
  /** Aborted on Ctrl+C (SIGINT) or SIGTERM. */
  signal?: AbortSignal;
  /** Where progress and logs go (stderr). */
  out: TerminalOut;
  /** Where --json puts the outcome (stdout); omitted: no JSON. */
  json?: (text: string) => void;
  /** "taxonomy-studio job": the prefix of error lines. */
  commandName: string;
}

/** Exit codes: 0 succeeded, 1 failed, 130 cancelled (as a shell reports Ctrl+C). */
export function exitCodeOf(outcome: JobOutcome): number {
  return outcome.status === 'succeeded' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
}

/** The line a terminal shows at a job's end. */
export function endLine(kind: Pick<JobKind<any, any, any>, 'kind' | 'describe'>, outcome: JobOutcome, runDir: string, commandName: string): string {
  const finished = Number(outcome.summary.finishedUnits ?? 0);
  switch (outcome.status) {
    case 'succeeded':
      return `${kind.kind} succeeded: ${kind.describe(outcome.summary)} (run folder ${runDir})`;
    case 'cancelled':
      return `${kind.kind} cancelled: the ${finished} finished units are kept in ${runDir}; continue with --resume`;
    case 'failed':
      return `${commandName}: ${outcome.error?.message ?? 'the job failed'}\n${kind.kind} failed: the ${finished} finished units are kept in ${runDir}; fix the cause and continue with --resume`;
  }
}

/**
 * Runs a job in this process with terminal progress and returns the exit code. Errors that keep the job from
 * starting (unknown kind, bad args, a run folder in use) propagate for the command to report.
 */
export async function runJobInTerminal(request: JobStartParams, options: TerminalJobOptions): Promise<number> {
  let renderer: ProgressRenderer | undefined;
  const job = await startJob(
    request,
    {
      progress: (p) => renderer?.progress(p),
      log: (level, text) => renderer?.log(level, text),
      partial: () => undefined,
    },
    options,
  );
  renderer = new ProgressRenderer(options.out, job.kind.kind);
  const onAbort = () => {
    if (job.cancel()) renderer?.log('info', 'cancelling: finishing the unit in hand…');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const outcome = await job.outcome;
    renderer.end(endLine(job.kind, outcome, job.run.dir, options.commandName));
    options.json?.(`${JSON.stringify({ runDir: job.run.dir, kind: job.kind.kind, ...outcome })}\n`);
    return exitCodeOf(outcome);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
