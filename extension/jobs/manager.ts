// The jobs the editor knows: the ones it runs now (an engine child each) and the run folders on disk under the
// workspace's runs folder, finished, failed, cancelled, interrupted by a kill, or running in another process (a
// terminal). One entry per run folder: a resumed run is the same job. No vscode import: the Jobs view, the
// progress notifications and the commands are built on this, and tests drive it under plain Node.
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { liveLockHolder, readRunRecord, runFiles } from '../../engine/jobs/runDir';
import type { JobError, JobProgress, JobStartParams } from '../../engine/rpc/protocol';
import type { EngineCommand } from '../engine';
import { JobProcess, type JobListener, type JobOutcome, type JobProcessOptions } from './supervisor';

/** Where the editor puts the run folders of the jobs it starts, inside a workspace folder. */
export const runsFolder = '.taxonomy-studio/runs';

export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'elsewhere';

export interface JobEntry {
  /** The run folder: the job's identity. */
  runDir: string;
  kind: string;
  /** A few words for notifications: "Counting (demo)". */
  title: string;
  state: JobState;
  /** True while this editor runs it. */
  live: boolean;
  cancelling?: boolean;
  progress?: JobProgress;
  startedAt?: string;
  finishedAt?: string;
  summary?: Record<string, unknown>;
  /** One line about a success, from the job kind. */
  text?: string;
  error?: JobError;
  /** Units finished so far, for runs that ended without a summary saying so (interrupted). */
  finishedUnits?: number;
  /** The other process that runs it (state 'elsewhere'). */
  pid?: number;
  /** The engine's last lines when it crashed. */
  crashTail?: string[];
}

export interface StartOptions {
  title?: string;
  /** Reports of this job, besides what the entry records. */
  listener?: JobListener;
  /** Extra environment for the engine child (API keys from SecretStorage): never recorded in the run folder. */
  env?: Record<string, string>;
}

export interface StartedJob {
  entry: JobEntry;
  outcome: Promise<JobOutcome>;
}

export interface JobManagerOptions {
  engine: () => Promise<EngineCommand>;
  /** Folders whose sub-folders are run folders (each workspace folder's runs folder). */
  runsRoots: () => string[];
  /** Escalation timings and the like, for tests. */
  supervisor?: Partial<Pick<JobProcessOptions, 'cancelGraceMs' | 'termGraceMs' | 'exitGraceMs' | 'schedule' | 'tailLines' | 'cwd'>>;
}

/** `demo-count-20300102-030405` in `root`, with -2, -3 ... when that exists. */
export function newRunDirName(kind: string, now: Date, taken: (name: string) => boolean): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = `${kind}-${stamp}`;
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
}

const stateOrder: Record<JobState, number> = { running: 0, elsewhere: 1, interrupted: 2, failed: 2, cancelled: 2, succeeded: 2 };

export class JobManager {
  private readonly live = new Map<string, { entry: JobEntry; process: JobProcess }>();
  private scanned = new Map<string, JobEntry>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: JobManagerOptions) {}

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Running jobs first, then the rest by start time, newest first. */
  entries(): JobEntry[] {
    const all = new Map(this.scanned);
    for (const [dir, { entry }] of this.live) all.set(dir, entry);
    return [...all.values()].sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.runDir.localeCompare(b.runDir));
  }

  get(runDir: string): JobEntry | undefined {
    return this.live.get(runDir)?.entry ?? this.scanned.get(runDir);
  }

  /** Starts a job in a new engine child. Rejects only when no engine can be found or the folder runs here already. */
  async start(request: JobStartParams, options: StartOptions = {}): Promise<StartedJob> {
    if (this.live.has(request.runDir)) throw new Error(`a job is already running in ${request.runDir}; cancel it first`);
    const engine = await this.options.engine();
    const previous = this.get(request.runDir);
    const entry: JobEntry = {
      runDir: request.runDir,
      kind: request.kind,
      title: options.title ?? previous?.title ?? request.kind,
      state: 'running',
      live: true,
      startedAt: new Date().toISOString(),
    };
    const listener = options.listener ?? {};
    const child = JobProcess.start({
      ...this.options.supervisor,
      engine,
      request,
      ...(options.env ? { env: options.env } : {}),
      listener: {
        ...listener,
        progress: (p) => {
          entry.progress = p;
          this.changed();
          listener.progress?.(p);
        },
      },
    });
    this.live.set(request.runDir, { entry, process: child });
    this.changed();
    const outcome = child.outcome.then((o) => {
      Object.assign(entry, {
        state: o.status,
        live: false,
        cancelling: false,
        finishedAt: new Date().toISOString(),
        summary: o.summary,
        ...(o.text ? { text: o.text } : {}),
        ...(o.error ? { error: o.error } : {}),
        ...(o.crash ? { crashTail: o.crash.tail } : {}),
      });
      if (typeof o.summary.finishedUnits === 'number') entry.finishedUnits = o.summary.finishedUnits;
      this.live.delete(request.runDir);
      this.scanned.set(request.runDir, entry);
      this.changed();
      return o;
    });
    return { entry, outcome };
  }

  /** Cancels a job this editor runs; false when it runs no job there. */
  cancel(runDir: string): boolean {
    const job = this.live.get(runDir);
    if (!job) return false;
    job.entry.cancelling = true;
    job.process.cancel();
    this.changed();
    return true;
  }

  /** Continues the run in `runDir` with its recorded args and settings. */
  async resume(runDir: string, options: StartOptions = {}): Promise<StartedJob> {
    const record = await readRunRecord(runDir);
    if (!record) throw new Error(`${runDir} holds no run to resume (no ${runFiles.record})`);
    return this.start({ kind: record.kind, runDir, resume: true }, options);
  }

  /** The engine's last lines for a job this editor runs (or ran, if it crashed). */
  lastLines(runDir: string): string[] {
    return this.live.get(runDir)?.process.lastLines() ?? this.get(runDir)?.crashTail ?? [];
  }

  /** Reads the run folders under the runs roots again. */
  async refresh(): Promise<void> {
    const found = new Map<string, JobEntry>();
    for (const root of this.options.runsRoots()) {
      const names = await readdir(root).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const dir = join(root, name);
        const entry = await scanRun(dir, this.scanned.get(dir)).catch((err: unknown) => unreadable(dir, err));
        if (entry) found.set(entry.runDir, entry);
      }
    }
    // Jobs this editor ran keep their entries (with crash tails) even outside the roots.
    for (const [dir, entry] of this.scanned) if (!found.has(dir) && !this.options.runsRoots().some((r) => dir.startsWith(r))) found.set(dir, entry);
    this.scanned = found;
    this.changed();
  }

  /** Cancels every running job (the editor is closing): each engine stops after its unit in hand. */
  dispose(): void {
    for (const { process } of this.live.values()) process.cancel();
    this.listeners.clear();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function unreadable(runDir: string, err: unknown): JobEntry {
  return { runDir, kind: '?', title: basename(runDir), state: 'failed', live: false, error: { message: (err as Error).message } };
}

/** A run folder as an entry; undefined for a folder that holds no run. */
export async function scanRun(runDir: string, known?: JobEntry): Promise<JobEntry | undefined> {
  let record;
  try {
    record = await readRunRecord(runDir);
  } catch (err) {
    return unreadable(runDir, err);
  }
  if (!record) return undefined;
  const entry: JobEntry = {
    runDir,
    kind: record.kind,
    title: known?.title ?? record.kind,
    state: record.status === 'running' ? 'interrupted' : record.status,
    live: false,
    startedAt: record.startedAt,
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    ...(record.summary ? { summary: record.summary } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(known?.text && record.status === 'succeeded' ? { text: known.text } : {}),
    ...(known?.crashTail ? { crashTail: known.crashTail } : {}),
  };
  if (record.status === 'running') {
    const pid = await liveLockHolder(runDir);
    if (pid !== undefined) Object.assign(entry, { state: 'elsewhere', pid });
    entry.finishedUnits = await ledgerCount(runDir);
  } else if (typeof record.summary?.finishedUnits === 'number') {
    entry.finishedUnits = record.summary.finishedUnits;
  }
  return entry;
}

/** Units in a run's ledger (complete lines only). */
async function ledgerCount(runDir: string): Promise<number> {
  const text = await readFile(join(runDir, runFiles.ledger), 'utf8').catch(() => '');
  let n = 0;
  for (const c of text) if (c === '\n') n++;
  return n;
}
