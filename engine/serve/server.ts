// The HTTP side of the model server: node:http with OpenAI's routes, SSE streaming with backpressure, API-key checks,
// and a shutdown that stops accepting, aborts what is in flight and frees the model.
//
//   GET  /health                 {status, models: [{id, contextSize, parallel, busy, queued}]}
//   GET  /v1/models[/<id>]        each model with `provenance` when its file records what produced it
//   POST /v1/chat/completions    messages through the model's chat template
//   POST /v1/completions         a raw prompt
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  chatChunk,
  chatCompletion,
  completionId,
  parseChatRequest,
  parseCompletionRequest,
  textCompletion,
  usageChunk,
  usageOf,
  type ChatRequest,
  type CompletionRequest,
  type ResponseMeta,
} from './api';
import { ApiError, ServeError } from './errors';
import { ModelHost, type ModelHostOptions, type Prompt } from './modelHost';
import { servedProvenance } from './provenance';
import type { Provenance } from '../provenance/record';

export interface ServeOptions extends ModelHostOptions {
  /** Default 127.0.0.1. Any address other than loopback needs apiKey. */
  host?: string;
  /** Default 8000; 0 lets the system pick. A port in use moves to the next free one (see onPortMoved). */
  port?: number;
  /** Clients must send `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Ports tried after a busy one (default 20). */
  portAttempts?: number;
  /** Largest request body accepted (default 16 MiB). */
  maxBodyBytes?: number;
}

export interface RunningServer {
  /** Base URL of the API, e.g. http://127.0.0.1:8000/v1. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly models: ModelHost;
  /** Stops accepting, aborts requests in flight, frees the model; safe to call twice. */
  close(): Promise<void>;
}

const loopback = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return loopback.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Loads the model and listens. Rejects with ServeError when it cannot (model, adapters, address). */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.apiKey) {
    throw new ServeError(`binding ${host} makes the model reachable from other machines; give an API key (--api-key-env VAR, with the key in $VAR) or bind 127.0.0.1`);
  }
  const models = await ModelHost.open(options);
  // Never rejects: a file without a readable record is served without one.
  const provenance = await servedProvenance({ id: models.ids[0], path: options.modelPath }, options.adapters ?? [], options.log);
  const api = new ApiHandler(models, options, provenance);
  const server = createServer((req, res) => void api.handle(req, res));
  server.keepAliveTimeout = 5_000;
  let port: number;
  try {
    port = await listen(server, host, options.port ?? 8000, options.portAttempts ?? 20, options.log);
  } catch (err) {
    await models.dispose();
    throw err;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}/v1`,
    host,
    port,
    models,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await api.abortAll();
        server.closeAllConnections();
        await stopped;
        await models.dispose();
      })();
      return closing;
    },
  };
}

async function listen(server: Server, host: string, first: number, attempts: number, log?: (line: string) => void): Promise<number> {
  for (let port = first, tried = 0; ; port++, tried++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      if (port !== first) log?.(`port ${first} is in use; listening on ${bound} instead`);
      return bound;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && first !== 0 && tried < attempts && port < 65535) continue;
      if (code === 'EADDRINUSE') throw new ServeError(`ports ${first} to ${port} are in use; pick another with --port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ServeError(`cannot bind ${host}: no such address on this machine (--host)`);
      if (code === 'EACCES') throw new ServeError(`not allowed to bind ${host}:${port}; use a port above 1023 (--port)`);
      throw err;
    }
  }
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

class ApiHandler {
  private readonly inFlight = new Set<InFlight>();
  private shuttingDown = false;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly key?: Buffer;

  constructor(
    private readonly models: ModelHost,
    private readonly options: ServeOptions,
    private readonly provenance: ReadonlyMap<string, Provenance> = new Map(),
  ) {
    if (options.apiKey) this.key = Buffer.from(options.apiKey);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    // 'close' on the response before it ended: the client went away (or the server is shutting down).
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client disconnected'));
    });
    let finish!: () => void;
    const entry: InFlight = { controller, done: new Promise((r) => (finish = r)) };
    this.inFlight.add(entry);
    try {
      await this.route(req, res, controller.signal);
    } catch (err) {
      this.fail(res, err);
    } finally {
      this.inFlight.delete(entry);
      finish();
    }
  }

  async abortAll(): Promise<void> {
    this.shuttingDown = true;
    const all = [...this.inFlight];
    for (const f of all) f.controller.abort(new ApiError(503, 'server_error', 'the server is shutting down', 'server_shutting_down'));
    await Promise.all(all.map((f) => f.done));
  }

  private async route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    if (path === '/health') {
      allow(req, ['GET', 'HEAD']);
      return json(res, 200, { status: this.shuttingDown ? 'shutting_down' : 'ok', models: this.models.info() });
    }
    if (!path.startsWith('/v1/')) throw new ApiError(404, 'not_found_error', `no route ${req.method} ${path}; the API is under /v1 (GET /v1/models, POST /v1/chat/completions, POST /v1/completions)`, 'not_found');
    this.authorize(req);
    if (this.shuttingDown) throw new ApiError(503, 'server_error', 'the server is shutting down', 'server_shutting_down');
    if (path === '/v1/models') {
      allow(req, ['GET']);
      return json(res, 200, { object: 'list', data: this.models.ids.map((id) => this.modelObject(id)) });
    }
    if (path.startsWith('/v1/models/')) {
      allow(req, ['GET']);
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (!this.models.ids.includes(id)) throw new ApiError(404, 'not_found_error', `The model '${id}' does not exist`, 'model_not_found', 'model');
      return json(res, 200, this.modelObject(id));
    }
    if (path === '/v1/chat/completions') {
      allow(req, ['POST']);
      const request = parseChatRequest(await this.readJson(req));
      return this.complete(res, 'chat', request, { kind: 'chat', messages: request.messages }, signal);
    }
    if (path === '/v1/completions') {
      allow(req, ['POST']);
      const request = parseCompletionRequest(await this.readJson(req));
      return this.complete(res, 'text', request, { kind: 'text', text: request.prompt }, signal);
    }
    throw new ApiError(404, 'not_found_error', `no route ${req.method} ${path} (GET /v1/models, POST /v1/chat/completions, POST /v1/completions)`, 'not_found');
  }

  private modelObject(id: string) {
    const provenance = this.provenance.get(id);
    return { id, object: 'model', created: this.created, owned_by: 'taxonomy-studio', ...(provenance ? { provenance } : {}) };
  }

  private authorize(req: IncomingMessage): void {
    if (!this.key) return;
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const ok = given !== undefined && Buffer.byteLength(given) === this.key.length && timingSafeEqual(Buffer.from(given), this.key);
    if (!ok) {
      throw new ApiError(401, 'authentication_error', given === undefined ? 'This server needs an API key: send Authorization: Bearer <key>' : 'Incorrect API key provided', 'invalid_api_key');
    }
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const limit = this.options.maxBodyBytes ?? 16 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new ApiError(413, 'invalid_request_error', `the request body is larger than ${limit} bytes`, 'request_too_large');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, 'invalid_request_error', `We could not parse the JSON body of your request: ${(err as Error).message}. Send a JSON object with Content-Type: application/json.`, 'invalid_json');
    }
  }

  private async complete(res: ServerResponse, kind: 'chat' | 'text', request: ChatRequest | CompletionRequest, prompt: Prompt, signal: AbortSignal): Promise<void> {
    const meta: ResponseMeta = { id: completionId(kind), created: Math.floor(Date.now() / 1000), model: request.model };
    if (!request.stream) {
      const result = await this.models.generate(request.model, prompt, request.sampling, { signal });
      if (result.aborted) return this.abortedResponse(res, signal);
      const usage = usageOf(result.promptTokens, result.completionTokens);
      return json(res, 200, kind === 'chat' ? chatCompletion(meta, result.text, result.finishReason, usage) : textCompletion(meta, result.text, result.finishReason, usage));
    }

    const chunk = kind === 'chat' ? (text: string) => chatChunk(meta, { content: text }, null) : (text: string) => textCompletion(meta, text, null);
    const result = await this.models.generate(request.model, prompt, request.sampling, {
      signal,
      onStart: () => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        if (kind === 'chat') void sse(res, chatChunk(meta, { role: 'assistant', content: '' }, null));
      },
      onText: (text) => sse(res, chunk(text)),
    });
    if (result.aborted) return this.abortedResponse(res, signal);
    await sse(res, kind === 'chat' ? chatChunk(meta, {}, result.finishReason) : textCompletion(meta, '', result.finishReason));
    if (request.includeUsage) await sse(res, usageChunk(meta, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', usageOf(result.promptTokens, result.completionTokens)));
    res.end('data: [DONE]\n\n');
  }

  /** Generation stopped early: a client that left gets nothing; one still there (shutdown) gets the reason. */
  private abortedResponse(res: ServerResponse, signal: AbortSignal): void {
    if (res.destroyed) return;
    this.fail(res, signal.reason instanceof ApiError ? signal.reason : new ApiError(503, 'server_error', 'generation was stopped', 'aborted'));
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.destroyed || res.writableEnded) return;
    const apiError = err instanceof ApiError ? err : new ApiError(500, 'server_error', `internal error: ${(err as Error)?.message ?? String(err)}`, 'internal_error');
    if (!(err instanceof ApiError)) this.options.log?.(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    if (res.headersSent) {
      // Mid-stream: OpenAI clients raise an error for a data line with an `error` field.
      res.end(`data: ${JSON.stringify(apiError.body())}\n\n`);
      return;
    }
    json(res, apiError.status, apiError.body());
  }
}

function allow(req: IncomingMessage, methods: string[]): void {
  if (!methods.includes(req.method ?? '')) {
    throw new ApiError(405, 'invalid_request_error', `${req.method} is not allowed here; use ${methods.join(' or ')}`, 'method_not_allowed');
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes one server-sent event; waits while the client reads slowly (the socket buffer is full). */
function sse(res: ServerResponse, data: unknown): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  if (res.write(`data: ${JSON.stringify(data)}\n\n`)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
