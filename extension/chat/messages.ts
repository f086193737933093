// What the chat sends: the conversation as OpenAI chat messages, and the request body with the sampling settings.
// No vscode import; the webview and the host agree on these shapes through protocol.ts.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Sampling {
  temperature: number;
  top_p: number;
  max_tokens: number;
}

export const defaultSampling: Sampling = { temperature: 0.7, top_p: 0.95, max_tokens: 512 };

/** Bounds OpenAI documents (temperature 0–2, top_p 0–1); max_tokens a whole number from 1. */
const bounds = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1 },
  max_tokens: { min: 1, max: 1_000_000 },
} as const;

/** Sampling from what the webview sends: each value clamped to its bounds, a missing or non-numeric one defaulted. */
export function normaliseSampling(raw: unknown): Sampling {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const pick = (key: keyof Sampling): number => {
    const v = typeof r[key] === 'string' && r[key] !== '' ? Number(r[key]) : r[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return defaultSampling[key];
    const { min, max } = bounds[key];
    const clamped = Math.min(max, Math.max(min, v));
    return key === 'max_tokens' ? Math.round(clamped) : clamped;
  };
  return { temperature: pick('temperature'), top_p: pick('top_p'), max_tokens: pick('max_tokens') };
}

/** One exchange: what the user wrote and, once answered, what this model answered. */
export interface Exchange {
  user: string;
  answer?: string;
}

/**
 * The messages for the next answer: the system prompt (when not blank), then each earlier exchange as user and
 * assistant, then the last user message. An earlier exchange without an answer (stopped before any text, or
 * failed) keeps its user message so the model sees what was asked.
 */
export function buildMessages(system: string, exchanges: readonly Exchange[]): ChatMessage[] {
  if (exchanges.length === 0) throw new Error('nothing to send: the conversation has no user message');
  const messages: ChatMessage[] = [];
  if (system.trim() !== '') messages.push({ role: 'system', content: system });
  exchanges.forEach((x, i) => {
    messages.push({ role: 'user', content: x.user });
    if (i < exchanges.length - 1 && x.answer) messages.push({ role: 'assistant', content: x.answer });
  });
  return messages;
}

/** The body of POST /chat/completions: streaming, with usage in the last chunk (servers that ignore it still work). */
export function chatRequestBody(model: string, messages: readonly ChatMessage[], sampling: Sampling, stream = true): Record<string, unknown> {
  return {
    model,
    messages,
    temperature: sampling.temperature,
    top_p: sampling.top_p,
    max_tokens: sampling.max_tokens,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}
