// node-llama-cpp (llama.cpp) as an independent judge for the GGUF files we write: load a file on the CPU, tokenize
// with llama.cpp's own tokenizer, and read the raw next-token logits after each token of a sequence. Tests compare
// these with our reference forward pass (engine/model) and between quantized files.
//
//   const m = await openLlamaModel('model.gguf');
//   const rows = await m.nextTokenLogits([12, 7, 99]);   // rows[i]: logits for the token after ids[0..i]
//   await m.dispose();
//
// One llama.cpp runtime is shared by every model a process opens (loading the binding takes a while); models and
// contexts are per file and are freed by dispose().
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { logSoftmax } from '../../engine/model/metrics';

let runtime: Promise<Llama> | undefined;

/** The shared llama.cpp runtime: CPU only, the prebuilt binary (never a source build), errors only in the log. */
export function llamaRuntime(): Promise<Llama> {
  // A dynamic import: node-llama-cpp is an ES module with top-level await, which require() cannot load.
  runtime ??= import('node-llama-cpp')
    .then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false }))
    .catch((err: unknown) => {
      runtime = undefined;
      throw err;
    });
  return runtime;
}

export interface OpenLlamaOptions {
  /** Tokens the context holds (default 512); sequences passed to nextTokenLogits must fit. */
  contextSize?: number;
  /** A llama.cpp GGUF LoRA adapter applied on top of the model, with its scale (default 1). */
  lora?: { path: string; scale?: number };
  /** CPU threads for evaluation (default 2). */
  threads?: number;
  /**
   * Element type of the key/value cache (default F16, llama.cpp's own default). F32 keeps attention in full
   * precision, for comparing an F32 file with a float32 reference.
   */
  kvCacheType?: 'F16' | 'F32';
  /** llama.cpp's flash attention kernel (default: llama.cpp decides). */
  flashAttention?: boolean;
}

export interface LlamaTestModel {
  readonly path: string;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  /** Size of the logit vectors llama.cpp produces (the model's n_vocab). */
  readonly vocabSize: number;
  /** Token ids llama.cpp gives for `text`; `special` parses special-token texts such as "<|user|>" (default false). */
  tokenize(text: string, special?: boolean): number[];
  detokenize(ids: readonly number[], special?: boolean): string;
  /**
   * Raw next-token logits after every prefix of `ids`, evaluated from an empty context: result[i] follows ids[0..i].
   * `positions` limits which rows are computed (default all).
   */
  nextTokenLogits(ids: readonly number[], positions?: readonly number[]): Promise<Float32Array[]>;
  /** As nextTokenLogits, as probabilities (softmax of the logits in float64). */
  nextTokenProbabilities(ids: readonly number[], positions?: readonly number[]): Promise<Float64Array[]>;
  /** Frees the context and the model; safe to call twice. */
  dispose(): Promise<void>;
}

/** Loads a GGUF file on the CPU with a context for evaluating token sequences. */
export async function openLlamaModel(path: string, options: OpenLlamaOptions = {}): Promise<LlamaTestModel> {
  const llama = await llamaRuntime();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: true });
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize: options.contextSize ?? 512,
      batchSize: options.contextSize ?? 512,
      threads: options.threads ?? 2,
      sequences: 1,
      ...(options.kvCacheType ? { experimentalKvCacheKeyType: options.kvCacheType, experimentalKvCacheValueType: options.kvCacheType } : {}),
      ...(options.flashAttention !== undefined ? { flashAttention: options.flashAttention } : {}),
      ...(options.lora ? { lora: { adapters: [{ filePath: options.lora.path, scale: options.lora.scale ?? 1 }] } } : {}),
    });
  } catch (err) {
    await model.dispose();
    throw err;
  }
  const sequence: LlamaContextSequence = context.getSequence();
  const vocabSize = vocabSizeOf(model);
  let disposed = false;

  const nextTokenLogits = async (ids: readonly number[], positions?: readonly number[]): Promise<Float32Array[]> => {
    if (ids.length === 0) throw new RangeError('nextTokenLogits needs at least one token');
    if (ids.length > context.contextSize) throw new RangeError(`${ids.length} tokens do not fit a context of ${context.contextSize}; open the model with a larger contextSize`);
    const wanted = new Set(positions ?? ids.map((_, i) => i));
    for (const p of wanted) if (!Number.isInteger(p) || p < 0 || p >= ids.length) throw new RangeError(`position ${p} is outside 0..${ids.length - 1}`);
    // Each call starts from an empty sequence, so results never depend on what was evaluated before.
    await sequence.clearHistory();
    const input = ids.map((id, i) => (wanted.has(i) ? ([id as Token, { generateNext: { logits: true } }] as const) : (id as Token)));
    const out = await sequence.controlledEvaluate(input as never);
    const rows: Float32Array[] = [];
    for (const i of [...wanted].sort((a, b) => a - b)) {
      const logits = out[i]?.next.logits;
      if (!logits) throw new Error(`node-llama-cpp returned no logits for position ${i}`);
      const row = new Float32Array(vocabSize).fill(Number.NEGATIVE_INFINITY);
      for (const [token, value] of logits) row[token] = value;
      rows.push(row);
    }
    return rows;
  };

  return {
    path,
    model,
    context,
    vocabSize,
    tokenize: (text, special = false) => model.tokenize(text, special).map(Number),
    detokenize: (ids, special = false) => model.detokenize(ids.map((id) => id as Token), special),
    nextTokenLogits,
    async nextTokenProbabilities(ids, positions) {
      return (await nextTokenLogits(ids, positions)).map((row) => logSoftmax(row).map(Math.exp));
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await context.dispose();
      await model.dispose();
    },
  };
}

/** n_vocab as llama.cpp sees it: the rows of token_embd (tokenizer.ggml.tokens may list the same count). */
function vocabSizeOf(model: LlamaModel): number {
  const embd = model.fileInfo.tensorInfo?.find((t) => t.name === 'token_embd.weight');
  const fromTensor = embd ? Number(embd.dimensions[1]) : undefined;
  const tokens = (model.fileInfo.metadata as unknown as { tokenizer?: { ggml?: { tokens?: unknown[] } } }).tokenizer?.ggml?.tokens?.length;
  const n = fromTensor ?? tokens;
  if (!n) throw new Error(`${model.filename ?? 'model'}: cannot tell the vocabulary size (no token_embd.weight, no tokenizer.ggml.tokens)`);
  return n;
}
