// The ONNX sessions a training run uses: per decoder layer a forward and a backward (recomputing) graph, plus the
// head's loss graph and, built on first use, its logits graph. Which modules carry LoRA (and their ranks) is fixed
// when the sessions are built; the LoRA values are fed at every run.

import type { ModelConfig } from '../model/config';
import { validateConfig } from '../model/config';
import { loadWeightSource, requireTensor, type Float32TensorReader, type LinearModule, type WeightSource } from '../model/weights';
import { buildLogits, buildLoss } from './graphs/head';
import { buildLayerBackward, buildLayerForward, type LayerSpec, type ModuleLora } from './graphs/layer';
import { checkDropout } from './dropout';
import type { LoraWeights } from './lora';
import { GraphSession, type SessionOptions } from './onnx/session';

export interface TrainModelOptions extends SessionOptions {
  /** Builds the frozen base of each linear (QLoRA passes a 4-bit one). */
  baseLinear?: LayerSpec['baseLinear'];
  /** LoRA dropout probability during training (default 0: the graphs have no dropout inputs). */
  loraDropout?: number;
  /**
   * Gradient checkpointing (default true): each backward graph recomputes its layer's forward from the layer's input.
   * false keeps every layer's activations from the forward instead (less compute, far more memory).
   */
  checkpointing?: boolean;
}

/**
 * Where the frozen base comes from: tensors already in memory, or a reader that build reads layer by layer (the
 * sessions copy what they need, so the whole base is never held in JavaScript as well: about 4 bytes per parameter).
 */
export type BaseWeights = WeightSource | { reader: Float32TensorReader };

/** The tensors the head's graphs need, kept for the logits graph built on demand. */
const headTensor = /^(model\.norm\.weight|lm_head\.weight|model\.embed_tokens\.weight)$/;

async function weightsWhere(base: BaseWeights, keep: (name: string) => boolean): Promise<WeightSource> {
  return 'reader' in base ? loadWeightSource(base.reader, keep) : base;
}

export interface LayerSessions {
  forward: GraphSession;
  backward: GraphSession;
  /** Rank and scale of each adapted module, as the graphs were built. */
  lora: ReadonlyMap<LinearModule, ModuleLora>;
}

export class TrainModel {
  private logitsSession: Promise<GraphSession> | undefined;
  private disposed = false;
  /** LoRA dropout probability the graphs were built for (0: none). */
  readonly dropout: number;
  /** Whether backward graphs recompute the forward (true) or take the forward's saved activations. */
  readonly checkpointing: boolean;

  private constructor(
    readonly config: ModelConfig,
    readonly weights: WeightSource,
    readonly embedTable: Float32Array,
    readonly layers: readonly LayerSessions[],
    readonly loss: GraphSession,
    private readonly options: TrainModelOptions,
  ) {
    this.dropout = options.loraDropout ?? 0;
    this.checkpointing = options.checkpointing ?? true;
  }

  /** Builds and loads every layer's graphs for LoRA shaped as `lora` (its values may change freely later). */
  static async build(config: ModelConfig, base: BaseWeights, lora: LoraWeights, options: TrainModelOptions = {}): Promise<TrainModel> {
    validateConfig(config);
    checkDropout(options.loraDropout ?? 0);
    const weights = await weightsWhere(base, (n) => headTensor.test(n));
    const embedTable = requireTensor(weights, 'model.embed_tokens.weight', [config.vocab, config.hidden]);
    const layers: LayerSessions[] = [];
    try {
      for (let layer = 0; layer < config.layers; layer++) {
        const prefix = `model.layers.${layer}.`;
        const layerWeights = await weightsWhere(base, (n) => n.startsWith(prefix));
        const loraMap = new Map<LinearModule, ModuleLora>(lora.ofLayer(layer).map((m) => [m.module, { rank: m.rank, scale: m.scale }]));
        const spec: LayerSpec = { config, layer, weights: layerWeights, lora: loraMap, baseLinear: options.baseLinear, dropout: (options.loraDropout ?? 0) > 0, checkpointing: options.checkpointing };
        const forward = await GraphSession.create(`layer ${layer} forward`, buildLayerForward(spec), options);
        const backward = await GraphSession.create(`layer ${layer} backward`, buildLayerBackward(spec), options).catch(async (err) => {
          await forward.dispose();
          throw err;
        });
        layers.push({ forward, backward, lora: loraMap });
      }
      const loss = await GraphSession.create('loss head', buildLoss(config, weights), options);
      return new TrainModel(config, weights, embedTable, layers, loss, options);
    } catch (err) {
      for (const l of layers) {
        await l.forward.dispose();
        await l.backward.dispose();
      }
      throw err;
    }
  }

  /** The logits head, built on first use. */
  logits(): Promise<GraphSession> {
    if (this.disposed) throw new Error('TrainModel was disposed');
    this.logitsSession ??= GraphSession.create('logits head', buildLogits(this.config, this.weights), this.options);
    return this.logitsSession;
  }

  /** Releases every session; safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const l of this.layers) {
      await l.forward.dispose();
      await l.backward.dispose();
    }
    await this.loss.dispose();
    if (this.logitsSession) await (await this.logitsSession).dispose();
  }
}
