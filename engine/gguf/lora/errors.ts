// Errors about LoRA adapters and the base models they are applied to: one line naming the file (adapter_config.json,
// adapter_model.safetensors, the base's config.json), what does not fit, and what to do, e.g.
// `adapter_model.safetensors: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' is [8, 128] but
// the base weight model.layers.0.self_attn.q_proj.weight takes inputs of 64 (the adapter was trained on another base
// model; pass the --base it was trained on)`.

export interface AdapterErrorDetails {
  /** The adapter tensor involved, under its PEFT name. */
  tensor?: string;
  /** The adapter_config.json field involved. */
  field?: string;
  /** What to do about it (printed in parentheses). */
  hint?: string;
  cause?: unknown;
}

/** A PEFT adapter that cannot be read, or does not fit the base model it is exported or merged against. */
export class AdapterError extends Error {
  readonly file: string;
  /** The message without the file name and hint. */
  readonly what: string;
  readonly tensor?: string;
  readonly field?: string;
  readonly hint?: string;

  constructor(file: string, what: string, details: AdapterErrorDetails = {}) {
    super(`${file}: ${what}${details.hint ? ` (${details.hint})` : ''}`, details.cause ? { cause: details.cause } : undefined);
    this.name = 'AdapterError';
    this.file = file;
    this.what = what;
    if (details.tensor !== undefined) this.tensor = details.tensor;
    if (details.field !== undefined) this.field = details.field;
    if (details.hint !== undefined) this.hint = details.hint;
  }
}
