// Memory a training run will need, estimated before anything is built, so a run that cannot fit is refused with the
// figure instead of dying half way. The parts follow how the trainer holds things (sessions run without arenas, so
// only the running graph's tensors are live; the base is read layer by layer, never whole in JavaScript), with factors
// measured on the small fixture (25.2M linear parameters, 8 layers; RSS growth per session built):
//   base weights  the sessions' copies: a checkpointed layer's forward holds its float32 linears and onnxruntime's
//                 prepacked copy, its backward the same again for the recompute and dx (4 copies; 3 without
//                 checkpointing, whose backward has no recompute); QLoRA's 4-bit blocks, scales and their packed and
//                 int4 forms take 2.2 bytes per parameter (1.7 without checkpointing). The loss head holds lm_head about
//                 five times over (the weight, its transpose, their prepacked forms); JavaScript keeps the embedding
//                 table, lm_head and, while building, one layer.
//   LoRA          A and B, their gradients and AdamW's two moments (float32)
//   activations   one layer's recomputed forward + backward working set at a time (QLoRA's backward also holds that
//                 layer's dequantized weights), plus the checkpoints and the head's logits, log-probabilities and
//                 gradient; without checkpointing, every layer's saved activations (about half a working set each).
//   runtime       Node, V8 and onnxruntime themselves.
// Checked on the small fixture (batch 4 × 128 tokens, rank 8, all modules): float32 estimate 676 MiB vs peak RSS
// 587 MiB; QLoRA 356 MiB vs 321 MiB; float32 without checkpointing 804 MiB vs 661 MiB.

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
  /** Gradient checkpointing (default true). */
  checkpointing?: boolean;
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
  const checkpointing = m.checkpointing ?? true;
  let layerLinears = 0;
  for (const mod of linearModules) {
    const [o, i] = linearShape(c, mod);
    layerLinears += o * i;
  }
  const linears = layerLinears * c.layers;
  const embed = c.vocab * c.hidden;
  const lmHead = c.tieWordEmbeddings ? 0 : embed;
  const inJs = (embed + lmHead + c.hidden + layerLinears) * f;
  const head = 5 * c.vocab * c.hidden * f;
  const perParameter = m.qlora ? (checkpointing ? 2.2 : 1.7) : (checkpointing ? 4 : 3) * f;
  const baseWeights = inJs + linears * perParameter + head;
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
  const dequantized = m.qlora ? layerLinears * f : 0;
  const saved = checkpointing ? 0 : c.layers * layer * 0.5;
  const activations = layer + saved + dequantized + checkpoints + logits;
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
