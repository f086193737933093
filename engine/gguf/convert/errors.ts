// A Hugging Face folder that cannot be converted as it is: the file (or folder) involved, what is wrong with it, and
// what to do, in one line. Problems the readers find (a truncated safetensors file, a bad config.json) keep their own
// error classes (SafetensorsError, ModelFolderError), which already name the file, tensor and byte offset.

export class ConvertError extends Error {
  /** The file or folder the problem is in. */
  readonly file: string;
  /** The message without the file name and hint. */
  readonly what: string;
  /** The tensor involved, when there is one (its Hugging Face name). */
  readonly tensor?: string;

  constructor(file: string, what: string, hint?: string, tensor?: string) {
    super(`${file}: ${what}${hint ? ` (${hint})` : ''}`);
    this.name = 'ConvertError';
    this.file = file;
    this.what = what;
    if (tensor !== undefined) this.tensor = tensor;
  }
}
