// Errors about model files, carrying what a person needs to act on them: the file, the byte offset where reading
// went wrong and, when one is involved, the tensor or metadata key. The message says all of it in one line, ending in
// what to do: `model.gguf: tensor 'blk.0.attn_q.weight' data runs past the end of the file (offset 1234, needs 4096
// bytes, file has 2000): the file is truncated; re-download or re-convert it`.

/** What kind of problem, for callers that react differently (a truncated file vs one that is not GGUF at all). */
export type ModelFileProblem =
  | 'not-model-file' // wrong magic / unknown format
  | 'unsupported' // a version or variant this reader does not read
  | 'truncated' // the file ends before something it declares
  | 'corrupt' // a value that cannot be right (bad type id, misaligned offset, overlap, ...)
  | 'io'; // the operating system refused a read

export interface ModelFileErrorDetails {
  file: string;
  offset: number;
  problem: ModelFileProblem;
  tensor?: string;
  key?: string;
  /** The sentence after the colon: what to do about it. */
  hint?: string;
  cause?: unknown;
}

/** A problem in a model file (GGUF or safetensors) at a known place. */
export class ModelFileError extends Error {
  readonly file: string;
  readonly offset: number;
  readonly problem: ModelFileProblem;
  readonly tensor?: string;
  readonly key?: string;
  /** The message without the file name and hint: "tensor 'x' data runs past the end of the file (...)". */
  readonly what: string;

  constructor(what: string, details: ModelFileErrorDetails) {
    super(`${details.file}: ${what}${details.hint ? `: ${details.hint}` : ''}`, details.cause ? { cause: details.cause } : undefined);
    this.name = 'ModelFileError';
    this.what = what;
    this.file = details.file;
    this.offset = details.offset;
    this.problem = details.problem;
    if (details.tensor !== undefined) this.tensor = details.tensor;
    if (details.key !== undefined) this.key = details.key;
  }
}

/** A GGUF file that cannot be read as one. */
export class GgufError extends ModelFileError {
  constructor(what: string, details: ModelFileErrorDetails) {
    super(what, details);
    this.name = 'GgufError';
  }
}

/** Hints shared by the readers. */
export const hints = {
  truncated: 'the file is truncated; re-download or re-convert it',
  corrupt: 'the file is damaged or was written by a broken converter; re-download or re-convert it',
  reconvert: 're-convert the model with a current llama.cpp convert script or `taxonomy-studio convert`',
} as const;

/**
 * Writing a GGUF file failed. Nothing is left under the final name and the temporary file is removed; `file` is the
 * final path the caller asked for.
 */
export class GgufWriteError extends Error {
  readonly file: string;
  /** The system error code when the operating system refused (ENOSPC, EACCES, ...). */
  readonly code?: string;

  constructor(file: string, what: string, hint: string | undefined, cause?: unknown) {
    super(`${file}: ${what}${hint ? ` (${hint})` : ''}`, cause ? { cause } : undefined);
    this.name = 'GgufWriteError';
    this.file = file;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    if (code) this.code = code;
  }
}

/** The hint for a system error while writing into `dir`. */
export function writeHint(err: unknown, dir: string): string | undefined {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full; free disk space on the drive holding ${dir} and run again`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `check that you can write to ${dir}`;
    case 'ENOENT':
      return `the folder ${dir} does not exist; create it first`;
    case 'EFBIG':
      return 'the file system cannot hold a file this large; write to another drive';
    default:
      return undefined;
  }
}
