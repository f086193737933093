// HTTP to an OpenAI-compatible endpoint with Node's fetch: the model list and a streamed chat completion. Errors
// say which endpoint and what to do; "unreachable" is told apart so the panel can offer to restart the server.
import { parseProvenance, type Provenance } from '../../engine/provenance/record';
import { parseChatStreamData, SseParser, StreamProtocolError, type Usage } from './sse';

export interface Endpoint {
  /** Base URL with the version, e.g. http://127.0.0.1:8000/v1. */
  url: string;
  /** Sent as a bearer token; from SecretStorage, never from settings. */
  apiKey?: string;
}

export type ChatErrorKind = 'unreachable' | 'http' | 'protocol' | 'aborted';

export class ChatRequestError extends Error {
  constructor(
    message: string,
    readonly kind: ChatErrorKind,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChatRequestError';
  }
}

export interface ChatResult {
  text: string;
  finishReason?: string;
  usage?: Usage;
}

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

function headers(endpoint: Endpoint, json: boolean): Record<string, string> {
  return {
    accept: json ? 'application/json' : 'text/event-stream',
    ...(json ? {} : { 'content-type': 'application/json' }),
    ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
  };
}

/** fetch's own failure ("fetch failed" with a cause) in words, by the socket error's code. */
function unreachable(endpoint: Endpoint, err: unknown): ChatRequestError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused: nothing listens there (is the server running?)',
    ECONNRESET: 'the connection was reset: the server stopped or crashed',
    ENOTFOUND: 'no such host',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'the connection timed out',
    UND_ERR_SOCKET: 'the server closed the connection: it stopped or crashed',
  };
  return new ChatRequestError(`cannot reach ${endpoint.url}: ${why[code] ?? cause?.message ?? (err as Error).message}`, 'unreachable');
}

/** The error message an OpenAI-shaped error body carries, else the start of the body. */
async function httpError(endpoint: Endpoint, res: Response, what: string): Promise<ChatRequestError> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 200);
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    message = (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.message ?? message;
  } catch {
    // not JSON: the text itself
  }
  const hint = res.status === 401 ? ' (set the endpoint\'s API key: "Taxonomy Studio: Set Chat Endpoint API Key")' : res.status === 404 ? ' (is the model id right? the model list shows what the server has)' : '';
  return new ChatRequestError(`${what} at ${endpoint.url}: HTTP ${res.status}${message ? `: ${message}` : ''}${hint}`, 'http', res.status);
}

async function request(endpoint: Endpoint, path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(join(endpoint.url, path), { ...init, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw new ChatRequestError('stopped', 'aborted');
    throw unreachable(endpoint, err);
  }
}

/** A model an endpoint lists: its id and, from a taxonomy-studio server, what produced it. */
export interface ListedModel {
  id: string;
  provenance?: Provenance;
}

/** GET /models: the models the endpoint serves, with the `provenance` field our server adds when it is a valid record. */
export async function listModelEntries(endpoint: Endpoint, signal?: AbortSignal): Promise<ListedModel[]> {
  const res = await request(endpoint, 'models', { headers: headers(endpoint, true) }, signal);
  if (!res.ok) throw await httpError(endpoint, res, 'listing models');
  let body: { data?: { id?: unknown; provenance?: unknown }[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ChatRequestError(`listing models at ${endpoint.url}: the answer is not JSON (is this an OpenAI-compatible /v1 URL?)`, 'protocol');
  }
  if (!Array.isArray(body.data)) throw new ChatRequestError(`listing models at ${endpoint.url}: no "data" list in the answer (is this an OpenAI-compatible /v1 URL?)`, 'protocol');
  const out: ListedModel[] = [];
  for (const m of body.data) {
    if (typeof m?.id !== 'string') continue;
    let provenance: Provenance | undefined;
    try {
      // Another server's field of the same name, or a damaged record, is not shown rather than shown wrong.
      provenance = m.provenance === undefined ? undefined : parseProvenance(m.provenance, `${endpoint.url} model ${m.id}`);
    } catch {
      provenance = undefined;
    }
    out.push({ id: m.id, ...(provenance ? { provenance } : {}) });
  }
  return out;
}

/** GET /models: the ids the endpoint serves. */
export async function listModels(endpoint: Endpoint, signal?: AbortSignal): Promise<string[]> {
  return (await listModelEntries(endpoint, signal)).map((m) => m.id);
}

/**
 * POST /chat/completions with `stream: true`, calling `onDelta` with each piece of text as it arrives. Resolves with
 * the whole text; rejects with ChatRequestError ('aborted' once `signal` aborts, with the text so far kept by the
 * caller through onDelta).
 */
export async function streamChat(endpoint: Endpoint, body: Record<string, unknown>, options: { signal?: AbortSignal; onDelta?: (text: string) => void } = {}): Promise<ChatResult> {
  const { signal, onDelta } = options;
  const res = await request(endpoint, 'chat/completions', { method: 'POST', headers: headers(endpoint, false), body: JSON.stringify({ ...body, stream: true }) }, signal);
  if (!res.ok) throw await httpError(endpoint, res, `model ${String(body.model)}`);
  if (!res.body) throw new ChatRequestError(`model ${String(body.model)} at ${endpoint.url}: the answer has no body`, 'protocol');
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const result: ChatResult = { text: '' };
  let done = false;
  const reader = res.body.getReader();
  try {
    while (!done) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw new ChatRequestError('stopped', 'aborted');
        throw unreachable(endpoint, err);
      }
      const text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      for (const event of [...parser.push(text), ...(chunk.done ? parser.end() : [])]) {
        let part;
        try {
          part = parseChatStreamData(event.data);
        } catch (err) {
          if (err instanceof StreamProtocolError) throw new ChatRequestError(`model ${String(body.model)} at ${endpoint.url}: ${err.message}`, 'protocol');
          throw err;
        }
        if (part.type === 'done') done = true;
        else if (part.type === 'error') throw new ChatRequestError(`model ${String(body.model)} at ${endpoint.url}: ${part.message}`, 'http');
        else {
          if (part.delta) {
            result.text += part.delta;
            onDelta?.(part.delta);
          }
          if (part.finishReason) result.finishReason = part.finishReason;
          if (part.usage) result.usage = part.usage;
        }
      }
      if (chunk.done) break;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
  // A stream cut before [DONE] and before any finish reason: the server went away mid-answer.
  if (!done && result.finishReason === undefined) throw new ChatRequestError(`model ${String(body.model)} at ${endpoint.url}: the stream ended before the answer did (the server stopped?)`, 'unreachable');
  return result;
}
