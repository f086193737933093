// The few file operations a run folder needs, as an interface: node's fs/promises in production, and test doubles
// that fail the way a full disk or a broken drive does.
import * as fsp from 'node:fs/promises';

export interface RunFile {
  write(buffer: Uint8Array, offset: number, length: number, position?: number | null): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export type OpenFlags = 'a' | 'a+' | 'w' | 'wx' | 'r';

export interface RunFs {
  mkdir(path: string): Promise<void>;
  /** Names in a folder; [] when it does not exist. */
  readdir(path: string): Promise<string[]>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  open(path: string, flags: OpenFlags): Promise<RunFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; no error when it is already gone. */
  unlink(path: string): Promise<void>;
  /** Makes a rename inside the folder durable; a no-op where folders cannot be synced (Windows). */
  syncDir(path: string): Promise<void>;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export const nodeRunFs: RunFs = {
  async mkdir(path) {
    await fsp.mkdir(path, { recursive: true });
  },
  async readdir(path) {
    try {
      return await fsp.readdir(path);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  },
  async readFile(path) {
    try {
      return await fsp.readFile(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  open: (path, flags) => fsp.open(path, flags),
  rename: (from, to) => fsp.rename(from, to),
  async unlink(path) {
    try {
      await fsp.unlink(path);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  },
  async syncDir(path) {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(path, 'r');
      await handle.sync();
    } catch {
      // Windows cannot open or sync a folder; the rename itself is still atomic there.
    } finally {
      await handle?.close().catch(() => undefined);
    }
  },
};

/** Writes all of `bytes` (a write may take fewer bytes than asked). */
export async function writeAll(file: RunFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, null);
    if (bytesWritten <= 0) throw Object.assign(new Error('EIO: the write took no bytes'), { code: 'EIO' });
    offset += bytesWritten;
  }
}
