// The models a server serves: one llama.cpp model loaded once, and one context per model id: `base` plain and one
// per LoRA adapter (llama.cpp applies adapters per context, so the weights are shared and only the KV cache is
// per id). Each context has `parallel` sequences; llama.cpp decodes the sequences of a context in one batch, so
// concurrent requests to one id are generated together. A sequence keeps its tokens after a request: the next
// request that starts with the same tokens (the next turn of a chat) only evaluates what is new.
import { stat } from 'node:fs/promises';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token, TokenBias } from 'node-llama-cpp';
import type { ChatMessage, FinishReason, SamplingParams } from './api';
import { ApiError, contextLengthExceeded, overloaded, ServeError, unknownModel } from './errors';
import { QueueFullError, SequencePool } from './sequencePool';
import { TextStream } from './textStream';
import { contextThreads } from '../llama/threads';

export interface AdapterSpec {
  /** The model id clients ask for, e.g. "tuned". */
  id: string;
  /** A llama.cpp GGUF LoRA adapter (taxonomy-studio export-adapter writes one). */
  path: string;
  /** Default 1. */
  scale?: number;
}

export interface ModelHostOptions {
  modelPath: string;
  adapters?: readonly AdapterSpec[];
  /** The id of the model without adapters (default "base"). */
  baseId?: string;
  /** Sequences per model id: requests generated at once (default 4). */
  parallel?: number;
  /** Requests per model id that may wait for a sequence; more are refused with 429 (default 32). */
  queue?: number;
  /** Tokens per sequence: prompt plus completion (default the model's training context, at most 4096). */
  contextSize?: number;
  /** 'auto': offload to a GPU when llama.cpp finds one (default); 'off': CPU only. */
  gpu?: 'auto' | 'off';
  /** CPU threads per context (default on the CPU: the physical cores shared among the contexts, see engine/llama/threads.ts). */
  threads?: number;
  /** Lines for the operator (loading, offload). */
  log?(line: string): void;
}

export type Prompt = { kind: 'chat'; messages: readonly ChatMessage[] } | { kind: 'text'; text: string };

export interface Generation {
  /** Called once the request has a sequence and generation starts (a stream sends its headers then). */
  onStart?(): void;
  /** Called with each piece of text as it becomes final; generation waits for the returned promise (backpressure). */
  onText?(text: string): void | Promise<void>;
  /** Aborting stops generation and frees the sequence (a client that went away). */
  signal?: AbortSignal;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Set when the signal aborted generation; text is what was generated until then. */
  aborted: boolean;
}

export interface ModelInfo {
  id: string;
  /** Adapter file for adapter ids. */
  adapter?: string;
  contextSize: number;
  parallel: number;
  busy: number;
  queued: number;
  /** Generations that ran to the end (a stop or the token limit) since the server started. */
  completed: number;
  /** Generations stopped because the client went away (or the server stopped). */
  aborted: number;
}

interface Slot {
  id: string;
  adapter?: string;
  context: LlamaContext;
  pool: SequencePool<LlamaContextSequence>;
  completed: number;
  aborted: number;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

let runtime: Promise<NodeLlamaCpp> | undefined;
/** node-llama-cpp is an ES module with top-level await: import() it, once (require() cannot load it). */
function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  runtime ??= import('node-llama-cpp');
  return runtime;
}

export class ModelHost {
  private disposed = false;

  private constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly slots: Slot[],
    private readonly chatWrapper: ChatWrapper,
    private readonly lib: NodeLlamaCpp,
  ) {}

  static async open(options: ModelHostOptions): Promise<ModelHost> {
    const log = options.log ?? (() => undefined);
    const baseId = options.baseId ?? 'base';
    const adapters = options.adapters ?? [];
    const parallel = options.parallel ?? 4;
    const ids = [baseId, ...adapters.map((a) => a.id)];
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new ServeError(`model id '${dup}' is given twice; name each adapter differently (--adapter file.gguf=name)`);
    await mustBeFile(options.modelPath, 'model');
    for (const a of adapters) await mustBeFile(a.path, `adapter '${a.id}'`);

    const lib = await nodeLlamaCpp();
    const llama = await lib.getLlama({ gpu: options.gpu === 'off' ? false : 'auto', build: 'never', logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath, ...(options.gpu === 'off' ? { gpuLayers: 0 } : {}) });
    } catch (err) {
      throw new ServeError(`${options.modelPath}: llama.cpp could not load the model: ${(err as Error).message} (is it a GGUF model file, not an adapter? taxonomy-studio inspect shows what it holds)`);
    }
    log(`loaded ${options.modelPath} (${llama.gpu === false ? 'CPU' : `${llama.gpu}, ${model.gpuLayers} layers offloaded`})`);

    const slots: Slot[] = [];
    try {
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize || 4096, 4096);
      // Every model id has its own context and they decode at once: they share the cores.
      const threads = contextThreads(llama, options.threads || undefined, ids.length);
      for (const spec of [{ id: baseId, path: undefined as string | undefined, scale: 1 }, ...adapters.map((a) => ({ id: a.id, path: a.path, scale: a.scale ?? 1 }))]) {
        let context: LlamaContext;
        try {
          context = await model.createContext({
            contextSize,
            sequences: parallel,
            ...(threads !== undefined ? { threads } : {}),
            ...(spec.path ? { lora: { adapters: [{ filePath: spec.path, scale: spec.scale }] } } : {}),
          });
        } catch (err) {
          const what = spec.path ? `${spec.path}: llama.cpp could not apply the adapter` : `${options.modelPath}: llama.cpp could not make a context of ${contextSize} tokens × ${parallel} sequences`;
          throw new ServeError(`${what}: ${(err as Error).message} (${spec.path ? 'was it exported for this base model? taxonomy-studio export-adapter writes one' : 'try a smaller --ctx-size or --parallel'})`);
        }
        const sequences = Array.from({ length: parallel }, () => context.getSequence());
        slots.push({ id: spec.id, ...(spec.path ? { adapter: spec.path } : {}), context, pool: new SequencePool(sequences, options.queue ?? 32), completed: 0, aborted: 0 });
      }
      const chatWrapper = lib.resolveChatWrapper(model) ?? new lib.GeneralChatWrapper();
      log(`chat template: ${chatWrapper.wrapperName}${chatWrapper.wrapperName === 'JinjaTemplate' ? ' (from the model metadata)' : ''}`);
      return new ModelHost(llama, model, slots, chatWrapper, lib);
    } catch (err) {
      for (const s of slots) await s.context.dispose();
      await model.dispose();
      throw err;
    }
  }

  get ids(): string[] {
    return this.slots.map((s) => s.id);
  }

  info(): ModelInfo[] {
    return this.slots.map((s) => ({
      id: s.id,
      ...(s.adapter ? { adapter: s.adapter } : {}),
      contextSize: s.context.contextSize,
      parallel: s.pool.size,
      busy: s.pool.busy,
      queued: s.pool.queued,
      completed: s.completed,
      aborted: s.aborted,
    }));
  }

  /** Prompt tokens as the model sees them. */
  tokenize(prompt: Prompt): Token[] {
    if (prompt.kind === 'text') {
      const tokens = this.model.tokenize(prompt.text, false);
      const bos = this.model.tokens.bos;
      return this.model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos ? [bos, ...tokens] : tokens;
    }
    const chatHistory: ChatHistoryItem[] = prompt.messages.map((m) =>
      m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
    );
    // A last assistant message is a prefix the reply continues; otherwise an empty one opens the reply.
    if (prompt.messages.at(-1)?.role !== 'assistant') chatHistory.push({ type: 'model', response: [] });
    let state;
    try {
      state = this.chatWrapper.generateContextState({ chatHistory });
    } catch (err) {
      throw new ApiError(400, 'invalid_request_error', `the model's chat template refused these messages: ${(err as Error).message}`, 'invalid_value', 'messages');
    }
    return state.contextText.tokenize(this.model.tokenizer);
  }

  /** Generates a completion of `prompt` with the model `id`. Rejects with ApiError (unknown id, too long, busy). */
  async generate(id: string, prompt: Prompt, sampling: SamplingParams, gen: Generation = {}): Promise<GenerationResult> {
    const slot = this.slots.find((s) => s.id === id);
    if (!slot) throw unknownModel(id, this.ids);
    if (this.disposed) throw new ApiError(503, 'server_error', 'the server is shutting down', 'server_shutting_down');
    const tokens = this.tokenize(prompt);
    const limit = slot.context.contextSize;
    if (tokens.length === 0) throw new ApiError(400, 'invalid_request_error', 'the prompt is empty', 'invalid_value', prompt.kind === 'chat' ? 'messages' : 'prompt');
    // The last sampled token is never evaluated, so prompt + completion may fill the context exactly.
    if (tokens.length >= limit || (sampling.maxTokens !== undefined && tokens.length + sampling.maxTokens > limit)) {
      throw contextLengthExceeded(limit, tokens.length, sampling.maxTokens);
    }
    const maxTokens = sampling.maxTokens ?? limit - tokens.length;

    let lease;
    try {
      lease = await slot.pool.acquire(gen.signal, (free) => longestSharedPrefix(free, tokens));
    } catch (err) {
      if (err instanceof QueueFullError) throw overloaded(id, slot.pool.size, slot.pool.queueLimit);
      throw err;
    }
    try {
      const result = await this.run(lease.item, tokens, maxTokens, sampling, gen);
      if (result.aborted) slot.aborted++;
      else slot.completed++;
      return result;
    } finally {
      lease.release();
    }
  }

  private async run(sequence: LlamaContextSequence, tokens: Token[], maxTokens: number, sampling: SamplingParams, gen: Generation): Promise<GenerationResult> {
    // Keep what the sequence already holds of this prompt; at least one token is evaluated to get the next one.
    const keep = Math.min(sharedPrefix(sequence.contextTokens, tokens), tokens.length - 1);
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);

    const model = this.model;
    const stream = new TextStream<Token>((ts, before) => model.detokenize(ts, false, before), sampling.stop);
    const bias = this.tokenBias(sampling);
    let text = '';
    let count = 0;
    let finishReason: FinishReason = 'length';
    const emit = async (piece: string) => {
      if (!piece) return;
      text += piece;
      await gen.onText?.(piece);
    };
    const signal = gen.signal;
    if (signal?.aborted) return { text, finishReason: 'stop', promptTokens: tokens.length, completionTokens: 0, aborted: true };

    gen.onStart?.();
    const evaluation = sequence.evaluate(tokens.slice(keep), {
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK,
      minP: sampling.minP,
      ...(sampling.seed === undefined ? {} : { seed: sampling.seed }),
      ...(bias ? { tokenBias: bias } : {}),
      yieldEogToken: true,
    });
    for await (const token of evaluation) {
      if (signal?.aborted) break;
      count++;
      if (model.isEogToken(token)) {
        finishReason = 'stop';
        break;
      }
      const { text: piece, stop } = stream.push(token);
      await emit(piece);
      if (stop) {
        finishReason = 'stop';
        break;
      }
      if (count >= maxTokens) break;
    }
    const aborted = signal?.aborted ?? false;
    if (!aborted && !stream.stoppedByText) await emit(stream.finish());
    return { text, finishReason, promptTokens: tokens.length, completionTokens: count, aborted };
  }

  private tokenBias(sampling: SamplingParams): TokenBias | undefined {
    if (!sampling.ignoreEos && sampling.logitBias.size === 0) return undefined;
    const bias = new this.lib.TokenBias(this.model.tokenizer);
    for (const [token, value] of sampling.logitBias) bias.set(token as Token, value <= -100 ? 'never' : { logit: value });
    if (sampling.ignoreEos) {
      for (const t of [this.model.tokens.eos, this.model.tokens.eot]) if (t !== null) bias.set(t, 'never');
    }
    return bias;
  }

  /** Refuses new requests (waiters get 503) and frees the contexts and the model; safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const shutting = new ApiError(503, 'server_error', 'the server is shutting down', 'server_shutting_down');
    for (const s of this.slots) s.pool.close(shutting);
    for (const s of this.slots) await s.context.dispose();
    await this.model.dispose();
  }
}

function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function longestSharedPrefix(free: readonly LlamaContextSequence[], tokens: readonly Token[]): number {
  let best = 0;
  let bestLength = -1;
  free.forEach((s, i) => {
    const n = sharedPrefix(s.contextTokens, tokens);
    if (n > bestLength) [best, bestLength] = [i, n];
  });
  return best;
}

async function mustBeFile(path: string, what: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    throw new ServeError(`${path}: no such file (the ${what} must be a GGUF file: taxonomy-studio convert writes one)`);
  }
  if (!isFile) throw new ServeError(`${path}: not a file (the ${what} must be a GGUF file)`);
}
