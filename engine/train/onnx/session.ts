// An onnxruntime-node session over a model built by GraphBuilder, with the CPU settings the trainer wants and a
// dispose() that is safe to call twice.

import * as ort from 'onnxruntime-node';
import type { EncodedModel } from './builder';

export interface SessionOptions {
  /** Intra-op threads (default: ORT's choice, one per core). */
  threads?: number;
}

export type Feeds = Record<string, ort.Tensor>;

export class GraphSession {
  private session: ort.InferenceSession | undefined;

  private constructor(
    session: ort.InferenceSession,
    readonly name: string,
  ) {
    this.session = session;
  }

  static async create(name: string, model: EncodedModel, options: SessionOptions = {}): Promise<GraphSession> {
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      // Without these, every session keeps an arena sized to its largest run and a pre-planned block per input shape:
      // 17+ sessions of a run then hold a working set each (peak RSS measured 1,446 MiB on the small fixture's bench
      // batch, against 689 MiB without); the system allocator hands each run's memory back, at no measured cost in speed.
      enableCpuMemArena: false,
      enableMemPattern: false,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...(model.externalData.length ? { externalData: model.externalData } : {}),
    });
    return new GraphSession(session, name);
  }

  /** Runs the graph; with `fetches`, only those outputs are computed and returned. */
  async run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    if (!this.session) throw new Error(`session ${this.name} was disposed; build the model again`);
    return fetches ? this.session.run(feeds, [...fetches]) : this.session.run(feeds);
  }

  get outputNames(): readonly string[] {
    if (!this.session) throw new Error(`session ${this.name} was disposed; build the model again`);
    return this.session.outputNames;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}

export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function i64(data: BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims);
}

/** The float32 data of an output, checked. */
export function dataOf(outputs: Record<string, ort.Tensor>, name: string): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`graph output ${name} is missing or not float32`);
  return t.data;
}
