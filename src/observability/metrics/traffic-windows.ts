import type { LatencySummary } from '../traffic-stats.types';

/** Upper bounds (ms) of the buckets behind the latency percentiles; one overflow bucket follows. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000,
  3000, 5000, 10_000, 30_000, 60_000,
];
const BUCKETS = LATENCY_BOUNDS_MS.length + 1;
/** 12 slots of 5 s: the percentiles cover the last 55–60 s. */
const LAT_SLOTS = 12;
const LAT_SLOT_MS = 5000;

/**
 * Latency over the last minute in fixed buckets: recording is one slot check and one increment,
 * memory is constant, and percentiles are read from counts (interpolated inside a bucket, as
 * Prometheus' histogram_quantile does), never from per-request samples.
 */
export class LatencyWindow {
  private readonly counts = new Uint32Array(LAT_SLOTS * BUCKETS);
  private readonly max = new Float64Array(LAT_SLOTS);
  private readonly period = new Float64Array(LAT_SLOTS).fill(-1);

  record(ms: number, nowMs: number): void {
    const p = Math.floor(nowMs / LAT_SLOT_MS);
    const slot = p % LAT_SLOTS;
    if (this.period[slot] !== p) {
      this.counts.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
      this.max[slot] = 0;
      this.period[slot] = p;
    }
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) {
      i++;
    }
    this.counts[slot * BUCKETS + i]++;
    if (ms > this.max[slot]) {
      this.max[slot] = ms;
    }
  }

  summary(nowMs: number): LatencySummary {
    const current = Math.floor(nowMs / LAT_SLOT_MS);
    const merged = new Float64Array(BUCKETS);
    let total = 0;
    let max = 0;
    for (let s = 0; s < LAT_SLOTS; s++) {
      const p = this.period[s];
      if (p < 0 || p <= current - LAT_SLOTS || p > current) {
        continue;
      }
      for (let i = 0; i < BUCKETS; i++) {
        const n = this.counts[s * BUCKETS + i];
        merged[i] += n;
        total += n;
      }
      if (this.max[s] > max) {
        max = this.max[s];
      }
    }
    if (total === 0) {
      return { p50: 0, p90: 0, p99: 0, max: 0 };
    }
    return {
      p50: quantile(merged, total, 0.5, max),
      p90: quantile(merged, total, 0.9, max),
      p99: quantile(merged, total, 0.99, max),
      max: round(max),
    };
  }
}

function quantile(counts: Float64Array, total: number, q: number, max: number): number {
  const rank = q * total;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (n > 0 && acc + n >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      const upper = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : max;
      const v = lower + (Math.min(upper, max) - lower) * ((rank - acc) / n);
      // Never report more than was seen: a bucket's upper bound can exceed the real maximum.
      return round(Math.min(Math.max(v, 0), max));
    }
    acc += n;
  }
  return round(max);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** 1-second slots over the last 10 s. */
const RATE_SLOTS = 10;

/** Requests and errors per second over the last 10 s: a ring of per-second counts. */
export class RateWindow {
  private readonly requests = new Float64Array(RATE_SLOTS);
  private readonly errors = new Float64Array(RATE_SLOTS);
  private readonly second = new Float64Array(RATE_SLOTS).fill(-1);

  record(isError: boolean, nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    const slot = sec % RATE_SLOTS;
    if (this.second[slot] !== sec) {
      this.second[slot] = sec;
      this.requests[slot] = 0;
      this.errors[slot] = 0;
    }
    this.requests[slot]++;
    if (isError) {
      this.errors[slot]++;
    }
  }

  /**
   * Counts in the current second and the 9 before it, divided by the time they span (less when
   * the process is younger than that, so a fresh gateway does not under-report).
   */
  rates(nowMs: number, sinceMs: number): { requestsPerSecond: number; errorsPerSecond: number } {
    const sec = Math.floor(nowMs / 1000);
    let requests = 0;
    let errors = 0;
    for (let s = 0; s < RATE_SLOTS; s++) {
      const at = this.second[s];
      if (at > sec - RATE_SLOTS && at <= sec) {
        requests += this.requests[s];
        errors += this.errors[s];
      }
    }
    const windowMs = Math.min(RATE_SLOTS * 1000 - 1000 + (nowMs - sec * 1000), nowMs - sinceMs);
    const seconds = Math.max(windowMs, 1000) / 1000;
    return {
      requestsPerSecond: Math.round((requests / seconds) * 100) / 100,
      errorsPerSecond: Math.round((errors / seconds) * 100) / 100,
    };
  }
}
