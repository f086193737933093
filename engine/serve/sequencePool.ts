// A fixed set of context sequences shared by the requests to one model id. A request takes a free sequence, or waits
// in a bounded FIFO queue for one; past the queue it is refused at once (the server answers 429), so a flood of
// requests costs memory for `queueLimit` waiters and no more.

export interface Lease<T> {
  readonly item: T;
  /** Returns the item to the pool (or hands it to the first waiter); safe to call twice. */
  release(): void;
}

interface Waiter<T> {
  resolve(lease: Lease<T>): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class QueueFullError extends Error {
  constructor() {
    super('the queue is full');
    this.name = 'QueueFullError';
  }
}

export class SequencePool<T> {
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closed = false;

  constructor(
    private readonly items: readonly T[],
    readonly queueLimit: number,
  ) {
    if (items.length === 0) throw new RangeError('a pool needs at least one item');
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError(`queue limit ${queueLimit} is not a whole number`);
    this.free = [...items];
  }

  get size(): number {
    return this.items.length;
  }

  get busy(): number {
    return this.items.length - this.free.length;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * A free item, chosen by `pick` among the free ones (default the first), or the next one released when none is
   * free. Rejects with QueueFullError when the queue is full, and with the signal's reason when it aborts first.
   */
  acquire(signal?: AbortSignal, pick?: (free: readonly T[]) => number): Promise<Lease<T>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(new Error('the pool is closed'));
    if (this.free.length > 0) {
      const i = pick ? Math.max(0, Math.min(this.free.length - 1, pick(this.free))) : 0;
      const [item] = this.free.splice(i, 1);
      return Promise.resolve(this.lease(item));
    }
    if (this.waiters.length >= this.queueLimit) return Promise.reject(new QueueFullError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Refuses new requests and fails every waiter with `reason`; leased items stay out until released. */
  close(reason: unknown): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(reason);
    }
  }

  private lease(item: T): Lease<T> {
    let released = false;
    return {
      item,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) {
          if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
          next.resolve(this.lease(item));
        } else {
          this.free.push(item);
        }
      },
    };
  }
}
