// One forward/backward pass over the whole model with gradient checkpointing: the forward runs layer by layer and
// keeps only each layer's input; the head gives the loss and the gradient of the final hidden state; the backward
// walks the layers in reverse, each backward graph recomputing its layer's forward from the kept input (or, when the
// model was built without checkpointing, taking the activations the forward returned).

import * as ort from 'onnxruntime-node';
import { attentionMask, checkBatch, embed, lossInputs, ropeTables, type Batch } from './batch';
import { headIo } from './graphs/head';
import { layerIo, loraIoNames } from './graphs/layer';
import { dropoutMask, type DropoutDraw } from './dropout';
import type { LoraGrad, LoraWeights } from './lora';
import type { TrainModel } from './model';
import { dataOf, f32, i64, type Feeds } from './onnx/session';

export interface StepResult {
  /** Σ w · (−log p(target)): the mean over trained tokens unless a normalizer was given. */
  loss: number;
  /** Trained (non-ignored) targets in the batch. */
  tokens: number;
  /** Gradient of the loss for every LoRA module, keyed by module name. */
  grads: Map<string, LoraGrad>;
}

export interface StepOptions {
  /** Divide the summed token losses by this instead of the batch's token count (gradient accumulation). */
  normalizer?: number;
  /** Draw LoRA dropout masks from here (training); without it dropout is off (evaluation). */
  dropout?: DropoutDraw;
}

interface Shared {
  rows: number;
  hiddenDims: number[];
  cos: ort.Tensor;
  sin: ort.Tensor;
  mask: ort.Tensor;
}

function sharedInputs(model: TrainModel, batch: Batch): Shared {
  const c = model.config;
  const { cos, sin } = ropeTables(c, batch);
  const ropeDims = [batch.batch, batch.seq, 1, c.headDim];
  return {
    rows: batch.batch * batch.seq,
    hiddenDims: [batch.batch, batch.seq, c.hidden],
    cos: f32(cos, ropeDims),
    sin: f32(sin, ropeDims),
    mask: f32(attentionMask(c, batch), [batch.batch, 1, batch.seq, batch.seq]),
  };
}

const keepAll = new ort.Tensor('bool', new Uint8Array([1]), [1, 1]);
const scaleOne = new ort.Tensor('float32', new Float32Array([1]), []);

function layerFeeds(model: TrainModel, lora: LoraWeights, layer: number, hidden: Float32Array, s: Shared, draw?: DropoutDraw): Feeds {
  const feeds: Feeds = { [layerIo.hidden]: f32(hidden, s.hiddenDims), [layerIo.cos]: s.cos, [layerIo.sin]: s.sin, [layerIo.mask]: s.mask };
  const built = model.layers[layer].lora;
  const given = lora.ofLayer(layer);
  if (given.length !== built.size || given.some((m) => built.get(m.module)?.rank !== m.rank || built.get(m.module)?.scale !== m.scale)) {
    throw new Error(`layer ${layer}: the LoRA modules, ranks or scales differ from those the model's graphs were built for; build the TrainModel with these LoRA weights`);
  }
  for (const m of given) {
    const io = loraIoNames(m.module);
    feeds[io.a] = f32(m.a, [m.rank, m.inDim]);
    feeds[io.b] = f32(m.b, [m.outDim, m.rank]);
    if (model.dropout > 0) {
      feeds[io.mask] = draw ? new ort.Tensor('bool', dropoutMask(draw, m.name, s.rows, m.inDim, model.dropout), [s.rows, m.inDim]) : keepAll;
    }
  }
  if (model.dropout > 0 && given.length) feeds[layerIo.dropoutScale] = draw ? f32(new Float32Array([1 / (1 - model.dropout)]), []) : scaleOne;
  return feeds;
}

/**
 * Runs the layers forward; returns each layer's input and the final hidden state, and with `keep` (training without
 * checkpointing) each layer's saved activations for its backward.
 */
async function forwardLayers(
  model: TrainModel,
  lora: LoraWeights,
  batch: Batch,
  s: Shared,
  draw?: DropoutDraw,
  keep = false,
): Promise<{ inputs: Float32Array[]; last: Float32Array; saved: Feeds[] }> {
  let h = embed(model.config, model.embedTable, batch);
  const inputs: Float32Array[] = [];
  const saved: Feeds[] = [];
  for (let l = 0; l < model.layers.length; l++) {
    inputs.push(h);
    const forward = model.layers[l].forward;
    const out = await forward.run(layerFeeds(model, lora, l, h, s, draw), keep ? forward.outputNames : [layerIo.out]);
    h = dataOf(out, layerIo.out);
    if (keep) saved.push(Object.fromEntries(Object.entries(out).filter(([name]) => name.startsWith('saved.'))));
  }
  return { inputs, last: h, saved };
}

/** Loss and every LoRA gradient for one batch. */
export async function forwardBackward(model: TrainModel, lora: LoraWeights, batch: Batch, opts: StepOptions = {}): Promise<StepResult> {
  checkBatch(model.config, batch);
  const s = sharedInputs(model, batch);
  const { inputs, last, saved } = await forwardLayers(model, lora, batch, s, opts.dropout, !model.checkpointing);
  const { targets, weights, count } = lossInputs(batch, opts.normalizer);
  const head = await model.loss.run({
    [headIo.hidden]: f32(last, s.hiddenDims),
    [headIo.targets]: i64(targets, [batch.batch, batch.seq]),
    [headIo.weights]: f32(weights, [batch.batch, batch.seq]),
  });
  const loss = dataOf(head, headIo.loss)[0];
  let grad = dataOf(head, headIo.gradHidden);
  const grads = new Map<string, LoraGrad>();
  for (let l = model.layers.length - 1; l >= 0; l--) {
    // The same draw as the forward: the recompute sees the same masks.
    const feeds = layerFeeds(model, lora, l, inputs[l], s, opts.dropout);
    feeds[layerIo.gradOut] = f32(grad, s.hiddenDims);
    if (!model.checkpointing) {
      Object.assign(feeds, saved[l]);
      saved[l] = {};
    }
    const out = await model.layers[l].backward.run(feeds);
    grad = dataOf(out, layerIo.gradHidden);
    for (const m of lora.ofLayer(l)) {
      const io = loraIoNames(m.module);
      grads.set(m.name, { a: dataOf(out, io.dA), b: dataOf(out, io.dB) });
    }
  }
  return { loss, tokens: count, grads };
}

/** Logits [batch · seq · vocab] of the model with this LoRA (for checks and evaluation). */
export async function forwardLogits(model: TrainModel, lora: LoraWeights, batch: Batch): Promise<Float32Array> {
  checkBatch(model.config, batch);
  const s = sharedInputs(model, batch);
  const { last } = await forwardLayers(model, lora, batch, s);
  const head = await model.logits();
  return dataOf(await head.run({ [headIo.hidden]: f32(last, s.hiddenDims) }), headIo.logits);
}

/** The loss alone (no backward), Σ w · (−log p) as forwardBackward gives it: for held-out evaluation. */
export async function forwardLoss(model: TrainModel, lora: LoraWeights, batch: Batch, opts: StepOptions = {}): Promise<{ loss: number; tokens: number }> {
  checkBatch(model.config, batch);
  const s = sharedInputs(model, batch);
  const { last } = await forwardLayers(model, lora, batch, s);
  const { targets, weights, count } = lossInputs(batch, opts.normalizer);
  const head = await model.loss.run({
    [headIo.hidden]: f32(last, s.hiddenDims),
    [headIo.targets]: i64(targets, [batch.batch, batch.seq]),
    [headIo.weights]: f32(weights, [batch.batch, batch.seq]),
  });
  return { loss: dataOf(head, headIo.loss)[0], tokens: count };
}
