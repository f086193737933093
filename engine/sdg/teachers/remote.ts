// A teacher behind one or more OpenAI-compatible servers (llama.cpp server, vLLM, a hosted API), spoken to with
// POST <base>/chat/completions over Node's fetch. Requests are spread over the endpoints (least busy first, or round
// robin), each endpoint with its own limit of requests in flight; failures that may pass (connection refused or
// reset, 429, 5xx, timeouts, malformed answers) are retried with exponential backoff and jitter, honouring
// Retry-After; a server that cannot be reached is marked down for a while and the others carry on. The API key is
// read from an environment variable whose NAME the caller gives, is sent only in the Authorization header, and is
// redacted from every error and event.
import { abortReason, systemClock, type Clock } from './clock';
import { EndpointPool, type EndpointPolicy, type PoolEndpoint } from './endpointPool';
import { saysContextOverflow, TeacherContextOverflowError, TeacherError, type TeacherErrorKind } from './errors';
import { parseJsonAnswer } from './jsonAnswer';
import { displayUrl, Redactor } from './redact';
import type { ChatMessage, ChatOptions, ChatResult, EndpointHealth, Teacher, TeacherHealth } from './teacher';

export interface RemoteEndpointOptions {
  url: string;
  /** Requests in flight to this endpoint; default the teacher's `concurrency`. */
  concurrency?: number;
  /** The model name this endpoint serves the teacher under, when it differs from the teacher's `model`. */
  model?: string;
}

export type RemoteTeacherEvent =
  | { type: 'retry'; endpoint: string; attempt: number; delayMs: number; problem: string }
  | { type: 'endpoint-down'; endpoint: string; forMs: number; problem: string }
  | { type: 'endpoint-up'; endpoint: string };

export interface RemoteTeacherOptions {
  endpoints: readonly (string | RemoteEndpointOptions)[];
  /** Model name sent with each request; default the first model each endpoint lists at GET <base>/models. */
  model?: string;
  /** NAME of the environment variable holding the API key (the key itself is never passed around or written). */
  apiKeyEnv?: string;
  /** Where apiKeyEnv is looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Requests in flight per endpoint; default 4. */
  concurrency?: number;
  policy?: EndpointPolicy;
  /** Per request (one attempt); default 300 s. */
  timeoutMs?: number;
  /** Requests sent for one chat before giving up; default 5. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** First down period of an unreachable endpoint (doubling per consecutive failure) and its ceiling. */
  downBaseMs?: number;
  downMaxMs?: number;
  /** Timeout of each request of health(); default min(timeoutMs, 30 s). */
  healthTimeoutMs?: number;
  clock?: Clock;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  fetch?: typeof fetch;
  onEvent?: (event: RemoteTeacherEvent) => void;
}

/** `http://host:8080` → `http://host:8080/v1`; a URL with a path is kept (…/v1, …/openai/v1); a pasted …/chat/completions is cut. */
export function normalizeBaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new TeacherError('request', `"${url}" is not a URL: give the teacher server as http://host:port or http://host:port/v1`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TeacherError('request', `${displayUrl(u)}: a teacher URL starts with http:// or https://`);
  }
  u.hash = '';
  u.search = '';
  let path = u.pathname.replace(/\/+$/, '').replace(/\/(?:chat\/)?completions$/, '');
  if (path === '') path = '/v1';
  u.pathname = path;
  return u.toString().replace(/\/+$/, '');
}

interface Endpoint {
  pool: PoolEndpoint;
  display: string;
  model?: string;
  /** Basic credentials written into the URL (user:password@), sent as a header since fetch refuses them in URLs. */
  basicAuth?: string;
  listed?: Promise<ModelList>;
}

interface ModelEntry {
  id: string;
  contextSize?: number;
  ownedBy?: string;
}

interface ModelList {
  models: ModelEntry[];
}

interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

interface Completion {
  text: string;
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length) {
      const c = errorCode(inner[0]);
      if (c) return c;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Retry-After in ms: seconds, an HTTP date, or OpenAI's retry-after-ms. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The server's own words from an error body ({error:{message}}, {error:"…"}, {message}, {detail}, or text). */
function serverMessage(text: string): { message: string; code?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const err = body.error;
    if (err && typeof err === 'object') {
      const o = err as Record<string, unknown>;
      return { message: String(o.message ?? JSON.stringify(o)), code: typeof o.code === 'string' ? o.code : typeof o.type === 'string' ? o.type : undefined };
    }
    if (typeof err === 'string') return { message: err };
    if (typeof body.message === 'string') return { message: body.message };
    if (body.detail !== undefined) return { message: typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail) };
  } catch {
    // not JSON: the text itself
  }
  return { message: text.trim() };
}

function excerpt(text: string, max = 300): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

export class RemoteTeacher implements Teacher {
  readonly description: string;
  private readonly endpoints: Endpoint[];
  private readonly pool: EndpointPool;
  private readonly apiKey?: string;
  private readonly apiKeyEnv?: string;
  private readonly redactor: Redactor;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly healthTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly model?: string;
  private readonly onEvent?: (event: RemoteTeacherEvent) => void;
  private readonly disposed = new AbortController();

  constructor(options: RemoteTeacherOptions) {
    const env = options.env ?? process.env;
    if (options.apiKeyEnv !== undefined) {
      const key = env[options.apiKeyEnv];
      if (!key || !key.trim()) {
        throw new TeacherError(
          'unauthorized',
          `the environment variable ${options.apiKeyEnv} that should hold the teacher's API key is not set: set it in the environment that starts taxonomy-studio`,
        );
      }
      this.apiKey = key.trim();
      this.apiKeyEnv = options.apiKeyEnv;
    }
    const concurrency = options.concurrency ?? 4;
    const secrets: (string | undefined)[] = [this.apiKey];
    this.endpoints = options.endpoints.map((spec, index) => {
      const o = typeof spec === 'string' ? { url: spec } : spec;
      const raw = new URL(normalizeBaseUrl(o.url));
      let basicAuth: string | undefined;
      if (raw.username || raw.password) {
        const user = decodeURIComponent(raw.username);
        const pass = decodeURIComponent(raw.password);
        secrets.push(pass, raw.password);
        basicAuth = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        secrets.push(basicAuth.slice(6));
      }
      const url = displayUrl(raw);
      return { pool: { index, url, limit: o.concurrency ?? concurrency } as PoolEndpoint, display: url, model: o.model, basicAuth };
    });
    this.redactor = new Redactor(secrets);
    this.clock = options.clock ?? systemClock;
    this.pool = new EndpointPool(
      this.endpoints.map((e) => ({ url: e.display, limit: e.pool.limit })),
      this.clock,
      { policy: options.policy, downBaseMs: options.downBaseMs, downMaxMs: options.downMaxMs },
    );
    this.endpoints.forEach((e, i) => (e.pool = this.pool.endpoints[i]));
    this.random = options.random ?? Math.random;
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 300_000;
    this.healthTimeoutMs = options.healthTimeoutMs ?? Math.min(this.timeoutMs, 30_000);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.model = options.model;
    this.onEvent = options.onEvent;
    this.description = this.endpoints.length === 1 ? this.endpoints[0].display : `${this.endpoints.length} endpoints (${this.endpoints.map((e) => e.display).join(', ')})`;
  }

  /** Requests in flight over all endpoints (for progress displays and tests). */
  get inFlight(): number {
    return this.pool.inFlight;
  }

  async chat(messages: readonly ChatMessage[], options: ChatOptions): Promise<ChatResult> {
    const started = this.clock.now();
    const signal = options.signal;
    let last: TeacherError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      this.checkDisposed();
      const ep = this.endpoints[(await this.pool.acquire(this.anySignal(signal))).index];
      let outcome: { completion: Completion } | { delayMs: number };
      try {
        outcome = { completion: await this.complete(ep, messages, options, this.timeoutMs) };
        if (this.pool.succeeded(ep.pool)) this.emit({ type: 'endpoint-up', endpoint: ep.display });
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        this.checkDisposed();
        if (!(err instanceof TeacherError)) throw this.redactor.error(err as Error);
        err.attempts = attempt;
        if (!err.retryable) throw err;
        last = err;
        outcome = { delayMs: this.afterFailure(ep, err, attempt) };
        if (attempt < this.maxAttempts) this.emit({ type: 'retry', endpoint: ep.display, attempt, delayMs: outcome.delayMs, problem: err.message });
      } finally {
        this.pool.release(ep.pool);
      }
      if ('delayMs' in outcome) {
        if (outcome.delayMs > 0 && attempt < this.maxAttempts) await this.clock.sleep(outcome.delayMs, this.anySignal(signal));
        continue;
      }
      const { completion } = outcome;
      const result: ChatResult = {
        text: completion.text,
        promptTokens: completion.promptTokens,
        completionTokens: completion.completionTokens,
        ms: this.clock.now() - started,
        finishReason: completion.finishReason,
        endpoint: ep.display,
        attempts: attempt,
      };
      if (options.jsonSchema) {
        try {
          result.json = parseJsonAnswer(completion.text, options.jsonSchema.schema, { endpoint: ep.display, finishReason: completion.finishReason });
        } catch (err) {
          (err as TeacherError).attempts = attempt;
          throw err;
        }
      }
      return result;
    }
    const gaveUp = new TeacherError(last!.kind, this.maxAttempts > 1 ? `${last!.message} (gave up after ${this.maxAttempts} attempts)` : last!.message, {
      endpoint: last!.endpoint,
      status: last!.status,
      attempts: this.maxAttempts,
      cause: last,
    });
    throw gaveUp;
  }

  /** Marks the endpoint down or cooling as the failure says; returns how long this request should wait itself. */
  private afterFailure(ep: Endpoint, err: TeacherError, attempt: number): number {
    if (err.kind === 'unreachable') {
      const forMs = this.pool.markDown(ep.pool, err.message);
      if (forMs > 0) this.emit({ type: 'endpoint-down', endpoint: ep.display, forMs, problem: err.message });
      return 0; // acquire() waits for an endpoint that is up
    }
    if (err.kind === 'rate-limited') {
      this.pool.coolDown(ep.pool, (err as RateLimitError).retryAfterMs ?? this.backoff(attempt));
      return 0; // acquire() waits out the cool-down unless another endpoint is free
    }
    return this.backoff(attempt);
  }

  async health(signal?: AbortSignal): Promise<TeacherHealth> {
    const endpoints = await Promise.all(this.endpoints.map((e) => this.endpointHealth(e, signal)));
    const good = endpoints.filter((e) => e.ok);
    const model = good[0]?.model ?? this.model ?? endpoints.find((e) => e.model)?.model ?? '';
    const sizes = good.map((e) => e.contextSize).filter((n): n is number => n !== undefined);
    const health: TeacherHealth = { ok: good.length > 0, model, endpoints };
    if (sizes.length) health.contextSize = Math.min(...sizes);
    const bad = endpoints.filter((e) => !e.ok).map((e) => e.problem!);
    if (good.length === 0) health.problem = bad.join('; ');
    else if (bad.length) health.warnings = bad.map((p) => `${p} (the other endpoints carry on)`);
    return health;
  }

  async dispose(): Promise<void> {
    if (!this.disposed.signal.aborted) this.disposed.abort(new TeacherError('request', 'the teacher was disposed'));
  }

  // ---- One endpoint ---------------------------------------------------------------------------------------------

  private async endpointHealth(ep: Endpoint, signal?: AbortSignal): Promise<EndpointHealth> {
    const started = this.clock.now();
    const report = (h: Omit<EndpointHealth, 'endpoint' | 'ms'>): EndpointHealth => ({ endpoint: ep.display, ...h, ms: this.clock.now() - started });
    let model: string | undefined;
    let contextSize: number | undefined;
    try {
      const list = await this.listModels(ep, signal, true);
      model = ep.model ?? this.model ?? list.models[0]?.id;
      if (!model) return report({ ok: false, problem: `${ep.display} lists no model at GET /models: load a model in the server, or name one with the teacher's model` });
      const entry = list.models.find((m) => m.id === model);
      if (list.models.length && !entry) {
        return report({ ok: false, model, problem: `${ep.display} does not serve the model "${model}"; it serves ${list.models.map((m) => `"${m.id}"`).join(', ')}` });
      }
      contextSize = entry?.contextSize ?? (entry?.ownedBy === 'llamacpp' ? await this.llamaCppContext(ep, signal) : undefined);
      await this.complete(ep, [{ role: 'user', content: 'Reply with the word OK.' }], { maxTokens: 8, temperature: 0, signal }, this.healthTimeoutMs);
      this.pool.succeeded(ep.pool);
      return report({ ok: true, model, ...(contextSize !== undefined ? { contextSize } : {}) });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      const e = err instanceof TeacherError ? err : this.redactor.error(err as Error);
      if (e instanceof TeacherError && e.kind === 'unreachable') this.pool.markDown(ep.pool, e.message);
      return report({ ok: false, ...(model ? { model } : {}), problem: e.message });
    }
  }

  /** llama.cpp's server tells its context size (-c) at GET /props, beside /v1. */
  private async llamaCppContext(ep: Endpoint, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const url = new URL(ep.display);
      url.pathname = url.pathname.replace(/\/v1$/, '') + '/props';
      const answer = await this.send(ep, url.toString(), 'GET', undefined, this.healthTimeoutMs, signal);
      if (answer.status !== 200) return undefined;
      const props = JSON.parse(answer.text) as { default_generation_settings?: { n_ctx?: unknown }; n_ctx?: unknown };
      return positiveInt(props.default_generation_settings?.n_ctx) ?? positiveInt(props.n_ctx);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      return undefined;
    }
  }

  private listModels(ep: Endpoint, signal: AbortSignal | undefined, fresh = false): Promise<ModelList> {
    if (!fresh && ep.listed) return ep.listed;
    const p = (async () => {
      const answer = await this.send(ep, `${ep.display}/models`, 'GET', undefined, this.healthTimeoutMs, signal);
      if (answer.status !== 200) throw this.httpError(ep, answer, 'GET /models');
      let body: { data?: unknown };
      try {
        body = JSON.parse(answer.text) as { data?: unknown };
      } catch {
        throw new TeacherError('bad-response', `${ep.display}/models did not answer with JSON: ${excerpt(this.redactor.apply(answer.text), 120)}`, { endpoint: ep.display });
      }
      const data = Array.isArray(body.data) ? body.data : [];
      const models: ModelEntry[] = [];
      for (const d of data) {
        if (!d || typeof d !== 'object' || typeof (d as { id?: unknown }).id !== 'string') continue;
        const o = d as Record<string, unknown>;
        const meta = (o.meta && typeof o.meta === 'object' ? o.meta : {}) as Record<string, unknown>;
        // vLLM: max_model_len; several hosted APIs: context_length; llama.cpp: meta.n_ctx_train (the training
        // context; /props has the server's own, preferred above).
        const contextSize = positiveInt(o.max_model_len) ?? positiveInt(o.context_length) ?? (o.owned_by === 'llamacpp' ? undefined : positiveInt(meta.n_ctx_train));
        models.push({ id: o.id as string, ...(contextSize ? { contextSize } : {}), ...(typeof o.owned_by === 'string' ? { ownedBy: o.owned_by } : {}) });
      }
      return { models };
    })();
    ep.listed = p;
    p.catch(() => {
      if (ep.listed === p) ep.listed = undefined;
    });
    return p;
  }

  private async modelFor(ep: Endpoint, signal?: AbortSignal): Promise<string> {
    const named = ep.model ?? this.model;
    if (named) return named;
    const list = await this.listModels(ep, signal);
    const first = list.models[0]?.id;
    if (!first) throw new TeacherError('model-not-found', `${ep.display} lists no model at GET /models: load a model in the server, or name one with the teacher's model`, { endpoint: ep.display });
    return first;
  }

  private async complete(ep: Endpoint, messages: readonly ChatMessage[], options: ChatOptions, timeoutMs: number): Promise<Completion> {
    const model = await this.modelFor(ep, options.signal);
    const body: Record<string, unknown> = {
      model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      max_tokens: options.maxTokens,
      temperature: options.temperature,
      stream: false,
    };
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.jsonSchema) {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: options.jsonSchema.name, schema: options.jsonSchema.schema, strict: options.jsonSchema.strict ?? true },
      };
    }
    const answer = await this.send(ep, `${ep.display}/chat/completions`, 'POST', JSON.stringify(body), timeoutMs, options.signal);
    if (answer.status !== 200) throw await this.completionError(ep, answer, model, options.signal);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      throw new TeacherError('bad-response', `${ep.display} answered /chat/completions with something that is not JSON: ${excerpt(this.redactor.apply(answer.text), 120)}`, { endpoint: ep.display, status: 200 });
    }
    const choice = Array.isArray(parsed.choices) ? (parsed.choices[0] as Record<string, unknown> | undefined) : undefined;
    const message = choice?.message as { content?: unknown } | undefined;
    if (!choice || !message || (typeof message.content !== 'string' && message.content !== null)) {
      throw new TeacherError('bad-response', `${ep.display} answered /chat/completions without choices[0].message.content: is it an OpenAI-compatible server?`, { endpoint: ep.display, status: 200 });
    }
    const usage = (parsed.usage && typeof parsed.usage === 'object' ? parsed.usage : {}) as Record<string, unknown>;
    return {
      text: typeof message.content === 'string' ? message.content : '',
      finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined,
      promptTokens: typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0,
      completionTokens: typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0,
    };
  }

  private async completionError(ep: Endpoint, answer: HttpAnswer, model: string, signal?: AbortSignal): Promise<TeacherError> {
    if (answer.status === 404) {
      const { message, code } = serverMessage(answer.text);
      if (code === 'model_not_found' || /model/i.test(message)) {
        let serves = '';
        try {
          const list = await this.listModels(ep, signal, true);
          if (list.models.length) serves = `; it serves ${list.models.map((m) => `"${m.id}"`).join(', ')}`;
        } catch {
          // the list is only a hint
        }
        return new TeacherError('model-not-found', `${ep.display} does not serve the model "${model}"${serves}`, { endpoint: ep.display, status: 404 });
      }
    }
    return this.httpError(ep, answer, 'POST /chat/completions');
  }

  private httpError(ep: Endpoint, answer: HttpAnswer, what: string): TeacherError {
    const { message, code } = serverMessage(answer.text);
    const said = message ? `: ${excerpt(this.redactor.apply(message))}` : '';
    const details = { endpoint: ep.display, status: answer.status };
    const s = answer.status;
    if (s === 401 || s === 403) {
      const fix = this.apiKeyEnv
        ? `check the key in the environment variable ${this.apiKeyEnv}`
        : "this server needs an API key: put it in an environment variable and give the variable's name to the teacher";
      return new TeacherError('unauthorized', `${ep.display} refused the request (HTTP ${s}${said}): ${fix}`, details);
    }
    if (s === 429) {
      const e = new TeacherError('rate-limited', `${ep.display} is rate limiting requests (HTTP 429${said}): lower the concurrency or wait`, details) as RateLimitError;
      e.retryAfterMs = retryAfterMs(answer.headers, Date.now());
      return e;
    }
    if (s >= 500) return new TeacherError('server', `${ep.display} failed on ${what} (HTTP ${s}${said})`, details);
    if (s === 404) {
      return new TeacherError('request', `${ep.display} has no ${what.split(' ')[1]} (HTTP 404): is it an OpenAI-compatible base URL? It usually ends in /v1`, details);
    }
    if (s === 400 && (/context_length|exceed_context/i.test(code ?? '') || (message && saysContextOverflow(message)))) {
      return new TeacherContextOverflowError(`${ep.display} rejected ${what}: the prompt does not fit its context (HTTP 400${said})`, undefined, undefined, undefined, details);
    }
    return new TeacherError('request', `${ep.display} rejected ${what} (HTTP ${s}${said})`, details);
  }

  /** One HTTP exchange with a timeout; network failures and timeouts become TeacherErrors, the caller's abort its reason. */
  private async send(ep: Endpoint, url: string, method: 'GET' | 'POST', body: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = this.anySignal(signal, timeout);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    else if (ep.basicAuth) headers.authorization = ep.basicAuth;
    try {
      const res = await this.fetchFn(url, { method, headers, body, signal: combined });
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      this.checkDisposed();
      if (timeout.aborted) {
        throw new TeacherError('timeout', `${ep.display} did not answer within ${formatSeconds(timeoutMs)}: the server may be overloaded; lower the concurrency or raise the timeout`, {
          endpoint: ep.display,
        });
      }
      throw this.networkError(ep, err);
    }
  }

  private networkError(ep: Endpoint, err: unknown): TeacherError {
    const code = errorCode(err);
    const host = new URL(ep.display).host;
    let kind: TeacherErrorKind = 'unreachable';
    let message: string;
    if (code === 'ECONNREFUSED') message = `no server at ${ep.display}: start it or check --teacher`;
    else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') message = `cannot resolve the host ${host} of ${ep.display}: check --teacher`;
    else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') message = `cannot reach ${ep.display} (${code}): check the network and --teacher`;
    else if (code && networkCodes.has(code)) message = `${ep.display} closed the connection before answering (${code})`;
    else {
      kind = 'bad-response';
      message = `request to ${ep.display} failed: ${this.redactor.apply(err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err))}`;
    }
    return new TeacherError(kind, message, { endpoint: ep.display, cause: code ? undefined : err });
  }

  // ---- Helpers ---------------------------------------------------------------------------------------------------

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    // "Equal jitter": at least half the exponential step, so retries spread out but never bunch up at zero.
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  private anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
    const list = [this.disposed.signal, ...signals.filter((s): s is AbortSignal => s !== undefined)];
    return list.length === 1 ? list[0] : AbortSignal.any(list);
  }

  private checkDisposed(): void {
    if (this.disposed.signal.aborted) throw new TeacherError('request', `the teacher at ${this.description} was disposed`);
  }

  private emit(event: RemoteTeacherEvent): void {
    if (!this.onEvent) return;
    const safe = { ...event } as RemoteTeacherEvent & { problem?: string };
    if (safe.problem !== undefined) safe.problem = this.redactor.apply(safe.problem);
    try {
      this.onEvent(safe);
    } catch {
      // a listener's failure is not the request's
    }
  }
}

interface RateLimitError extends TeacherError {
  retryAfterMs?: number;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
