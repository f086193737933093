// Errors of the model server. ApiError is what a request gets back, in OpenAI's error shape
// `{error: {message, type, param, code}}` with the HTTP status OpenAI uses for the same failure, so any OpenAI client
// raises its usual error class (BadRequestError, NotFoundError, RateLimitError, ...). ServeError is a failure to start.

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A field of the request body that is missing, of the wrong type or out of range (400). */
export function invalidParam(param: string, message: string, code: string | null = 'invalid_value'): ApiError {
  return new ApiError(400, 'invalid_request_error', message, code, param);
}

export function unknownModel(model: string, known: readonly string[]): ApiError {
  return new ApiError(404, 'not_found_error', `The model '${model}' does not exist; this server serves ${known.map((m) => `'${m}'`).join(', ')}`, 'model_not_found', 'model');
}

export function contextLengthExceeded(limit: number, prompt: number, completion: number | undefined): ApiError {
  const asked = completion === undefined ? `${prompt} tokens in the prompt` : `${prompt + completion} tokens (${prompt} in the prompt, ${completion} for the completion)`;
  return new ApiError(
    400,
    'invalid_request_error',
    `This model's maximum context length is ${limit} tokens, but you requested ${asked}. Shorten the prompt${completion === undefined ? '' : ' or lower max_tokens'}, or restart the server with a larger --ctx-size.`,
    'context_length_exceeded',
    'messages',
  );
}

export function overloaded(modelId: string, parallel: number, queue: number): ApiError {
  return new ApiError(
    429,
    'rate_limit_error',
    `The server is busy: model '${modelId}' is generating for ${parallel} request${parallel === 1 ? '' : 's'} and ${queue} more are waiting (the queue is full). Retry shortly, or start the server with a larger --parallel or --queue.`,
    'server_overloaded',
  );
}

/** The server cannot start: the message says what is wrong and what to do. */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}
