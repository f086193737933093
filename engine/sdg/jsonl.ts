// JSON Lines files as SDG writes and reads them. Finished files appear whole or not at all (written beside the target
// and renamed in); files that grow during a run are appended a line at a time, and a reader forgives a torn last
// line (a job killed mid-write), so a resumed run picks up exactly the lines that were finished.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export class JsonlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'JsonlError';
  }
}

let tmpCounter = 0;

/** Writes `lines` (objects, one JSON per line) to `file` through a temporary file renamed in after fsync. */
export async function writeJsonlAtomic(file: string, lines: Iterable<unknown> | AsyncIterable<unknown>): Promise<number> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  const handle = await open(tmp, 'w');
  let count = 0;
  try {
    let buffer = '';
    for await (const line of lines as AsyncIterable<unknown>) {
      buffer += `${JSON.stringify(line)}\n`;
      count++;
      if (buffer.length > 1 << 20) {
        await handle.write(buffer);
        buffer = '';
      }
    }
    if (buffer) await handle.write(buffer);
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  return count;
}

/** Writes a text file the same way (recipes, reports). */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Appends lines to a file that grows during a run; each append() resolves once its line is handed to the OS. */
export class JsonlAppender {
  private stream?: WriteStream;
  private opened?: Promise<void>;
  private failure?: Error;

  constructor(readonly file: string) {}

  async append(line: unknown): Promise<void> {
    const stream = await this.open();
    if (this.failure) throw this.failure;
    const text = `${JSON.stringify(line)}\n`;
    if (!stream.write(text)) await once(stream, 'drain');
    if (this.failure) throw this.failure;
  }

  /** Flushes and closes; safe to call twice. */
  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    this.opened = undefined;
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.failure) throw this.failure;
  }

  private async open(): Promise<WriteStream> {
    if (!this.opened) {
      this.opened = (async () => {
        await mkdir(dirname(this.file), { recursive: true });
        await repairTornTail(this.file);
        const stream = createWriteStream(this.file, { flags: 'a' });
        stream.on('error', (err) => (this.failure = err));
        await once(stream, 'open');
        this.stream = stream;
      })();
    }
    await this.opened;
    return this.stream!;
  }
}

/**
 * Cuts an unfinished last line (no newline at the end: the writer was killed) off a file, so appending after it
 * starts a clean line. Returns the bytes removed.
 */
export async function repairTornTail(file: string): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    const chunk = Buffer.alloc(Math.min(size, 1 << 16));
    let end = size;
    // Walk back to the last newline.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl !== -1) {
        const keep = start + nl + 1;
        if (keep < size) await handle.truncate(keep);
        return size - keep;
      }
      end = start;
    }
    await handle.truncate(0);
    return size;
  } finally {
    await handle.close();
  }
}

export interface JsonlLine<T> {
  /** 1-based line number in the file. */
  line: number;
  value: T;
  /** The line as it is in the file (without the newline). */
  text: string;
}

export interface ReadJsonlOptions {
  /** Skip an unfinished last line (no newline after it: a killed writer leaves one); default true. */
  tolerateTornTail?: boolean;
}

/** The lines of a JSONL file, parsed; blank lines are skipped; a line that is not JSON is a JsonlError. */
export async function* readJsonl<T = unknown>(file: string, options: ReadJsonlOptions = {}): AsyncGenerator<JsonlLine<T>> {
  const tolerate = options.tolerateTornTail ?? true;
  const endsWithNewline = await lastByteIsNewline(file);
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  let pending: { line: number; text: string } | undefined;
  const parse = (p: { line: number; text: string }): JsonlLine<T> => {
    try {
      return { line: p.line, value: JSON.parse(p.text) as T, text: p.text };
    } catch (err) {
      throw new JsonlError(file, p.line, `not JSON (${(err as Error).message})`);
    }
  };
  for await (const text of rl) {
    n++;
    if (pending) yield parse(pending);
    pending = text.trim() ? { line: n, text } : undefined;
  }
  if (pending) {
    // A last line without its newline was never finished (the writer writes line and newline together).
    if (endsWithNewline || !tolerate) yield parse(pending);
  }
}

async function lastByteIsNewline(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    await handle.read(b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

/** Number of finished (newline-terminated), non-blank lines. */
export async function countJsonlLines(file: string): Promise<number> {
  const endsWithNewline = await lastByteIsNewline(file);
  let n = 0;
  let last = '';
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of rl) {
    if (text.trim()) n++;
    last = text;
  }
  return !endsWithNewline && last.trim() ? n - 1 : n;
}
