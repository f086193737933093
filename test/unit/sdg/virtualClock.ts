// A clock for retry and backoff tests: sleeping records the wait and moves time forward instead of waiting.
// Overlapping sleeps overlap, as they would on a wall clock: each wakes at (its start + ms), never earlier.
import type { Clock } from '../../../engine/sdg/teachers/clock';

export class VirtualClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    const wakeAt = this.time + Math.max(0, ms);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      setImmediate(() => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return;
        this.time = Math.max(this.time, wakeAt);
        resolve();
      });
    });
  }
}
