/**
 * Calls and failures over the last `windowMs`, in `buckets` time slices (Hystrix's rolling
 * statistical window, resilience4j's time-based sliding window). Recording is two array writes;
 * expired slices are dropped lazily when time moves on, so an idle window costs nothing.
 *
 * The window covers between `windowMs - bucketMs` and `windowMs` of history depending on where in
 * the current slice `now` falls, which is the usual trade of a bucketed window for O(1) updates.
 */
export class RollingWindow {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly calls: Uint32Array;
  private readonly failures: Uint32Array;
  /** Index (time / bucketMs) of the newest slice written; -Infinity before the first record. */
  private head = -Infinity;
  private callSum = 0;
  private failureSum = 0;

  constructor(windowMs: number, buckets = 10) {
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    }
    if (!Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(`buckets must be an integer >= 1, got ${buckets}`);
    }
    this.windowMs = windowMs;
    this.bucketMs = windowMs / buckets;
    this.calls = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
  }

  record(failed: boolean, now: number): void {
    const slot = this.advance(now);
    this.calls[slot]++;
    this.callSum++;
    if (failed) {
      this.failures[slot]++;
      this.failureSum++;
    }
  }

  /** Calls recorded in the window ending at `now`. */
  total(now: number): number {
    this.advance(now);
    return this.callSum;
  }

  /** Failures recorded in the window ending at `now`. */
  failed(now: number): number {
    this.advance(now);
    return this.failureSum;
  }

  reset(): void {
    this.calls.fill(0);
    this.failures.fill(0);
    this.callSum = 0;
    this.failureSum = 0;
    this.head = -Infinity;
  }

  /** Drops the slices that fell out of the window; returns the slot of `now`'s slice. */
  private advance(now: number): number {
    const n = this.calls.length;
    const index = Math.floor(now / this.bucketMs);
    if (this.head === -Infinity) {
      this.head = index;
    } else if (index > this.head) {
      // Clear every slice between the old head and the new one (all of them after a long pause).
      const stale = Math.min(n, index - this.head);
      for (let i = 1; i <= stale; i++) {
        const slot = mod(this.head + i, n);
        this.callSum -= this.calls[slot];
        this.failureSum -= this.failures[slot];
        this.calls[slot] = 0;
        this.failures[slot] = 0;
      }
      this.head = index;
    }
    // A clock that steps back (only differences of a monotonic clock are used, but be safe)
    // writes into the current slice rather than an old one.
    return mod(this.head, n);
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
