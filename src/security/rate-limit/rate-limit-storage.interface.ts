/** What one take from a token bucket returns. */
export interface BucketTake {
  /** A token was available and has been taken. */
  allowed: boolean;
  /** Tokens left after this take (fractional: refill is continuous). */
  tokens: number;
}

/**
 * Where token buckets live: in this process (`MemoryBucketStore`) or in Redis, shared by every
 * replica (`RedisBucketStore`). Synchronous when the answer is local, so the proxy hot path only
 * allocates a promise when it really waits on Redis.
 *
 * Bucket semantics (both stores): a bucket starts full with `burst` tokens; it refills
 * continuously at `rate` tokens per second up to `burst`; each request takes one token or is
 * denied. A key's `rate`/`burst` may change between calls (config reload); the stored level is
 * kept and clamped to the new `burst`.
 */
export interface RateLimitStorage {
  take(key: string, rate: number, burst: number): BucketTake | Promise<BucketTake>;
}

/** DI token of the {@link RateLimitStorage}; shares the interface's name like `ThrottlerStorage`. */
export const RateLimitStorage = Symbol('RateLimitStorage');
