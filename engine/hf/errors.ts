// Errors about Hugging Face model folders and safetensors files. Each message is one line that names the file, where
// in it things went wrong (tensor, byte offset, field) and ends in what to do, e.g.
// `model.safetensors: tensor 'lm_head.weight' needs bytes 1000..5096 but the file ends at 3000 (the file is truncated;
// re-download or re-write it)`. The fields carry the same facts for callers that react to them.

export type SafetensorsProblem =
  | 'not-safetensors' // the header is not a safetensors header at all
  | 'unsupported' // a dtype or feature this reader does not read
  | 'truncated' // the file ends before something it declares
  | 'corrupt' // a value that cannot be right (offsets overlap, size does not match the shape)
  | 'io'; // the operating system refused a read or write

export interface SafetensorsErrorDetails {
  file: string;
  /** Byte offset in the file where the problem is (0 when it is about the file as a whole). */
  offset: number;
  problem: SafetensorsProblem;
  tensor?: string;
  hint?: string;
  cause?: unknown;
}

/** A safetensors file that cannot be read or written as one. */
export class SafetensorsError extends Error {
  readonly file: string;
  readonly offset: number;
  readonly problem: SafetensorsProblem;
  readonly tensor?: string;
  /** The message without the file name and hint. */
  readonly what: string;

  constructor(what: string, details: SafetensorsErrorDetails) {
    super(`${details.file}: ${what}${details.hint ? ` (${details.hint})` : ''}`, details.cause ? { cause: details.cause } : undefined);
    this.name = 'SafetensorsError';
    this.what = what;
    this.file = details.file;
    this.offset = details.offset;
    this.problem = details.problem;
    if (details.tensor !== undefined) this.tensor = details.tensor;
  }
}

/** A model folder (config.json, tokenizer files, weights, index) that is missing something or says something wrong. */
export class ModelFolderError extends Error {
  readonly file: string;
  /** The message without the file name and hint. */
  readonly what: string;
  /** The JSON field involved, when there is one (e.g. "num_attention_heads"). */
  readonly field?: string;

  constructor(file: string, what: string, hint?: string, field?: string) {
    super(`${file}: ${what}${hint ? ` (${hint})` : ''}`);
    this.name = 'ModelFolderError';
    this.file = file;
    this.what = what;
    if (field !== undefined) this.field = field;
  }
}

export const safetensorsHints = {
  truncated: 'the file is truncated; re-download or re-write it',
  corrupt: 'the file is damaged or was written by a broken tool; re-download or re-write it',
} as const;
