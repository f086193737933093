// QuantPool: quantizes (or converts) one large tensor on worker threads. The tensor is cut into chunks of whole
// 256-value blocks (256 is a multiple of every block size), each chunk's bytes are copied into a buffer that is
// transferred to a worker and back, and the results are laid end to end. Blocks never span chunks and every codec is
// deterministic, so the bytes are the ones the single-threaded `convert` gives.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GgmlType } from '../ggmlTypes';
import { codecFor, convert, QuantizeError } from './index';

/** Message to a worker: convert `input` (bytes of type `from`) to type `to`, writing into `output`. */
export interface ChunkRequest {
  id: number;
  from: GgmlType;
  to: GgmlType;
  input: ArrayBuffer;
  /** Exactly the size of the result. Both buffers travel back with the reply and are reused: fresh memory costs a
   * page fault per 4 KiB on first touch, which in some sandboxes is slower than quantizing it. */
  output: ArrayBuffer;
}

/** A worker's answer: the converted bytes in `output` (and `input` back), or what went wrong. */
export type ChunkReply =
  | { id: number; output: ArrayBuffer; input: ArrayBuffer; error?: undefined }
  | { id: number; error: string; quantize?: { typeName: string; index: number; value: number } };

export interface QuantPoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  size?: number;
  /** Values per chunk sent to a worker; rounded up to a multiple of 256. Default: a few chunks per worker, 64Ki..1Mi. */
  chunkValues?: number;
  /** Tensors smaller than this many values are converted on the calling thread. Default 65536. */
  inlineBelow?: number;
  /** The worker script; default resolved next to this module (see workerEntry). */
  workerPath?: string;
}

interface Task {
  from: GgmlType;
  to: GgmlType;
  src: Uint8Array;
  out: Uint8Array;
  pending: number;
  failed: boolean;
  resolve: (out: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Chunk {
  task: Task;
  /** First value of the chunk in the tensor. */
  start: number;
  count: number;
}

interface Slot {
  worker: Worker;
  busy?: { id: number; chunk: Chunk };
}

const BLOCK_LCM = 256;

/**
 * How to start the worker: from the bundle (dist/cli.js, dist/extension.js) it is quant-worker.js beside it; under
 * tsx (tests, benchmarks) it is worker.ts beside this module, loaded through tsx's require hook in a small eval'd
 * bootstrap (Node 20 workers do not pick up `--import tsx` hooks for their entry file).
 */
export function workerEntry(): WorkerEntry {
  if (typeof __filename !== 'string') {
    throw new Error('QuantPool needs __filename to find its worker script; pass options.workerPath');
  }
  if (__filename.endsWith('.ts')) return tsWorker(path.join(path.dirname(__filename), 'worker.ts'));
  return { script: path.join(path.dirname(__filename), 'quant-worker.js'), eval: false };
}

export interface WorkerEntry {
  /** A file to run, or (eval) the source of a bootstrap. */
  script: string;
  eval: boolean;
}

function tsWorker(file: string): WorkerEntry {
  const hook = require.resolve('tsx/cjs');
  return { script: `require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, eval: true };
}

export class QuantPool {
  readonly size: number;
  private readonly chunkValues?: number;
  private readonly inlineBelow: number;
  private readonly entry: WorkerEntry;
  private readonly slots: Slot[] = [];
  private readonly queue: Chunk[] = [];
  private readonly spare = new Map<number, ArrayBuffer[]>();
  private nextId = 1;
  private closed = false;

  constructor(options: QuantPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? os.availableParallelism()));
    this.chunkValues = options.chunkValues;
    this.inlineBelow = options.inlineBelow ?? 65536;
    const file = options.workerPath;
    this.entry = file === undefined ? workerEntry() : file.endsWith('.ts') ? tsWorker(file) : { script: file, eval: false };
  }

  /**
   * Encodes f32 values as `type`; rejects with QuantizeError (tensor-wide element index) on NaN or infinity. The
   * result goes to the start of `into` when given (and `into` is returned), else to a new array.
   */
  quantize(type: GgmlType, src: Float32Array, into?: Uint8Array): Promise<Uint8Array> {
    return this.convert(GgmlType.F32, type, new Uint8Array(src.buffer, src.byteOffset, src.byteLength), into);
  }

  /** Re-encodes tensor data of type `from` as `to` (what convert() in ./index does, spread over the workers). */
  async convert(from: GgmlType, to: GgmlType, bytes: Uint8Array, into?: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new Error('QuantPool is closed');
    const cf = codecFor(from);
    const ct = codecFor(to);
    if (bytes.length % cf.typeSize !== 0) {
      throw new Error(`${cf.name} data is ${cf.typeSize}-byte blocks; ${bytes.length} bytes is not a whole number of them`);
    }
    const count = (bytes.length / cf.typeSize) * cf.blockSize;
    if (count < this.inlineBelow) return convert(from, to, bytes, into);
    if (count % ct.blockSize !== 0) {
      throw new Error(
        `${ct.name} stores blocks of ${ct.blockSize} values; ${count} values is not a whole number of blocks ` +
          '(rows must be a multiple of the block size: pick a type with smaller blocks for this tensor)',
      );
    }
    const len = (count / ct.blockSize) * ct.typeSize;
    if (into && into.length < len) throw new Error(`${ct.name}: destination holds ${into.length} bytes, ${len} needed`);
    const out = into ?? new Uint8Array(len);
    const step = this.chunkSize(count);
    return new Promise<Uint8Array>((resolve, reject) => {
      const task: Task = { from, to, src: bytes, out, pending: 0, failed: false, resolve, reject };
      for (let start = 0; start < count; start += step) {
        this.queue.push({ task, start, count: Math.min(step, count - start) });
        task.pending++;
      }
      this.pump();
    });
  }

  /** Stops the workers; pending conversions are rejected. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('QuantPool closed while converting');
    for (const c of this.queue.splice(0)) this.fail(c.task, err);
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.busy) this.fail(s.busy.chunk.task, err);
    this.spare.clear();
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private chunkSize(count: number): number {
    const wanted = this.chunkValues ?? Math.min(1 << 20, Math.max(1 << 16, Math.ceil(count / (this.size * 4))));
    return Math.ceil(wanted / BLOCK_LCM) * BLOCK_LCM;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const chunk = this.queue[0];
      if (chunk.task.failed) {
        this.queue.shift();
        continue;
      }
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      this.queue.shift();
      this.send(slot, chunk);
    }
  }

  private send(slot: Slot, chunk: Chunk): void {
    const { task } = chunk;
    const cf = codecFor(task.from);
    const ct = codecFor(task.to);
    const begin = (chunk.start / cf.blockSize) * cf.typeSize;
    const len = (chunk.count / cf.blockSize) * cf.typeSize;
    const input = this.takeBuffer(len);
    new Uint8Array(input).set(task.src.subarray(begin, begin + len));
    const output = this.takeBuffer((chunk.count / ct.blockSize) * ct.typeSize);
    const id = this.nextId++;
    slot.busy = { id, chunk };
    slot.worker.ref();
    const req: ChunkRequest = { id, from: task.from, to: task.to, input, output };
    slot.worker.postMessage(req, [input, output]);
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry.script, { eval: this.entry.eval });
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (reply: ChunkReply) => this.onReply(slot, reply));
    worker.on('error', (err) => this.onCrash(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.onCrash(slot, new Error(`quantization worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: ChunkReply): void {
    const busy = slot.busy;
    if (!busy || busy.id !== reply.id) return;
    slot.busy = undefined;
    slot.worker.unref();
    const { task, start } = busy.chunk;
    if (reply.error === undefined) {
      if (!task.failed) {
        const ct = codecFor(task.to);
        task.out.set(new Uint8Array(reply.output), (start / ct.blockSize) * ct.typeSize);
        if (--task.pending === 0) task.resolve(task.out);
      }
      this.giveBuffer(reply.input);
      this.giveBuffer(reply.output);
    } else if (reply.quantize) {
      const q = reply.quantize;
      this.fail(task, new QuantizeError(q.typeName, q.index + start, q.value));
    } else {
      this.fail(task, new Error(`quantization worker failed: ${reply.error}`));
    }
    this.pump();
  }

  private onCrash(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    if (slot.busy) this.fail(slot.busy.chunk.task, err);
    void slot.worker.terminate();
    this.pump();
  }

  private fail(task: Task, err: Error): void {
    if (task.failed) return;
    task.failed = true;
    task.reject(err);
  }

  private takeBuffer(len: number): ArrayBuffer {
    return this.spare.get(len)?.pop() ?? new ArrayBuffer(len);
  }

  private giveBuffer(buf: ArrayBuffer): void {
    const list = this.spare.get(buf.byteLength) ?? [];
    if (list.length < 2 * this.size) list.push(buf);
    this.spare.set(buf.byteLength, list);
  }
}
