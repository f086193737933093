// Server-sent events as OpenAI-compatible servers stream chat completions: an incremental parser for the event
// stream (WHATWG rules: lines end in CRLF, LF or CR; a blank line ends an event; `data:` lines join with "\n";
// lines starting ":" are comments), and the reading of one chat-completion chunk. No vscode import.

export interface SseEvent {
  /** The `event:` field; absent for the default "message". */
  event?: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event: string | undefined;
  /** A CR ended the last chunk: a LF starting the next one belongs to it. */
  private pendingCr = false;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A CR at the very end may be the first half of CRLF: take it as a line end, remember to skip a LF.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The stream ended: an event without its blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.buffer = '';
    this.data = [];
    this.event = undefined;
    return [];
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = undefined;
        return undefined;
      }
      const event: SseEvent = { data: this.data.join('\n'), ...(this.event ? { event: this.event } : {}) };
      this.data = [];
      this.event = undefined;
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** What one `data:` payload of a chat stream says. */
export type ChatStreamPart =
  | { type: 'done' }
  | { type: 'chunk'; delta: string; finishReason?: string; usage?: Usage }
  | { type: 'error'; message: string };

export class StreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamProtocolError';
  }
}

/** Reads one event's data: `[DONE]`, a chat.completion.chunk, or an error object some servers send mid-stream. */
export function parseChatStreamData(data: string): ChatStreamPart {
  if (data.trim() === '[DONE]') return { type: 'done' };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new StreamProtocolError(`the server sent a stream event that is not JSON: ${JSON.stringify(data.slice(0, 80))}`);
  }
  if (typeof value !== 'object' || value === null) throw new StreamProtocolError(`the server sent a stream event that is not an object: ${data.slice(0, 80)}`);
  const v = value as { error?: { message?: unknown } | string; choices?: unknown; usage?: Record<string, unknown> | null };
  if (v.error !== undefined) {
    const message = typeof v.error === 'string' ? v.error : typeof v.error?.message === 'string' ? v.error.message : JSON.stringify(v.error);
    return { type: 'error', message };
  }
  let delta = '';
  let finishReason: string | undefined;
  if (Array.isArray(v.choices)) {
    for (const choice of v.choices as { delta?: { content?: unknown }; finish_reason?: unknown; index?: unknown }[]) {
      // One answer per request (n = 1): other choices would interleave.
      if (choice.index !== undefined && choice.index !== 0) continue;
      if (typeof choice.delta?.content === 'string') delta += choice.delta.content;
      if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
    }
  }
  const u = v.usage;
  const usage = u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number' ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : undefined;
  return { type: 'chunk', delta, ...(finishReason ? { finishReason } : {}), ...(usage ? { usage } : {}) };
}
