// Memory a training run will need, estimated before anything is built, so a run that cannot fit is refused with the
// figure instead of dying half way. The parts follow how the trainer holds things, with factors measured on the
// small fixture (27.3M parameters, 8 layers; RSS after building the sessions and peak RSS over a run):
//   base weights  float32 in JS (read from the folder), plus the sessions: each layer's forward and backward session
//                 holds its frozen weights and onnxruntime's prepacked copy (4 copies of the float32 linears in all:
//                 +419 MiB measured for 100 MiB of linears), or for QLoRA 4-bit blocks, scales and their prepacked
//                 and int4 forms (measured 4.8 bytes per parameter), plus lm_head in the loss head
//   LoRA          A and B, their gradients and AdamW's two moments (float32)
//   activations   every layer session keeps its own arena, sized to its largest run: per layer about three quarters
//                 of one layer's recomputed forward + backward working set (QLoRA's backward also keeps its layer's
//                 dequantized weights), plus the checkpoints and the head's logits, log-probabilities and gradient
//   runtime       Node, V8 and onnxruntime themselves.
// Checked on the small fixture (batch-tokens 512, max-seq-len 64, rank 8, all modules): float32 estimate 1000 MiB vs
// peak RSS 985 MiB; QLoRA 827 MiB vs 762 MiB.

import { freemem } from 'node:os';
import type { ModelConfig } from '../model/config';
import { linearModules, linearShape } from '../model/weights';

export interface MemoryInputs {
  config: ModelConfig;
  qlora: boolean;
  /** LoRA parameters (A and B of every adapted module). */
  loraParameters: number;
  /** Tokens of the largest micro-batch (rows × row length). */
  batchTokens: number;
  /** Longest row (attention is quadratic in it). */
  maxSeqLen: number;
}

export interface MemoryEstimate {
  baseWeights: number;
  lora: number;
  activations: number;
  runtime: number;
  total: number;
}

/** What Node, V8 and onnxruntime take before any model (measured about 120 MiB; rounded up). */
export const runtimeBytes = 160 * 2 ** 20;

export function estimateMemory(m: MemoryInputs): MemoryEstimate {
  const c = m.config;
  const f = 4;
  let linears = 0;
  let largestLayerLinears = 0;
  for (const mod of linearModules) {
    const [o, i] = linearShape(c, mod);
    linears += o * i;
    largestLayerLinears += o * i;
  }
  linears *= c.layers;
  const norms = c.hidden * (2 * c.layers + 1);
  const embed = c.vocab * c.hidden;
  const lmHead = c.tieWordEmbeddings ? 0 : embed;
  const inJs = (linears + norms + embed + lmHead) * f;
  // lm_head is an initializer of the loss graph (and of the logits graph, built for evaluation on demand).
  const head = c.vocab * c.hidden * f;
  const sessions = m.qlora ? linears * 4.8 : 4 * linears * f;
  const baseWeights = inJs + sessions + head;
  const lora = m.loraParameters * f * 4;
  const N = Math.max(m.batchTokens, m.maxSeqLen);
  const rows = Math.max(1, Math.floor(N / m.maxSeqLen));
  const kv = c.kvHeads * c.headDim;
  const q = c.heads * c.headDim;
  // One layer's recompute keeps about a dozen hidden-sized and ten intermediate-sized values, plus q, k, v and their
  // expanded copies, and attention's scores, probabilities and their gradients (four [rows, heads, T, T] tensors).
  const layer = N * (12 * c.hidden + 10 * c.intermediate + 4 * q + 4 * kv) * f + 4 * rows * c.heads * m.maxSeqLen * m.maxSeqLen * f;
  const checkpoints = (c.layers + 2) * N * c.hidden * f;
  const logits = 4 * N * c.vocab * f;
  const dequantized = m.qlora ? c.layers * largestLayerLinears * f : 0;
  const activations = c.layers * layer * 0.75 + dequantized + checkpoints + logits;
  const total = baseWeights + lora + activations + runtimeBytes;
  return { baseWeights, lora, activations, runtime: runtimeBytes, total };
}

export function formatMiB(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function describeEstimate(e: MemoryEstimate): string {
  return `about ${formatMiB(e.total)}: base weights ${formatMiB(e.baseWeights)}, LoRA + AdamW ${formatMiB(e.lora)}, activations ${formatMiB(e.activations)}, runtime ${formatMiB(e.runtime)}`;
}

export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
  constructor(
    readonly estimate: MemoryEstimate,
    readonly limit: number,
    readonly limitSource: string,
  ) {
    super(
      `the run needs ${describeEstimate(estimate)}, more than ${limitSource} (${formatMiB(limit)}) ` +
        '(use --qlora, a smaller --batch-tokens or --max-seq-len, a lower --rank, or free memory)',
    );
  }
}

/** Throws MemoryLimitError when the estimate exceeds `limit` (default: the machine's free memory now). */
export function checkMemory(estimate: MemoryEstimate, limit?: number): void {
  const bound = limit ?? freemem();
  if (estimate.total > bound) throw new MemoryLimitError(estimate, bound, limit === undefined ? "the machine's free memory" : 'the memory limit');
}
