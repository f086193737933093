// Units per second over a sliding window, and the ETA it gives. Times come from the caller (seconds on any
// monotonic clock), so the arithmetic is testable without waiting.

export interface RateOptions {
  /** How far back the rate looks, in seconds: long enough to smooth bursts, short enough to follow a change. */
  windowSeconds?: number;
  /** The least span of samples a rate is computed from: fewer seconds say more about noise than speed. */
  minSpanSeconds?: number;
}

export class RateMeter {
  private readonly samples: { t: number; done: number }[] = [];
  private readonly windowSeconds: number;
  private readonly minSpanSeconds: number;

  constructor(options: RateOptions = {}) {
    this.windowSeconds = options.windowSeconds ?? 30;
    this.minSpanSeconds = options.minSpanSeconds ?? 0.5;
  }

  /** Records that `done` units were finished at time `t` (seconds). */
  sample(t: number, done: number): void {
    const last = this.samples[this.samples.length - 1];
    // A resumed job or a new stage may count from a lower number: measure from there.
    if (last && done < last.done) this.samples.length = 0;
    this.samples.push({ t, done });
    // Keep one sample older than the window as its left edge.
    while (this.samples.length > 2 && this.samples[1].t <= t - this.windowSeconds) this.samples.shift();
  }

  /** Units per second over the window; undefined until the samples span minSpanSeconds. */
  rate(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const span = last.t - first.t;
    if (span < this.minSpanSeconds) return undefined;
    return (last.done - first.done) / span;
  }

  /** Seconds left at the current rate; undefined without a total or a positive rate. */
  etaSeconds(total: number | undefined): number | undefined {
    const rate = this.rate();
    const last = this.samples[this.samples.length - 1];
    if (total === undefined || rate === undefined || rate <= 0 || !last) return undefined;
    return Math.max(0, (total - last.done) / rate);
  }
}
