// A job's run folder: what it was asked (job.json), what it said (log.jsonl), what it made, and which units it
// finished (ledger.jsonl). Outputs grow only by commits: a unit's lines are appended and fsync'd, then one ledger
// line records the unit's key and every output's length after it, and is fsync'd too. The ledger line is the
// commit: on resume each output is cut back to the length its last ledger line records, which drops a torn last
// line (SIGKILL mid-write) and the lines of units that never committed, so a resumed job redoes exactly the units
// the ledger lacks and every finished unit's output appears exactly once.
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { JobError, JobStatus, LogLevel } from '../rpc/protocol';
import { RunDirError, systemErrorText, writeHint } from './errors';
import { nodeRunFs, writeAll, type RunFile, type RunFs } from './fs';

/** The files the machinery keeps in every run folder; outputs may not take these names. */
export const runFiles = {
  record: 'job.json',
  log: 'log.jsonl',
  ledger: 'ledger.jsonl',
  lock: 'run.lock',
} as const;

/** job.json: the inputs and settings of a run and how its last attempt ended. */
export interface RunRecord {
  format: 1;
  kind: string;
  args: Record<string, unknown>;
  settings: Record<string, unknown>;
  engineVersion: string;
  /** When the first attempt started. */
  createdAt: string;
  /** When the latest attempt started. */
  startedAt: string;
  finishedAt?: string;
  /** 'running' also after a kill: whoever reads it checks run.lock's process (see runState). */
  status: 'running' | JobStatus;
  /** How many times the run was started (1 + resumes). */
  attempts: number;
  /** The process running the latest attempt. */
  pid: number;
  summary?: Record<string, unknown>;
  error?: JobError;
}

export interface OpenRunOptions {
  kind: string;
  /** Undefined on resume: the recorded args. */
  args?: Record<string, unknown>;
  /** Undefined on resume: the recorded settings. */
  settings?: Record<string, unknown>;
  resume: boolean;
  engineVersion: string;
  fs?: RunFs;
  now?: () => Date;
  pid?: number;
  /** Whether a process id is alive (to tell a stale run.lock from a live one). */
  isAlive?: (pid: number) => boolean;
}

interface LedgerEntry {
  key: string;
  /** Every output's committed length after this unit, in bytes. */
  sizes: Record<string, number>;
  meta?: unknown;
}

interface Output {
  file: RunFile;
  /** Committed length: what the ledger vouches for. */
  size: number;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a run folder's job.json; undefined when there is none, a RunDirError when it is damaged. */
export async function readRunRecord(dir: string, fs: RunFs = nodeRunFs): Promise<RunRecord | undefined> {
  const path = join(dir, runFiles.record);
  const bytes = await fs.readFile(path);
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RunDirError('damaged', path, `${path}: not valid JSON; the run folder is damaged (start a new run folder)`);
  }
  const r = value as Partial<RunRecord>;
  if (typeof r !== 'object' || r === null || typeof r.kind !== 'string' || typeof r.args !== 'object' || r.args === null) {
    throw new RunDirError('damaged', path, `${path}: expected a run record with "kind" and "args"; the run folder is damaged (start a new run folder)`);
  }
  return { ...r, settings: r.settings ?? {} } as RunRecord;
}

/** The pid in run.lock when that process is alive: the run is going on now, in that process. */
export async function liveLockHolder(dir: string, fs: RunFs = nodeRunFs, isAlive: (pid: number) => boolean = processAlive): Promise<number | undefined> {
  const bytes = await fs.readFile(join(dir, runFiles.lock));
  const pid = bytes ? Number.parseInt(bytes.toString('utf8'), 10) : NaN;
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** JSON with object keys sorted, so that two equal args compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function argsDifference(recorded: Record<string, unknown>, given: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(given)])].sort();
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return keys
    .filter((k) => canonical(recorded[k]) !== canonical(given[k]))
    .map((k) => `${k}=${show(recorded[k])}, not ${show(given[k])}`)
    .join('; ');
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === 0x0a) n++;
  return n;
}

export class RunDir {
  private readonly done = new Map<string, unknown>();
  private readonly sizes = new Map<string, number>();
  private readonly outputs = new Map<string, Promise<Output>>();
  private commits: Promise<unknown> = Promise.resolve();
  private logWrites: Promise<unknown> = Promise.resolve();
  private broken: RunDirError | undefined;
  private logBroken = false;
  private closed = false;
  /** What opening the run repaired or noticed, for the job's log ("dropped a torn last line ..."). */
  readonly notes: string[] = [];

  private constructor(
    readonly dir: string,
    private record: RunRecord,
    /** True when the folder held an earlier attempt of this run. */
    readonly resumed: boolean,
    private readonly fs: RunFs,
    private readonly now: () => Date,
    private readonly pid: number,
    private ledger: RunFile | undefined,
    private ledgerSize: number,
    private log_: RunFile | undefined,
  ) {}

  /**
   * Opens `dir` for a new run, or with `resume` for the next attempt of the run in it. Refuses a folder that holds
   * another run, a resume with other args, and a folder a live process is running; repairs what a kill left.
   */
  static async open(dir: string, options: OpenRunOptions): Promise<RunDir> {
    const fs = options.fs ?? nodeRunFs;
    const now = options.now ?? (() => new Date());
    const pid = options.pid ?? process.pid;
    const isAlive = options.isAlive ?? processAlive;
    try {
      await fs.mkdir(dir);
    } catch (err) {
      throw new RunDirError('write', dir, `${dir}: cannot create the run folder (${systemErrorText(err)}); ${writeHint(err, dirname(dir))}`, err);
    }
    const previous = await readRunRecord(dir, fs);
    const notes: string[] = [];
    let args: Record<string, unknown>;
    let settings: Record<string, unknown>;
    if (previous === undefined) {
      const leftovers = (await fs.readdir(dir)).filter((n) => n !== runFiles.lock && !n.startsWith(`${runFiles.record}.tmp-`));
      if (leftovers.length > 0) {
        throw new RunDirError('not-empty', dir, `${dir}: the folder is not empty and holds no run (no ${runFiles.record}); choose a new or empty folder for the run`);
      }
      if (options.resume) notes.push(`nothing to resume in ${dir}: starting a new run`);
      args = options.args ?? {};
      settings = options.settings ?? {};
    } else {
      const what = `a ${previous.kind} run (${previous.status}, started ${previous.createdAt})`;
      if (!options.resume) {
        throw new RunDirError('exists', dir, `${dir}: the folder already holds ${what}; resume it (--resume), or choose a new folder for a new run`);
      }
      if (previous.kind !== options.kind) {
        throw new RunDirError('mismatch', dir, `${dir}: the folder holds ${what}, not a ${options.kind} run; choose a new folder for a new run`);
      }
      if (options.args !== undefined && canonical(options.args) !== canonical(previous.args)) {
        throw new RunDirError(
          'mismatch',
          dir,
          `${dir}: the run was started with other arguments (${argsDifference(previous.args, options.args)}); resume with the same arguments or none, or choose a new folder for a new run`,
        );
      }
      args = previous.args;
      settings = options.settings ?? previous.settings;
    }

    await acquireLock(dir, fs, pid, isAlive);
    const at = now().toISOString();
    const record: RunRecord = {
      format: 1,
      kind: options.kind,
      args,
      settings,
      engineVersion: options.engineVersion,
      createdAt: previous?.createdAt ?? at,
      startedAt: at,
      status: 'running',
      attempts: (previous?.attempts ?? 0) + 1,
      pid,
    };
    const run = new RunDir(dir, record, previous !== undefined, fs, now, pid, undefined, 0, undefined);
    run.notes.push(...notes);
    try {
      await run.openLedger();
      // Cut every output the ledger knows back to its committed length now, so that reads see committed data only.
      for (const name of run.sizes.keys()) await run.output(name);
      await run.writeRecord();
      run.log_ = await run.openFile(join(dir, runFiles.log), 'a');
    } catch (err) {
      await run.release();
      throw err;
    }
    return run;
  }

  /** The recorded inputs and state of the run (as job.json has them). */
  get info(): Readonly<RunRecord> {
    return this.record;
  }

  /** The absolute path of a file in the run folder. */
  path(name: string): string {
    return join(this.dir, checkName(name));
  }

  /** Keys of the units finished in this run, earlier attempts included. */
  completedKeys(): ReadonlySet<string> {
    return new Set(this.done.keys());
  }

  isDone(key: string): boolean {
    return this.done.has(key);
  }

  /** What `commit` recorded with a finished unit (token counts, timings), for reports that span attempts. */
  completedMeta(key: string): unknown {
    return this.done.get(key);
  }

  /**
   * Appends a finished unit's records (one JSON line each) to the named outputs and records the unit in the ledger,
   * all fsync'd before this resolves. Commits run one at a time in call order, whatever the job's concurrency.
   * After a failed write the run takes no more commits: the error names the file and what to do.
   */
  commit(key: string, writes: Readonly<Record<string, readonly unknown[]>>, meta?: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new RunDirError('misuse', this.dir, `${this.dir}: commit('${key}') after the run finished`));
    const result = this.commits.then(() => this.commitNow(key, writes, meta));
    this.commits = result.catch(() => undefined);
    return result;
  }

  /** The committed records of an output, in order (a unit's lines that never committed are not there). */
  async readJsonl(name: string): Promise<unknown[]> {
    await this.commits;
    const path = this.path(name);
    const size = this.sizes.get(name) ?? 0;
    if (size === 0) return [];
    const bytes = (await this.fs.readFile(path)) ?? Buffer.alloc(0);
    return bytes
      .subarray(0, size)
      .toString('utf8')
      .split('\n')
      .slice(0, -1)
      .map((line, i) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          throw new RunDirError('damaged', path, `${path}:${i + 1}: not a JSON line; the output was changed outside the run (start a new run folder)`);
        }
      });
  }

  /** Writes a whole file (a report, a mixed dataset) beside a temporary name and renames it in: all or nothing. */
  async writeAtomic(name: string, data: string | Uint8Array): Promise<void> {
    const checked = checkName(name);
    await this.writeFileAtomic(join(this.dir, checked), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** Appends a line to log.jsonl (not fsync'd: logs are for reading, not for resuming). Never throws. */
  log(level: LogLevel, text: string): void {
    if (this.logBroken || this.closed) return;
    const line = Buffer.from(`${JSON.stringify({ t: this.now().toISOString(), level, text })}\n`, 'utf8');
    this.logWrites = this.logWrites
      .then(() => (this.log_ ? writeAll(this.log_, line) : undefined))
      .catch(() => {
        // A log that cannot be written (full disk) must not fail the job; the commit that fails next says why.
        this.logBroken = true;
      });
  }

  /**
   * Records how the attempt ended in job.json and releases the folder. Waits for pending commits and log lines.
   * Returns a problem text when job.json could not be written (a full disk): the outputs and ledger stand anyway.
   */
  async finish(end: { status: JobStatus; summary: Record<string, unknown>; error?: JobError }): Promise<string | undefined> {
    if (this.closed) return undefined;
    await this.commits;
    await this.logWrites;
    this.record = { ...this.record, status: end.status, finishedAt: this.now().toISOString(), summary: end.summary, ...(end.error ? { error: end.error } : {}) };
    let problem: string | undefined;
    try {
      await this.writeRecord();
    } catch (err) {
      problem = (err as Error).message;
    }
    await this.release();
    return problem;
  }

  /** Closes the files and releases the lock without recording an end (for a run that could not start). */
  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const files = [this.ledger, this.log_, ...(await Promise.all([...this.outputs.values()].map((o) => o.then((x) => x.file, () => undefined))))];
    for (const f of files) await f?.close().catch(() => undefined);
    await this.fs.unlink(join(this.dir, runFiles.lock)).catch(() => undefined);
  }

  private async commitNow(key: string, writes: Readonly<Record<string, readonly unknown[]>>, meta: unknown): Promise<void> {
    if (this.broken) throw this.broken;
    if (this.done.has(key)) throw new RunDirError('misuse', this.dir, `${this.dir}: unit '${key}' was committed before; check isDone(key) before redoing a unit`);
    const pending: { name: string; out: Output; bytes: Buffer }[] = [];
    for (const [name, records] of Object.entries(writes)) {
      if (records.length === 0) continue;
      const text = records.map((r, i) => {
        const json = JSON.stringify(r);
        if (json === undefined) throw new RunDirError('misuse', this.path(name), `${this.path(name)}: record ${i} of unit '${key}' is not a JSON value`);
        return `${json}\n`;
      });
      pending.push({ name, out: await this.output(name), bytes: Buffer.from(text.join(''), 'utf8') });
    }
    let current = this.dir;
    try {
      for (const p of pending) {
        current = this.path(p.name);
        await writeAll(p.out.file, p.bytes);
      }
      for (const p of pending) {
        current = this.path(p.name);
        await p.out.file.sync();
      }
      const sizes = Object.fromEntries(this.sizes);
      for (const p of pending) sizes[p.name] = p.out.size + p.bytes.length;
      const entry: LedgerEntry = meta === undefined ? { key, sizes } : { key, sizes, meta };
      const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
      current = join(this.dir, runFiles.ledger);
      await writeAll(this.ledger!, line);
      await this.ledger!.sync();
      this.ledgerSize += line.length;
    } catch (err) {
      // Put the files back to their committed lengths where the drive still lets us; resume would do it anyway.
      for (const p of pending) await p.out.file.truncate(p.out.size).catch(() => undefined);
      await this.ledger?.truncate(this.ledgerSize).catch(() => undefined);
      this.broken = new RunDirError(
        'write',
        current,
        `${current}: writing failed (${systemErrorText(err)}); ${writeHint(err, this.dir)}. The ${this.done.size} units finished before are kept`,
        err,
      );
      throw this.broken;
    }
    for (const p of pending) {
      p.out.size += p.bytes.length;
      this.sizes.set(p.name, p.out.size);
    }
    this.done.set(key, meta);
  }

  /** Opens an output for appending, first cutting it back to its committed length (0 for one the ledger lacks). */
  private output(name: string): Promise<Output> {
    let out = this.outputs.get(name);
    if (!out) {
      out = this.openOutput(name);
      this.outputs.set(name, out);
    }
    return out;
  }

  private async openOutput(name: string): Promise<Output> {
    const path = this.path(name);
    if (name.includes('/')) await this.fs.mkdir(dirname(path)).catch(() => undefined);
    // a+: appends, and reads the tail a kill left, to say what is dropped.
    const file = await this.openFile(path, 'a+');
    const committed = this.sizes.get(name) ?? 0;
    const { size } = await file.stat();
    if (size < committed) {
      await file.close().catch(() => undefined);
      throw new RunDirError(
        'damaged',
        path,
        `${path}: the file has ${size} bytes but its finished units wrote ${committed}; it was changed outside the run (restore it, or start a new run folder)`,
      );
    }
    if (size > committed) {
      const tail = Buffer.alloc(size - committed);
      let read = 0;
      while (read < tail.length) {
        const { bytesRead } = await file.read(tail, read, tail.length - read, committed + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const lines = countNewlines(tail);
      const torn = tail[tail.length - 1] !== 0x0a;
      try {
        await file.truncate(committed);
        await file.sync();
      } catch (err) {
        throw new RunDirError('write', path, `${path}: cannot cut unfinished work off the output (${systemErrorText(err)}); ${writeHint(err, this.dir)}`, err);
      }
      const what = [lines > 0 ? `${lines} line${lines === 1 ? '' : 's'} of unfinished units` : '', torn ? 'a torn last line' : ''].filter(Boolean).join(' and ');
      this.notes.push(`${name}: dropped ${what} (${tail.length} bytes); those units are redone`);
    }
    return { file, size: committed };
  }

  /** Reads the ledger, drops a torn last line, and leaves the ledger open for appending. */
  private async openLedger(): Promise<void> {
    const path = join(this.dir, runFiles.ledger);
    const bytes = (await this.fs.readFile(path)) ?? Buffer.alloc(0);
    const end = bytes.lastIndexOf(0x0a) + 1;
    const lines = bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1);
    let last: LedgerEntry | undefined;
    lines.forEach((line, i) => {
      let entry: LedgerEntry;
      try {
        entry = JSON.parse(line) as LedgerEntry;
      } catch {
        entry = undefined as unknown as LedgerEntry;
      }
      if (!entry || typeof entry.key !== 'string' || typeof entry.sizes !== 'object' || entry.sizes === null) {
        throw new RunDirError('damaged', path, `${path}:${i + 1}: expected a ledger entry {"key", "sizes"}; the run folder is damaged (start a new run folder)`);
      }
      this.done.set(entry.key, entry.meta);
      last = entry;
    });
    for (const [name, size] of Object.entries(last?.sizes ?? {})) this.sizes.set(checkName(name), size);
    this.ledger = await this.openFile(path, 'a');
    if (end < bytes.length) {
      try {
        await this.ledger.truncate(end);
        await this.ledger.sync();
      } catch (err) {
        throw new RunDirError('write', path, `${path}: cannot drop the torn last line (${systemErrorText(err)}); ${writeHint(err, this.dir)}`, err);
      }
      this.notes.push(`${runFiles.ledger}: dropped a torn last line (${bytes.length - end} bytes); that unit is redone`);
    }
    this.ledgerSize = end;
  }

  private async openFile(path: string, flags: 'a' | 'a+'): Promise<RunFile> {
    try {
      return await this.fs.open(path, flags);
    } catch (err) {
      throw new RunDirError('write', path, `${path}: cannot open (${systemErrorText(err)}); ${writeHint(err, this.dir)}`, err);
    }
  }

  private writeRecord(): Promise<void> {
    return this.writeFileAtomic(join(this.dir, runFiles.record), Buffer.from(`${JSON.stringify(this.record, null, 2)}\n`, 'utf8'));
  }

  private async writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
    const temp = `${path}.tmp-${this.pid}`;
    let file: RunFile | undefined;
    try {
      await this.fs.mkdir(dirname(path));
      file = await this.fs.open(temp, 'w');
      await writeAll(file, bytes);
      await file.sync();
      await file.close();
      file = undefined;
      await this.fs.rename(temp, path);
      await this.fs.syncDir(dirname(path));
    } catch (err) {
      await file?.close().catch(() => undefined);
      await this.fs.unlink(temp).catch(() => undefined);
      throw new RunDirError('write', path, `${path}: writing failed (${systemErrorText(err)}); ${writeHint(err, this.dir)}`, err);
    }
  }
}

async function acquireLock(dir: string, fs: RunFs, pid: number, isAlive: (pid: number) => boolean): Promise<void> {
  const path = join(dir, runFiles.lock);
  const write = async (flags: 'wx' | 'w') => {
    const file = await fs.open(path, flags);
    try {
      await writeAll(file, Buffer.from(`${pid}\n`, 'utf8'));
    } finally {
      await file.close();
    }
  };
  try {
    await write('wx');
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new RunDirError('write', path, `${path}: cannot create the lock (${systemErrorText(err)}); ${writeHint(err, dir)}`, err);
    }
  }
  const holder = await liveLockHolder(dir, fs, isAlive);
  if (holder !== undefined && holder !== pid) {
    throw new RunDirError('busy', dir, `${dir}: process ${holder} is running this job now; wait for it to end or cancel it before resuming`);
  }
  // The lock of a process that is gone (killed, crashed): take the run over.
  try {
    await write('w');
  } catch (err) {
    throw new RunDirError('write', path, `${path}: cannot take over the lock (${systemErrorText(err)}); ${writeHint(err, dir)}`, err);
  }
}

/** An output name: a relative path inside the run folder that is not one of the machinery's own files. */
function checkName(name: string): string {
  const normal = normalize(name).split(sep).join('/');
  if (name === '' || isAbsolute(name) || normal.startsWith('../') || normal === '..' || normal !== name) {
    throw new RunDirError('misuse', name, `output name '${name}': expected a relative path inside the run folder, like "samples.jsonl" or "leaves/a.jsonl"`);
  }
  if ((Object.values(runFiles) as string[]).includes(name)) {
    throw new RunDirError('misuse', name, `output name '${name}': the run folder keeps its own ${name}; choose another name`);
  }
  return name;
}
