// Errors of the reference model: each carries what was expected and what was found, so a caller (the converter, the
// CLI) can print it as is.

/** A config.json value the forward pass cannot use (missing, wrong type, unsupported). */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`config ${key}: ${problem}`);
  }
}

/** A tensor the forward pass needs is not in the weights. */
export class MissingTensorError extends Error {
  override name = 'MissingTensorError';
  constructor(
    readonly tensor: string,
    hint?: string,
  ) {
    super(`missing tensor ${tensor}${hint ? ` (${hint})` : ''}`);
  }
}

/** A tensor whose shape (or element count) differs from what the config implies. */
export class TensorShapeError extends Error {
  override name = 'TensorShapeError';
  constructor(
    readonly tensor: string,
    readonly expected: readonly number[],
    readonly found: readonly number[],
    what = 'shape',
  ) {
    super(`tensor ${tensor}: expected ${what} [${expected.join(', ')}], found [${found.join(', ')}]`);
  }
}

/** A LoRA adapter that does not fit the base model or uses a PEFT feature this reference does not implement. */
export class LoraError extends Error {
  override name = 'LoraError';
}
