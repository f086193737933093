// The errors of the job machinery, each naming what it is about and what to do. The runner turns them into a
// job's failure (JobError) and the RPC server into response errors (JobErrorCodes).
import type { JobErrorCodeName } from '../rpc/protocol';

/** Args or settings that do not fit a job kind: the message names the field and what it takes. */
export class JobArgsError extends Error {
  override readonly name = 'JobArgsError';
}

/** A job that cannot go on for a reason the user can act on (a dead endpoint, a model that does not load). */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    message: string,
    /** The file the failure is about, when there is one. */
    readonly file?: string,
  ) {
    super(message);
  }
}

export type RunDirProblem = 'exists' | 'not-empty' | 'mismatch' | 'busy' | 'damaged' | 'write' | 'misuse';

/**
 * A run folder that cannot be used or written. `file` is the path involved; `code` the system error code when the
 * operating system refused (ENOSPC, EACCES, ...).
 */
export class RunDirError extends Error {
  override readonly name = 'RunDirError';
  readonly code?: string;

  constructor(
    readonly problem: RunDirProblem,
    readonly file: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    if (code) this.code = code;
  }
}

/** What a user does about a system error while writing into `dir`. */
export function writeHint(err: unknown, dir: string): string {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full: free disk space on the drive holding ${dir}, then resume the run`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `check that you can write to ${dir}`;
    case 'EIO':
      return `the drive holding ${dir} reported an input/output error; check it, then resume the run`;
    default:
      return `check the drive holding ${dir}, then resume the run`;
  }
}

/** Short words for a system error: "ENOSPC: no space left on device" rather than the call that failed. */
export function systemErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code && typeof e.message === 'string') return e.message.replace(/, \w+( '[^']*')*$/, '');
  return err instanceof Error ? err.message : String(err);
}

/** The response error code the RPC server answers job/start with for an error, or undefined for a bug. */
export function startErrorCode(err: unknown): JobErrorCodeName | undefined {
  if (err instanceof JobArgsError) return 'InvalidJobArgs';
  if (err instanceof RunDirError) return 'RunDirRefused';
  if (err instanceof UnknownJobKindError) return 'UnknownJobKind';
  return undefined;
}

export class UnknownJobKindError extends Error {
  override readonly name = 'UnknownJobKindError';
  constructor(
    readonly kind: string,
    known: readonly string[],
  ) {
    super(`unknown job kind '${kind}' (the engine runs: ${known.join(', ')})`);
  }
}
