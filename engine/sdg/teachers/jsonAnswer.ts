// Turning a model's answer into the JSON value a schema asked for. Grammar-constrained teachers answer with bare
// JSON; servers that only take the schema as a hint sometimes wrap it in a Markdown fence or a sentence, which is
// forgiven. Anything else (not JSON, the wrong shape, cut off at maxTokens) is a TeacherInvalidJsonError.
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import { TeacherInvalidJsonError } from './errors';

const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/**
 * Where the JSON may be in an answer, most likely first: the answer itself, a fenced block's body, the span from the
 * first { or [ to the last } or ].
 */
export function jsonCandidates(text: string): string[] {
  const t = text.trim();
  const out = [t];
  const fence = /```[a-zA-Z]*[ \t]*\n([\s\S]*?)\n?```/.exec(t);
  if (fence) out.push(fence[1].trim());
  const open = t.search(/[{[]/);
  const close = Math.max(t.lastIndexOf('}'), t.lastIndexOf(']'));
  if (open !== -1 && close > open) out.push(t.slice(open, close + 1));
  return [...new Set(out)];
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  return `${e.instancePath || '(the answer)'}: ${e.message ?? 'does not match the schema'}`;
}

export interface ParseAnswerContext {
  endpoint?: string;
  /** The server's finish reason: 'length' turns a parse failure into "cut off at maxTokens". */
  finishReason?: string;
}

/** Parses and validates; throws TeacherInvalidJsonError saying what is wrong. */
export function parseJsonAnswer(text: string, schema: Record<string, unknown>, context: ParseAnswerContext = {}): unknown {
  let value: unknown;
  let parsed = false;
  let firstError = '';
  for (const candidate of jsonCandidates(text)) {
    try {
      value = JSON.parse(candidate);
      parsed = true;
      break;
    } catch (err) {
      firstError ||= (err as Error).message;
    }
  }
  if (!parsed) {
    const problem =
      context.finishReason === 'length' ? 'the answer was cut off at maxTokens before the JSON ended (raise maxTokens or shorten the prompt)' : `not JSON: ${firstError}`;
    throw new TeacherInvalidJsonError(text, problem, { endpoint: context.endpoint });
  }
  const validate = validatorFor(schema);
  if (!validate(value)) throw new TeacherInvalidJsonError(text, describeErrors(validate.errors), { endpoint: context.endpoint });
  return value;
}
