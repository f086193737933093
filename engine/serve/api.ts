// The OpenAI API's request bodies, checked, and its response objects. Checking names the offending field (`param`)
// the way OpenAI does, so a client shows a useful 400. Fields this server cannot honour are refused rather than
// silently ignored, except those that change nothing here (user, store, metadata, ...).
import { randomUUID } from 'node:crypto';
import { invalidParam } from './errors';

export interface SamplingParams {
  /** 0 picks the most likely token (greedy). OpenAI's default is 1. */
  temperature: number;
  topP: number;
  /** 0: the whole vocabulary (OpenAI has no top_k; llama.cpp and vLLM servers accept it). */
  topK: number;
  minP: number;
  seed?: number;
  /** Tokens to generate at most; undefined: until the context is full. */
  maxTokens?: number;
  stop: string[];
  /** Never end on an end-of-generation token (vLLM's and llama.cpp's ignore_eos). */
  ignoreEos: boolean;
  /** Token id → bias added to its logit; -100 bans the token (OpenAI's logit_bias). */
  logitBias: Map<number, number>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface Common {
  model: string;
  stream: boolean;
  /** stream_options.include_usage: a last chunk with the usage and no choices. */
  includeUsage: boolean;
  sampling: SamplingParams;
}

export interface ChatRequest extends Common {
  messages: ChatMessage[];
}

export interface CompletionRequest extends Common {
  prompt: string;
}

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

type Body = Record<string, unknown>;

export function parseChatRequest(body: unknown): ChatRequest {
  const b = object(body);
  const raw = b.messages;
  if (!Array.isArray(raw) || raw.length === 0) throw invalidParam('messages', "'messages' must be a non-empty array of {role, content}", raw === undefined ? 'missing_required_parameter' : 'invalid_type');
  const messages = raw.map((m, i) => chatMessage(m, i));
  refuse(b, ['tools', 'functions', 'tool_choice', 'function_call', 'audio', 'prediction']);
  const format = b.response_format as Body | undefined;
  if (format !== undefined && (typeof format !== 'object' || format === null || format.type !== 'text')) {
    throw invalidParam('response_format', "response_format other than {type: 'text'} is not supported by this server", 'unsupported_parameter');
  }
  return { ...common(b, 'max_completion_tokens'), messages };
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = object(body);
  let prompt = b.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') prompt = prompt[0];
  if (typeof prompt !== 'string') {
    throw invalidParam('prompt', "'prompt' must be a string (one prompt per request on this server)", prompt === undefined ? 'missing_required_parameter' : 'invalid_type');
  }
  refuse(b, ['suffix']);
  if (b.echo === true) throw invalidParam('echo', 'echo is not supported by this server', 'unsupported_parameter');
  return { ...common(b), prompt };
}

function common(b: Body, maxTokensAlias?: string): Common {
  const model = b.model;
  if (typeof model !== 'string' || model === '') throw invalidParam('model', "'model' must be the id of a served model (GET /v1/models lists them)", model === undefined ? 'missing_required_parameter' : 'invalid_type');
  const n = optionalNumber(b, 'n', 1, 128, true);
  if (n !== undefined && n !== 1) throw invalidParam('n', 'n must be 1 on this server: send one request per completion', 'unsupported_parameter');
  refuse(b, ['logprobs', 'top_logprobs'], (v) => v !== false && v !== null && v !== 0);
  for (const p of ['presence_penalty', 'frequency_penalty']) {
    const v = optionalNumber(b, p, -2, 2);
    if (v !== undefined && v !== 0) throw invalidParam(p, `${p} is not supported by this server; leave it at 0`, 'unsupported_parameter');
  }
  const streamOptions = b.stream_options as Body | undefined | null;
  const maxTokens = optionalNumber(b, 'max_tokens', 1, Number.MAX_SAFE_INTEGER, true) ?? (maxTokensAlias ? optionalNumber(b, maxTokensAlias, 1, Number.MAX_SAFE_INTEGER, true) : undefined);
  const seed = optionalNumber(b, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  return {
    model,
    stream: optionalBoolean(b, 'stream') ?? false,
    includeUsage: streamOptions != null && typeof streamOptions === 'object' && streamOptions.include_usage === true,
    sampling: {
      temperature: optionalNumber(b, 'temperature', 0, 2) ?? 1,
      topP: optionalNumber(b, 'top_p', 0, 1) ?? 1,
      topK: optionalNumber(b, 'top_k', 0, Number.MAX_SAFE_INTEGER, true) ?? 0,
      minP: optionalNumber(b, 'min_p', 0, 1) ?? 0,
      // llama.cpp takes an unsigned 32-bit seed.
      ...(seed === undefined ? {} : { seed: seed >>> 0 }),
      ...(maxTokens === undefined ? {} : { maxTokens }),
      stop: stopSequences(b.stop),
      ignoreEos: optionalBoolean(b, 'ignore_eos') ?? false,
      logitBias: logitBias(b.logit_bias),
    },
  };
}

function chatMessage(m: unknown, i: number): ChatMessage {
  const param = `messages[${i}]`;
  if (typeof m !== 'object' || m === null) throw invalidParam(param, `${param} must be an object {role, content}`, 'invalid_type');
  const { role, content } = m as Body;
  const r = role === 'developer' ? 'system' : role;
  if (r !== 'system' && r !== 'user' && r !== 'assistant') {
    throw invalidParam(`${param}.role`, `${param}.role ${JSON.stringify(role)} is not supported: use system, developer, user or assistant (tools are not supported by this server)`);
  }
  if (typeof content === 'string') return { role: r, content };
  if (content === null && r === 'assistant') return { role: r, content: '' };
  if (Array.isArray(content)) {
    const texts = content.map((part, j) => {
      const p = part as Body;
      if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
        throw invalidParam(`${param}.content[${j}]`, `${param}.content[${j}] must be a text part {type: 'text', text}; this server reads text only`);
      }
      return p.text;
    });
    return { role: r, content: texts.join('') };
  }
  throw invalidParam(`${param}.content`, `${param}.content must be a string or an array of text parts`, 'invalid_type');
}

function stopSequences(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v) && v.length <= 16 && v.every((s) => typeof s === 'string')) return (v as string[]).filter((s) => s !== '');
  throw invalidParam('stop', "'stop' must be a string or an array of at most 16 strings", 'invalid_type');
}

function logitBias(v: unknown): Map<number, number> {
  const out = new Map<number, number>();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParam('logit_bias', "'logit_bias' must be an object of token id → bias from -100 to 100", 'invalid_type');
  for (const [k, bias] of Object.entries(v as Body)) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(id)) throw invalidParam('logit_bias', `logit_bias key ${JSON.stringify(k)} is not a token id`);
    if (typeof bias !== 'number' || !(bias >= -100 && bias <= 100)) throw invalidParam('logit_bias', `logit_bias[${k}] must be a number from -100 to 100`);
    out.set(id, bias);
  }
  return out;
}

function object(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidParam('body', 'the request body must be a JSON object', 'invalid_type');
  return body as Body;
}

function refuse(b: Body, params: string[], present: (v: unknown) => boolean = (v) => v !== undefined && v !== null) {
  for (const p of params) if (present(b[p]) && b[p] !== undefined) throw invalidParam(p, `${p} is not supported by this server`, 'unsupported_parameter');
}

function optionalNumber(b: Body, key: string, min: number, max: number, integer = false): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw invalidParam(key, `'${key}' must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalBoolean(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidParam(key, `'${key}' must be true or false`, 'invalid_type');
  return v;
}

// Response objects, as OpenAI's API returns them.

export function completionId(kind: 'chat' | 'text'): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`;
}

export function usageOf(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(meta: ResponseMeta, content: string, finish: FinishReason, usage: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish }],
    usage,
  };
}

export function chatChunk(meta: ResponseMeta, delta: { role?: 'assistant'; content?: string }, finish: FinishReason | null) {
  return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

export function textCompletion(meta: ResponseMeta, text: string, finish: FinishReason | null, usage?: Usage) {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  };
}

/** The last chunk of a stream with stream_options.include_usage. */
export function usageChunk(meta: ResponseMeta, object: 'chat.completion.chunk' | 'text_completion', usage: Usage) {
  return { id: meta.id, object, created: meta.created, model: meta.model, choices: [], usage };
}
