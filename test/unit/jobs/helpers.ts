// Shared by the job tests: temporary run folders, reading outputs back, and a file system that fills up.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeRunFs, type OpenFlags, type RunFile, type RunFs } from '../../../engine/jobs/fs';
import { jobKinds } from '../../../engine/jobs/registry';
import type { JobEvents } from '../../../engine/jobs/runner';
import { runFiles, type RunDir } from '../../../engine/jobs/runDir';
import type { JobProgress, LogLevel } from '../../../engine/rpc/protocol';

export const repoRoot = join(__dirname, '../../..');

/** The kinds the engine runs, as its messages list them (other areas add rows to the job table). */
export const kindList = jobKinds.map((j) => j.kind).join(', ');

export function tempRoot(prefix: string): { dir: string; next(): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return { dir, next: () => join(dir, `run-${++n}`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The lines of a file, parsed; a torn last line fails the parse, as it should in a test. */
export function jsonLines(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${path}: the last line is torn`);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as unknown);
}

/** The unit numbers demo-count wrote, in file order. */
export function countedUnits(runDir: string): number[] {
  return jsonLines(join(runDir, 'counts.jsonl')).map((r) => (r as { unit: number }).unit);
}

/** Leaves a run as a killed process does: files closed, job.json still 'running', run.lock naming the dead pid. */
export async function abandon(run: RunDir, pid: number): Promise<void> {
  await run.release();
  writeFileSync(join(run.dir, runFiles.lock), `${pid}\n`);
}

export const range = (n: number, from = 0) => Array.from({ length: n - from }, (_, i) => from + i);

/** Collects what a job reports; `waitFor` resolves once a report matches (readiness by event, never by sleeping). */
export class Recorder implements JobEvents {
  readonly progresses: JobProgress[] = [];
  readonly logs: { level: LogLevel; text: string }[] = [];
  readonly partials: { name: string; data: unknown }[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  progress(p: JobProgress): void {
    this.progresses.push(p);
    this.wake();
  }
  log(level: LogLevel, text: string): void {
    this.logs.push({ level, text });
    this.wake();
  }
  partial(name: string, data: unknown): void {
    this.partials.push({ name, data });
    this.wake();
  }

  waitFor(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

/**
 * A real file system with a disk that holds only `capacity` more bytes (over all files, as one drive): the write
 * that would pass the limit stores what fits, as a full disk does, and the next one throws ENOSPC. Truncating gives
 * no room back, as on a disk other programs keep filling.
 */
export class DiskFullFs implements RunFs {
  written = 0;
  constructor(private readonly capacity: number) {}

  mkdir = nodeRunFs.mkdir;
  readdir = nodeRunFs.readdir;
  readFile = nodeRunFs.readFile;
  rename = nodeRunFs.rename;
  unlink = nodeRunFs.unlink;
  syncDir = nodeRunFs.syncDir;

  async open(path: string, flags: OpenFlags): Promise<RunFile> {
    const inner = await nodeRunFs.open(path, flags);
    const disk = this;
    return {
      async write(buffer, offset, length, position) {
        const room = disk.capacity - disk.written;
        if (room <= 0) throw enospc();
        const r = await inner.write(buffer, offset, Math.min(length, room), position);
        disk.written += r.bytesWritten;
        return r;
      },
      read: (b, o, l, p) => inner.read(b, o, l, p),
      sync: () => inner.sync(),
      truncate: (n) => inner.truncate(n),
      stat: () => inner.stat(),
      close: () => inner.close(),
    };
  }
}
