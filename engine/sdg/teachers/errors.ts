// Errors a teacher throws, each saying which server, what went wrong and what to do, in one line. `kind` lets the
// pipelines react without parsing messages: an invalid answer is a sample dropped ("teacher returned invalid JSON"),
// an unreachable server or a refused key stops the job (what was finished is kept).

export type TeacherErrorKind =
  | 'unreachable' // nothing listens at the URL, or the connection broke
  | 'unauthorized' // 401/403: API key missing or refused
  | 'model-not-found' // the server does not serve the model asked for
  | 'rate-limited' // 429 after every retry
  | 'server' // 5xx after every retry
  | 'request' // another 4xx: the request itself is wrong (prompt too long for the context, say)
  | 'timeout' // no answer within the per-request timeout, after every retry
  | 'bad-response' // an HTTP answer that is not the OpenAI shape
  | 'invalid-json' // the model's answer is not JSON of the schema asked for
  | 'model-load'; // a local model that does not load

export interface TeacherErrorDetails {
  endpoint?: string;
  status?: number;
  /** Requests sent before giving up. */
  attempts?: number;
  cause?: unknown;
}

export class TeacherError extends Error {
  readonly kind: TeacherErrorKind;
  readonly endpoint?: string;
  readonly status?: number;
  /** Requests sent for the call that failed (set by the teacher as the error leaves it). */
  attempts?: number;

  constructor(kind: TeacherErrorKind, message: string, details: TeacherErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'TeacherError';
    this.kind = kind;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.attempts = details.attempts;
  }

  /** Worth another try (maybe on another endpoint): the server may answer next time. */
  get retryable(): boolean {
    return this.kind === 'unreachable' || this.kind === 'rate-limited' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'bad-response';
  }
}

/** The reason a pipeline records for a sample lost to an unparsable answer. */
export const invalidJsonReason = 'teacher returned invalid JSON';

/** The model answered, but not with JSON that parses and follows the schema. Not retried by the teacher. */
export class TeacherInvalidJsonError extends TeacherError {
  /** The answer as received (for logs and the run's rejects file). */
  readonly text: string;
  /** What is wrong: "not JSON: Unexpected token…", "/question: must be string", "cut off at maxTokens". */
  readonly problem: string;
  readonly reason = invalidJsonReason;

  constructor(text: string, problem: string, details: TeacherErrorDetails = {}) {
    super('invalid-json', `${invalidJsonReason}${details.endpoint ? ` (${details.endpoint})` : ''}: ${problem}`, details);
    this.name = 'TeacherInvalidJsonError';
    this.text = text;
    this.problem = problem;
  }
}

export function isTeacherError(e: unknown, kind?: TeacherErrorKind): e is TeacherError {
  return e instanceof TeacherError && (kind === undefined || e.kind === kind);
}

/** The reason a pipeline records for a unit whose prompt the teacher cannot take. */
export const contextOverflowReason = "prompt longer than the teacher's context";

/**
 * The prompt and the answer's token budget do not fit the teacher's context. Not retried: the same prompt never fits.
 * A pipeline shortens what it can (a document chunk) and otherwise drops the unit, so one long prompt costs one sample,
 * not the job. The token counts are known for a local teacher; a server's refusal may not give them.
 */
export class TeacherContextOverflowError extends TeacherError {
  readonly reason = contextOverflowReason;

  constructor(
    message: string,
    readonly promptTokens?: number,
    readonly contextSize?: number,
    readonly maxTokens?: number,
    details: TeacherErrorDetails = {},
  ) {
    super('request', message, details);
    this.name = 'TeacherContextOverflowError';
  }
}

/** Whether a server's 400 message says the prompt exceeds the context (llama.cpp server, vLLM and OpenAI word it so). */
export function saysContextOverflow(message: string): boolean {
  return /context (length|size|window)|maximum context|exceeds? the (available )?context|too many tokens|prompt is too long/i.test(message);
}
