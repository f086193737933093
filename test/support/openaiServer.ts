// A real OpenAI-compatible HTTP server on 127.0.0.1 (an OS-chosen port) for tests: GET /v1/models, POST
// /v1/chat/completions (plain JSON, or SSE when `stream: true`), and llama.cpp's GET /props when asked. Answers come
// from a handler the test gives, so they are deterministic; faults (delays, hangs, 5xx, 429 with Retry-After, a
// dropped connection, a body that is not JSON) are queued for the next requests or chosen by a rule; every request is
// counted and recorded. Child processes (the CLI under test) can talk to it as to any server.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ChatRequestMessage {
  role: string;
  content: string;
}

export interface ChatRequest {
  /** 0-based over the chat requests this server received. */
  index: number;
  body: Record<string, unknown>;
  model: string;
  messages: ChatRequestMessage[];
  stream: boolean;
  /** The request's response_format, as sent. */
  responseFormat?: unknown;
  headers: IncomingHttpHeaders;
  /** Aborted when the client goes away (timeouts, cancelled requests). */
  signal: AbortSignal;
}

export interface ChatReply {
  content: string;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
}

export type ChatHandler = (request: ChatRequest) => string | ChatReply | Promise<string | ChatReply>;

export type Fault =
  /** Answer normally, after `ms`. */
  | { type: 'delay'; ms: number }
  /** Never answer; the request ends when the client gives up or the server closes. */
  | { type: 'hang' }
  /** Answer with this status (and body, JSON-encoded unless a string). */
  | { type: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** 429 with Retry-After (seconds or an HTTP date) when given. */
  | { type: 'rate-limit'; retryAfter?: number | string; retryAfterMs?: number }
  /** Drop the connection without answering. */
  | { type: 'close' }
  /** 200 with a body that is not JSON. */
  | { type: 'invalid-json' };

export interface FaultContext {
  path: string;
  method: string;
  /** 0-based index among chat requests (undefined for other paths). */
  chatIndex?: number;
  /** 0-based index among all requests. */
  index: number;
}

export interface ModelSpec {
  id: string;
  /** Shown as vLLM does (max_model_len) unless `ownedBy` is 'llamacpp' (then meta.n_ctx_train). */
  contextSize?: number;
  ownedBy?: string;
}

export interface OpenAIServerOptions {
  models?: ModelSpec[];
  handler?: ChatHandler;
  /** When set, every request needs `Authorization: Bearer <apiKey>` (401 otherwise, as OpenAI answers). */
  apiKey?: string;
  /** Unknown model names get 404 model_not_found (as OpenAI and vLLM do); default true. */
  strictModel?: boolean;
  /** Serve llama.cpp's GET /props with this context size. */
  llamaCppContext?: number;
  /** Picks a fault for any request (applied when no queued fault is pending for it). */
  faultRule?: (context: FaultContext) => Fault | undefined;
}

export interface RecordedRequest {
  index: number;
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
  fault?: Fault['type'];
}

export interface OpenAIServer {
  /** Base URL clients use: http://127.0.0.1:<port>/v1 */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly counts: { total: number; models: number; chat: number; props: number };
  readonly requests: RecordedRequest[];
  /** Chat requests being answered now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  handler: ChatHandler;
  /** Faults for the next chat requests, one each, in order. */
  failNext(...faults: Fault[]): void;
  /** Resolves once `n` chat requests are in flight at once (no sleeping: it waits for the requests themselves). */
  waitForInFlight(n: number): Promise<void>;
  close(): Promise<void>;
}

export const defaultModel = 'test-teacher';

/** Words, as a stand-in for tokens. */
export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

const echoHandler: ChatHandler = (r) => {
  const lastUser = [...r.messages].reverse().find((m) => m.role === 'user');
  return `echo: ${lastUser?.content ?? ''}`;
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function openAiError(message: string, type: string, code: string | null): unknown {
  return { error: { message, type, param: null, code } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits content into SSE delta pieces: each word with the whitespace before it. */
function pieces(content: string): string[] {
  return content.match(/\s*\S+|\s+$/g) ?? (content ? [content] : []);
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const models = options.models ?? [{ id: defaultModel }];
  const strictModel = options.strictModel ?? true;
  const queued: Fault[] = [];
  const sockets = new Set<Socket>();
  const inFlightWaiters: { n: number; resolve: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let requestIndex = 0;
  let chatIndex = 0;
  const counts = { total: 0, models: 0, chat: 0, props: 0 };
  const requests: RecordedRequest[] = [];

  const state = {
    handler: options.handler ?? echoHandler,
  };

  const checkWaiters = () => {
    for (let i = inFlightWaiters.length - 1; i >= 0; i--) {
      if (inFlight >= inFlightWaiters[i].n) {
        inFlightWaiters[i].resolve();
        inFlightWaiters.splice(i, 1);
      }
    }
  };

  /** Applies a fault; returns true when the request is finished (answered, dropped, or left hanging). */
  async function applyFault(fault: Fault | undefined, req: IncomingMessage, res: ServerResponse, gone: AbortSignal): Promise<boolean> {
    if (!fault) return false;
    switch (fault.type) {
      case 'delay':
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, fault.ms);
          gone.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
        return gone.aborted;
      case 'hang':
        await new Promise<void>((resolve) => gone.addEventListener('abort', () => resolve()));
        return true;
      case 'status':
        sendJson(res, fault.status, fault.body ?? openAiError(`injected HTTP ${fault.status}`, 'server_error', null), fault.headers);
        return true;
      case 'rate-limit': {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        sendJson(res, 429, openAiError('Rate limit reached, slow down', 'rate_limit_error', 'rate_limit_exceeded'), headers);
        return true;
      }
      case 'close':
        req.socket.destroy();
        return true;
      case 'invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "chatcmpl-broken", "choices": [ {"message": ');
        return true;
    }
  }

  async function chat(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, gone: AbortSignal, index: number): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJson(res, 400, openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      return;
    }
    record.body = body;
    const model = typeof body.model === 'string' ? body.model : '';
    if (strictModel && !models.some((m) => m.id === model)) {
      sendJson(res, 404, openAiError(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'));
      return;
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      sendJson(res, 400, openAiError("'messages' must be a non-empty array", 'invalid_request_error', null));
      return;
    }
    const messages = (body.messages as Record<string, unknown>[]).map((m) => ({ role: String(m.role), content: typeof m.content === 'string' ? m.content : '' }));
    const stream = body.stream === true;
    let reply: ChatReply;
    try {
      const r = await state.handler({ index, body, model, messages, stream, responseFormat: body.response_format, headers: req.headers, signal: gone });
      reply = typeof r === 'string' ? { content: r } : r;
    } catch (err) {
      if (!gone.aborted) sendJson(res, 500, openAiError(`handler failed: ${(err as Error).message}`, 'server_error', null));
      return;
    }
    if (gone.aborted) return;
    const promptTokens = reply.promptTokens ?? messages.reduce((n, m) => n + countTokens(m.content), 0);
    const completionTokens = reply.completionTokens ?? countTokens(reply.content);
    const finishReason = reply.finishReason ?? 'stop';
    const id = `chatcmpl-${index}`;
    const created = 1_700_000_000 + index;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    if (!stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: finishReason }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const p of pieces(reply.content)) {
      if (gone.aborted) return;
      res.write(chunk({ content: p }, null));
    }
    res.write(chunk({}, finishReason));
    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
    if (streamOptions?.include_usage === true) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  const server = createServer((req, res) => {
    const index = requestIndex++;
    counts.total++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { index, method, path };
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    requests.push(record);
    const goneController = new AbortController();
    res.on('close', () => goneController.abort());
    const isChat = method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions');
    const thisChat = isChat ? chatIndex++ : undefined;

    void (async () => {
      let counted = false;
      try {
        if (isChat) {
          counts.chat++;
          inFlight++;
          counted = true;
          maxInFlight = Math.max(maxInFlight, inFlight);
          checkWaiters();
        } else if (path === '/v1/models' || path === '/models') counts.models++;
        else if (path === '/props') counts.props++;

        if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
          const given = req.headers.authorization ? 'Incorrect API key provided.' : "You didn't provide an API key.";
          sendJson(res, 401, openAiError(given, 'invalid_request_error', 'invalid_api_key'));
          return;
        }
        const fault = isChat && queued.length ? queued.shift() : options.faultRule?.({ path, method, chatIndex: thisChat, index });
        if (fault) record.fault = fault.type;
        if (await applyFault(fault, req, res, goneController.signal)) return;

        if (isChat) return await chat(req, res, record, goneController.signal, thisChat!);
        if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
          sendJson(res, 200, {
            object: 'list',
            data: models.map((m) => {
              const entry: Record<string, unknown> = { id: m.id, object: 'model', created: 1_700_000_000, owned_by: m.ownedBy ?? 'test-server' };
              if (m.contextSize !== undefined) {
                if (m.ownedBy === 'llamacpp') entry.meta = { n_ctx_train: m.contextSize };
                else entry.max_model_len = m.contextSize;
              }
              return entry;
            }),
          });
          return;
        }
        if (method === 'GET' && path === '/props' && options.llamaCppContext !== undefined) {
          sendJson(res, 200, { default_generation_settings: { n_ctx: options.llamaCppContext }, total_slots: 1 });
          return;
        }
        sendJson(res, 404, openAiError(`Unknown request URL: ${method} ${path}`, 'invalid_request_error', 'unknown_url'));
      } catch (err) {
        if (!res.headersSent && !goneController.signal.aborted) sendJson(res, 500, openAiError(String(err), 'server_error', null));
      } finally {
        if (counted) inFlight--;
      }
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    port,
    counts,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get handler() {
      return state.handler;
    },
    set handler(h: ChatHandler) {
      state.handler = h;
    },
    failNext(...faults: Fault[]) {
      queued.push(...faults);
    },
    waitForInFlight(n: number) {
      if (inFlight >= n) return Promise.resolve();
      return new Promise<void>((resolve) => inFlightWaiters.push({ n, resolve }));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Reads an SSE chat stream into its content, finish reason and usage (for tests of streaming servers). */
export async function readChatStream(res: Response): Promise<{ content: string; finishReason?: string; usage?: Record<string, number>; chunks: number; done: boolean }> {
  const text = await res.text();
  let content = '';
  let finishReason: string | undefined;
  let usage: Record<string, number> | undefined;
  let chunks = 0;
  let done = false;
  for (const event of text.split('\n\n')) {
    const line = event.trim();
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    chunks++;
    const obj = JSON.parse(data) as { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: Record<string, number> };
    for (const c of obj.choices) {
      if (c.delta.content) content += c.delta.content;
      if (c.finish_reason) finishReason = c.finish_reason;
    }
    if (obj.usage) usage = obj.usage;
  }
  return { content, finishReason, usage, chunks, done };
}
