// What the SDG pipelines ask of a teacher model, whichever runs it: a GGUF model in this process (node-llama-cpp)
// or one or more OpenAI-compatible servers. Pipelines only see this interface, so a run can switch teachers without
// touching prompts or filters.

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A JSON schema the answer must follow; `name` is what OpenAI's `response_format.json_schema.name` carries. */
export interface AnswerSchema {
  name: string;
  schema: Record<string, unknown>;
  /** Ask the server to follow the schema exactly (OpenAI `strict`); default true. */
  strict?: boolean;
}

export interface ChatOptions {
  maxTokens: number;
  temperature: number;
  /** Sampling seed; servers that honour it (llama.cpp, vLLM) then answer the same prompt the same way. */
  seed?: number;
  /** When set, the answer is constrained to (or asked for as) JSON of this schema, then parsed and validated. */
  jsonSchema?: AnswerSchema;
  signal?: AbortSignal;
}

export interface ChatResult {
  text: string;
  /** The parsed answer when `jsonSchema` was asked for (already validated against it). */
  json?: unknown;
  promptTokens: number;
  completionTokens: number;
  /** Milliseconds from the call to the answer, retries and waits for a free slot included. */
  ms: number;
  /** 'stop', 'length' (cut at maxTokens), or what the server said. */
  finishReason?: string;
  /** Which server answered (a remote teacher's base URL, without credentials). */
  endpoint?: string;
  /** Requests sent for this answer (1 when nothing was retried). */
  attempts?: number;
}

export interface EndpointHealth {
  endpoint: string;
  ok: boolean;
  model?: string;
  contextSize?: number;
  problem?: string;
  ms: number;
}

export interface TeacherHealth {
  /** The teacher can answer: it loaded (or at least one endpoint is reachable, serves the model and answers). */
  ok: boolean;
  model: string;
  /** Context window in tokens, when the teacher says (the smallest over endpoints). */
  contextSize?: number;
  /** Why it cannot answer, in a sentence that says what to do. */
  problem?: string;
  /** Problems that do not stop a run (one endpoint of several is down). */
  warnings?: string[];
  /** One entry per endpoint of a remote teacher. */
  endpoints?: EndpointHealth[];
}

export interface Teacher {
  /** For logs and reports: the model file or the endpoints, never credentials. */
  readonly description: string;
  chat(messages: readonly ChatMessage[], options: ChatOptions): Promise<ChatResult>;
  health(signal?: AbortSignal): Promise<TeacherHealth>;
  /** Releases what the teacher holds (models, sockets, timers); safe to call twice. */
  dispose(): Promise<void>;
}
