// The model's head: final RMSNorm, lm_head and the causal-LM loss. The loss graph returns the weighted
// cross-entropy and its gradient w.r.t. the final hidden state; the logits graph returns logits (for checks and
// evaluation). Targets come with per-token weights from JS (0 for ignored tokens, 1/count for trained ones), so
// gradient accumulation can normalize over a whole batch of micro-batches.

import type { ModelConfig } from '../../model/config';
import { requireTensor, type WeightSource } from '../../model/weights';
import { attr, GraphBuilder, type EncodedModel } from '../onnx/builder';
import { rmsNorm, rmsNormBackward } from './ops';

export const headIo = {
  hidden: 'hidden',
  targets: 'targets',
  weights: 'weights',
  loss: 'loss',
  gradHidden: 'grad_hidden',
  logits: 'logits',
} as const;

function declare(config: ModelConfig, weights: WeightSource, name: string) {
  const g = new GraphBuilder(name);
  const { hidden, vocab } = config;
  g.input(headIo.hidden, 'FLOAT', ['batch', 'seq', hidden]);
  const wNorm = g.initializer('model.norm.weight', requireTensor(weights, 'model.norm.weight', [hidden]), [hidden]);
  const lmName = config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const wLm = g.initializer(lmName, requireTensor(weights, lmName, [vocab, hidden]), [vocab, hidden]);
  const x = g.op('Reshape', [headIo.hidden, g.constI64([-1, hidden])]);
  const { y: xn, inv } = rmsNorm(g, x, wNorm, config.rmsNormEps);
  // Granite divides logits by logits_scaling; Gemm's alpha does it for free.
  const logitScale = attr.float(1 / config.logitsScaling);
  const z = g.op('Gemm', [xn, wLm], { transB: attr.int(1), alpha: logitScale });
  return { g, wNorm, wLm, x, xn, inv, z, logitScale };
}

/** hidden [B, T, H] → logits [B, T, vocab]. */
export function buildLogits(config: ModelConfig, weights: WeightSource): EncodedModel {
  const { g, z } = declare(config, weights, 'head_logits');
  const shape = g.op('Concat', [g.op('Shape', [headIo.hidden], { end: attr.int(2) }), g.constI64([config.vocab])], { axis: attr.int(0) });
  g.output(g.op('Reshape', [z, shape]), headIo.logits, 'FLOAT', ['batch', 'seq', config.vocab]);
  return g.encode();
}

/**
 * hidden [B, T, H], targets int64 [B, T] (any valid id where ignored), weights float [B, T] →
 * loss = −Σ w · log softmax(z)[target] (a scalar) and grad_hidden [B, T, H].
 */
export function buildLoss(config: ModelConfig, weights: WeightSource): EncodedModel {
  const { g, wNorm, wLm, x, inv, z, logitScale } = declare(config, weights, 'head_loss');
  g.input(headIo.targets, 'INT64', ['batch', 'seq']);
  g.input(headIo.weights, 'FLOAT', ['batch', 'seq']);
  const t = g.op('Reshape', [headIo.targets, g.constI64([-1, 1])]);
  const w = g.op('Reshape', [headIo.weights, g.constI64([-1, 1])]);
  const logp = g.op('LogSoftmax', [z], { axis: attr.int(-1) });
  const picked = g.op('GatherElements', [logp, t], { axis: attr.int(1) });
  const loss = g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [picked, w])], { keepdims: attr.int(0) })]);
  g.output(loss, headIo.loss, 'FLOAT', []);
  // dz = w · (softmax(z) − onehot(target)): subtract w at each target by a scatter-add instead of a one-hot matrix.
  const dz = g.op('ScatterElements', [g.op('Mul', [g.op('Exp', [logp]), w]), t, g.op('Neg', [w])], {
    axis: attr.int(1),
    reduction: attr.string('add'),
  });
  const dxn = g.op('Gemm', [dz, wLm], { alpha: logitScale });
  const dx = rmsNormBackward(g, dxn, x, inv, wNorm);
  g.output(g.op('Reshape', [dx, g.op('Shape', [headIo.hidden])]), headIo.gradHidden, 'FLOAT', ['batch', 'seq', config.hidden]);
  return g.encode();
}
