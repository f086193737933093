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

/** The JSON text inside an answer: the answer itself, a fenced block's body, or the outermost {...} / [...]. */
export function extractJsonText(text: string): string {
  const t = text.trim();
  const fence = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(t) ?? /```(?:json)?\s*\n([\s\S]*?)\n?```/.exec(t);
  if (fence) return fence[1].trim();
  if (t.startsWith('{') || t.startsWith('[')) return t;
  const open = t.search(/[{[]/);
  const close = Math.max(t.lastIndexOf('}'), t.lastIndexOf(']'));
  return open !== -1 && close > open ? t.slice(open, close + 1) : t;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  const where = e.instancePath || '(the answer)';
  const extra = e.keyword === 'required' ? ` "${(e.params as { missingProperty?: string }).missingProperty}"` : '';
  return `${where}: ${e.message ?? 'does not match the schema'}${extra}`;
}

export interface ParseAnswerContext {
  endpoint?: string;
  /** The server's finish reason: 'length' turns a parse failure into "cut off at maxTokens". */
  finishReason?: string;
}

/** Parses and validates; throws TeacherInvalidJsonError saying what is wrong. */
export function parseJsonAnswer(text: string, schema: Record<string, unknown>, context: ParseAnswerContext = {}): unknown {
  let value: unknown;
  try {
    value = JSON.parse(extractJsonText(text));
  } catch (err) {
    const problem =
      context.finishReason === 'length'
        ? 'the answer was cut off at maxTokens before the JSON ended (raise maxTokens or shorten the prompt)'
        : `not JSON: ${(err as Error).message}`;
    throw new TeacherInvalidJsonError(text, problem, { endpoint: context.endpoint });
  }
  const validate = validatorFor(schema);
  if (!validate(value)) throw new TeacherInvalidJsonError(text, describeErrors(validate.errors), { endpoint: context.endpoint });
  return value;
}
