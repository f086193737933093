// The servers of one remote teacher, and which one takes the next request. Each endpoint has its own limit of
// requests in flight; a request waits (FIFO-ish, abortable) until some endpoint that is up has room. An endpoint that
// cannot be reached is marked down for a while (doubling with each consecutive failure, up to a ceiling) and the
// others carry on; when its time is up, one request probes it (half-open) before it takes its full share again.
// An endpoint that answered 429 cools down for its Retry-After. Time comes from a Clock, so tests need not wait.
import { abortReason, type Clock } from './clock';

export type EndpointPolicy = 'least-busy' | 'round-robin';

export interface PoolEndpoint {
  readonly index: number;
  /** Base URL requests go to (ends in /v1 usually), without credentials. */
  readonly url: string;
  readonly limit: number;
  inFlight: number;
  /** Not given requests before this time (down or cooling down). */
  availableAt: number;
  /** Consecutive connection failures; > 0 means the endpoint is down or being probed. */
  failures: number;
  /** Why it is down, for health reports and the final error. */
  problem?: string;
  /** Requests that got an answer from this endpoint. */
  answered: number;
}

export interface EndpointPoolOptions {
  policy?: EndpointPolicy;
  /** First down period after a connection failure; doubles with each further one. */
  downBaseMs?: number;
  downMaxMs?: number;
}

export class EndpointPool {
  readonly endpoints: PoolEndpoint[];
  private readonly policy: EndpointPolicy;
  private readonly downBaseMs: number;
  private readonly downMaxMs: number;
  private cursor = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    endpoints: readonly { url: string; limit: number }[],
    private readonly clock: Clock,
    options: EndpointPoolOptions = {},
  ) {
    if (endpoints.length === 0) throw new RangeError('a remote teacher needs at least one endpoint URL');
    this.endpoints = endpoints.map((e, index) => {
      if (!Number.isInteger(e.limit) || e.limit < 1) throw new RangeError(`concurrency for ${e.url} must be a whole number of 1 or more, got ${e.limit}`);
      return { index, url: e.url, limit: e.limit, inFlight: 0, availableAt: 0, failures: 0, answered: 0 };
    });
    this.policy = options.policy ?? 'least-busy';
    this.downBaseMs = options.downBaseMs ?? 1000;
    this.downMaxMs = options.downMaxMs ?? 60_000;
  }

  /** Requests in flight over all endpoints. */
  get inFlight(): number {
    return this.endpoints.reduce((n, e) => n + e.inFlight, 0);
  }

  isUp(e: PoolEndpoint, now = this.clock.now()): boolean {
    return e.failures === 0 && e.availableAt <= now;
  }

  /** Waits for an endpoint with room and takes a slot on it; give it back with release(). */
  async acquire(signal?: AbortSignal): Promise<PoolEndpoint> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const now = this.clock.now();
      const e = this.pick(now);
      if (e) {
        e.inFlight++;
        return e;
      }
      // Nothing usable now. Endpoints with room that are only waiting out a down or cool-down period tell when to
      // look again; otherwise a release (or a state change) wakes us.
      let wakeAt = Infinity;
      for (const c of this.endpoints) if (c.inFlight < c.limit && c.availableAt > now) wakeAt = Math.min(wakeAt, c.availableAt);
      await this.waitForChange(signal, wakeAt === Infinity ? undefined : wakeAt - now);
    }
  }

  release(e: PoolEndpoint): void {
    e.inFlight = Math.max(0, e.inFlight - 1);
    this.notify();
  }

  /** The endpoint answered: it is up again if it was down. Returns true when it was. */
  succeeded(e: PoolEndpoint): boolean {
    e.answered++;
    if (e.failures === 0) return false;
    e.failures = 0;
    e.problem = undefined;
    e.availableAt = Math.min(e.availableAt, this.clock.now());
    this.notify();
    return true;
  }

  /**
   * The endpoint could not be reached. Returns how long it is now down for (0 when another request had already
   * marked it down: concurrent failures of one outage count once).
   */
  markDown(e: PoolEndpoint, problem: string): number {
    const now = this.clock.now();
    e.problem = problem;
    if (e.failures > 0 && e.availableAt > now) return 0;
    e.failures++;
    const ms = Math.min(this.downMaxMs, this.downBaseMs * 2 ** (e.failures - 1));
    e.availableAt = now + ms;
    this.notify();
    return ms;
  }

  /** The endpoint asked us to slow down (429): give it no request for `ms`. */
  coolDown(e: PoolEndpoint, ms: number): void {
    e.availableAt = Math.max(e.availableAt, this.clock.now() + Math.max(0, ms));
    this.notify();
  }

  private pick(now: number): PoolEndpoint | undefined {
    const n = this.endpoints.length;
    let best: PoolEndpoint | undefined;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const e = this.endpoints[(this.cursor + k) % n];
      if (e.availableAt > now || e.inFlight >= e.limit) continue;
      // A down endpoint whose time is up gets one probing request at a time.
      if (e.failures > 0 && e.inFlight > 0) continue;
      if (this.policy === 'round-robin') {
        best = e;
        break;
      }
      const load = e.inFlight / e.limit;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    if (best) this.cursor = (best.index + 1) % n;
    return best;
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  private waitForChange(signal: AbortSignal | undefined, ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = new AbortController();
      const cleanup = () => {
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        timer.abort();
      };
      const wake = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(abortReason(signal!));
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ms !== undefined) this.clock.sleep(ms, timer.signal).then(wake, () => {});
    });
  }
}
