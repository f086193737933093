// A teacher that is a GGUF model in this process, run by node-llama-cpp (llama.cpp). One model, one context with
// `parallel` sequences: every chat call takes a free sequence and generates on it, and llama.cpp decodes the
// sequences of a context together in one batch, so N calls in flight cost little more per step than one. An answer
// asked for with a JSON schema is generated under the grammar node-llama-cpp builds from that schema, so it parses
// even from a model with random weights (strings are bounded by their maxLength; an answer cut at maxTokens is
// still reported as invalid JSON by the same parser the remote teacher uses).
import { stat } from 'node:fs/promises';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { contextThreads } from '../../llama/threads';
import { abortReason } from './clock';
import { TeacherContextOverflowError, TeacherError } from './errors';
import { parseJsonAnswer } from './jsonAnswer';
import { Semaphore } from './semaphore';
import type { ChatMessage, ChatOptions, ChatResult, Teacher, TeacherHealth } from './teacher';

export interface LocalTeacherOptions {
  modelPath: string;
  /** Sequences in the context: calls generated at once (default 4). */
  parallel?: number;
  /** Tokens per sequence, prompt and answer (default the model's training context, at most 4096). */
  contextSize?: number;
  /** CPU threads (default on the CPU: one per physical core, see engine/llama/threads.ts). */
  threads?: number;
  /** 'auto' offloads to a GPU when llama.cpp finds one (default); 'off' keeps to the CPU. */
  gpu?: 'auto' | 'off';
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

let runtime: Promise<NodeLlamaCpp> | undefined;
/** node-llama-cpp is an ES module with top-level await: import() it once (require() cannot load it). */
function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  runtime ??= import('node-llama-cpp');
  return runtime;
}

export class LocalTeacher implements Teacher {
  readonly description: string;
  private readonly free: LlamaContextSequence[];
  private readonly slots: Semaphore;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposed = false;
  private readonly chatWrapper: ChatWrapper;

  private constructor(
    private readonly lib: NodeLlamaCpp,
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    private readonly modelPath: string,
  ) {
    this.description = modelPath;
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
    this.slots = new Semaphore(this.free.length);
    this.chatWrapper = lib.resolveChatWrapper(model) ?? new lib.GeneralChatWrapper();
  }

  /** Loads the model and makes its context; throws TeacherError('model-load') saying what to do when it cannot. */
  static async open(options: LocalTeacherOptions): Promise<LocalTeacher> {
    const parallel = options.parallel ?? 4;
    if (!Number.isInteger(parallel) || parallel < 1) throw new TeacherError('request', `parallel must be a whole number of 1 or more, got ${parallel}`);
    let isFile = false;
    try {
      isFile = (await stat(options.modelPath)).isFile();
    } catch {
      throw new TeacherError('model-load', `${options.modelPath}: no such file (the teacher must be a GGUF model file or an http(s) URL of an OpenAI-compatible server)`);
    }
    if (!isFile) throw new TeacherError('model-load', `${options.modelPath}: not a file (the teacher must be a GGUF model file)`);
    const lib = await nodeLlamaCpp();
    const llama = await lib.getLlama({ gpu: options.gpu === 'off' ? false : 'auto', build: 'never', logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath, ...(options.gpu === 'off' ? { gpuLayers: 0 } : {}) });
    } catch (err) {
      throw new TeacherError(
        'model-load',
        `${options.modelPath}: llama.cpp could not load the model (${(err as Error).message}); is it a GGUF model file? taxonomy-studio inspect shows what it holds`,
        { cause: err },
      );
    }
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize || 4096, 4096);
    let context: LlamaContext;
    try {
      const threads = contextThreads(llama, options.threads || undefined);
      context = await model.createContext({ contextSize, sequences: parallel, ...(threads !== undefined ? { threads } : {}) });
    } catch (err) {
      await model.dispose();
      throw new TeacherError(
        'model-load',
        `${options.modelPath}: llama.cpp could not make a context of ${contextSize} tokens × ${parallel} sequences (${(err as Error).message}); lower --parallel or the context size`,
        { cause: err },
      );
    }
    return new LocalTeacher(lib, llama, model, context, options.modelPath);
  }

  /** Sequences generated at once. */
  get parallel(): number {
    return this.free.length;
  }

  async chat(messages: readonly ChatMessage[], options: ChatOptions): Promise<ChatResult> {
    if (this.disposed) throw new TeacherError('request', `the teacher ${this.description} was disposed`);
    const started = Date.now();
    const grammar = options.jsonSchema ? await this.grammarFor(options.jsonSchema.schema) : undefined;
    const prompt = this.promptTokens(messages);
    if (prompt.length + options.maxTokens > this.context.contextSize) {
      throw new TeacherContextOverflowError(
        `${this.description}: the prompt (${prompt.length} tokens) and maxTokens (${options.maxTokens}) do not fit the context of ${this.context.contextSize} tokens; raise the context size or shorten the seeds`,
        prompt.length,
        this.context.contextSize,
        options.maxTokens,
      );
    }
    const release = await this.slots.acquire(options.signal);
    const sequence = this.free.pop()!;
    try {
      // Straight on the sequence (no chat session): the per-token work stays in llama.cpp, so sequences batch well.
      const generated: Token[] = [];
      let finishReason = 'length';
      const evaluation = sequence.evaluate(prompt, {
        temperature: options.temperature,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(grammar ? { grammarEvaluationState: new this.lib.LlamaGrammarEvaluationState({ model: this.model, grammar }) } : {}),
        yieldEogToken: true,
      });
      for await (const token of evaluation) {
        if (options.signal?.aborted) break;
        if (this.model.isEogToken(token)) {
          finishReason = 'stop';
          break;
        }
        generated.push(token);
        if (generated.length >= options.maxTokens) break;
      }
      if (options.signal?.aborted) throw abortReason(options.signal);
      // Bytes that never formed a character (a model may sample half of a UTF-8 sequence) decode as U+FFFD; the
      // grammar counted them as nothing, so they would break the schema's maxLength. They carry no text: drop them.
      const text = this.model.detokenize(generated, false).replace(/\uFFFD/g, '');
      const chatResult: ChatResult = {
        text,
        promptTokens: prompt.length,
        completionTokens: generated.length,
        ms: Date.now() - started,
        finishReason,
        endpoint: this.description,
        attempts: 1,
      };
      if (options.jsonSchema) chatResult.json = parseJsonAnswer(text, options.jsonSchema.schema, { endpoint: this.description, finishReason });
      return chatResult;
    } catch (err) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      if (err instanceof TeacherError) throw err;
      throw new TeacherError('request', `${this.description}: generation failed (${(err as Error).message})`, { cause: err });
    } finally {
      // A fresh start for the next call: nothing of this conversation may leak into another.
      await sequence.clearHistory().catch(() => undefined);
      this.free.push(sequence);
      release();
    }
  }

  /** The conversation as the model's chat template renders it, with the reply opened. */
  private promptTokens(messages: readonly ChatMessage[]): Token[] {
    const chatHistory: ChatHistoryItem[] = messages.map((m) =>
      m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
    );
    chatHistory.push({ type: 'model', response: [] });
    return this.chatWrapper.generateContextState({ chatHistory }).contextText.tokenize(this.model.tokenizer);
  }

  async health(): Promise<TeacherHealth> {
    const model = this.modelPath;
    if (this.disposed) return { ok: false, model, problem: `the teacher ${model} was disposed` };
    try {
      await this.chat([{ role: 'user', content: 'Reply with OK.' }], { maxTokens: 4, temperature: 0 });
      return { ok: true, model, contextSize: this.context.contextSize };
    } catch (err) {
      return { ok: false, model, contextSize: this.context.contextSize, problem: `${model} loaded but could not answer: ${(err as Error).message}` };
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }

  private grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      g = this.llama.createGrammarForJsonSchema(schema as never) as Promise<LlamaGrammar>;
      this.grammars.set(key, g);
      g.catch(() => this.grammars.delete(key));
    }
    return g;
  }
}
