import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type Clock, monotonicClock } from '../../common/clock';
import { GenerationalMap } from '../../common/generational-map';
import type { BucketTake, RateLimitStorage } from './rate-limit-storage.interface';

export interface MemoryBucketStoreOptions {
  /**
   * Most buckets kept. Beyond it the least recently used ones are dropped (they restart full if
   * their clients come back), which bounds memory under a flood of distinct keys (seed-spec D15).
   * @default 100000
   */
  maxKeys?: number;
  /** Milliseconds source; monotonic by default so wall-clock steps never refill a bucket. */
  clock?: Clock;
  /** How often idle full buckets are swept while the module runs. @default 60000 */
  sweepIntervalMs?: number;
}

interface Bucket {
  /** Tokens at `at`, after the last take. */
  tokens: number;
  /** Clock time of the last take. */
  at: number;
  /** Clock time from which the bucket is full again: from then on it equals a missing bucket. */
  fullAt: number;
}

/** The "cap reached" warning is repeated at most this often. */
const CAP_WARNING_INTERVAL_MS = 10 * 60_000;

/**
 * Token buckets in this process: O(1) per request, no timer per key, refilled lazily on access.
 *
 * Memory is bounded two ways (seed-spec D15):
 * - idle: a bucket that has refilled to full carries no information (a missing key starts
 *   full), so a periodic sweep drops full buckets;
 * - cap: a {@link GenerationalMap} holds at most `maxKeys` buckets and forgets the least
 *   recently used half when full, in O(1), even under a flood of distinct IPs.
 *
 * Single-threaded JS runs each take to completion, so a bucket is never read and written by two
 * requests at once: no lock, and no analogue of the Go gateway's map race (D5).
 */
export class MemoryBucketStore implements RateLimitStorage, OnModuleInit, OnModuleDestroy {
  private readonly buckets: GenerationalMap<Bucket>;
  private readonly logger = new Logger(MemoryBucketStore.name);
  private readonly maxKeys: number;
  private readonly clock: Clock;
  private readonly sweepIntervalMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lastCapWarning = -Infinity;
  private capEvictions = 0;

  constructor(options: MemoryBucketStoreOptions = {}) {
    this.maxKeys = Math.max(2, options.maxKeys ?? 100_000);
    this.clock = options.clock ?? monotonicClock;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.buckets = new GenerationalMap(this.maxKeys, (dropped) => this.onDrop(dropped));
  }

  /** Buckets currently held. */
  get size(): number {
    return this.buckets.size;
  }

  /** Buckets dropped by the cap while they still held state (not yet refilled to full). */
  get evictedByCap(): number {
    return this.capEvictions;
  }

  take(key: string, rate: number, burst: number): BucketTake {
    const now = this.clock();
    let bucket = this.buckets.get(key);
    let tokens: number;
    if (bucket === undefined) {
      tokens = burst;
      bucket = { tokens, at: now, fullAt: now };
      this.buckets.set(key, bucket);
    } else {
      const elapsed = now > bucket.at ? now - bucket.at : 0;
      tokens = Math.min(burst, bucket.tokens + (elapsed * rate) / 1000);
    }
    const allowed = tokens >= 1;
    if (allowed) {
      tokens -= 1;
    }
    // Updated in place: no allocation per request for a known key.
    bucket.tokens = tokens;
    bucket.at = now;
    bucket.fullAt = now + ((burst - tokens) * 1000) / rate;
    return { allowed, tokens };
  }

  /** Drops every bucket that has refilled to full. O(n); runs off the request path. */
  sweep(now: number = this.clock()): number {
    return this.buckets.deleteWhere((bucket) => bucket.fullAt <= now);
  }

  clear(): void {
    this.buckets.clear();
  }

  onModuleInit(): void {
    // Also provided as the RateLimitStorage, so Nest may call this twice for one instance.
    if (this.sweepTimer !== undefined) {
      return;
    }
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** A generation of least recently used buckets is dropped: count the ones that mattered. */
  private onDrop(dropped: ReadonlyMap<string, Bucket>): void {
    const now = this.clock();
    let live = 0;
    for (const bucket of dropped.values()) {
      if (bucket.fullAt > now) {
        live++;
      }
    }
    if (live === 0) {
      return;
    }
    this.capEvictions += live;
    if (now - this.lastCapWarning >= CAP_WARNING_INTERVAL_MS) {
      this.lastCapWarning = now;
      this.logger.warn(
        `rate limiting holds ${this.maxKeys} keys (RATE_LIMIT_MAX_KEYS); dropped ${live} least recently used buckets that were still refilling`,
      );
    }
  }
}
