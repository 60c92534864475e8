import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimitStorage } from './rate-limit-storage.interface';
import { toDecision } from './rate-limit.service';

/** Not exported by the package's entry point; derived so a deep import is not needed. */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Lets Nest's `ThrottlerGuard` (for the gateway's own endpoints, e.g. the admin API) use the same
 * token buckets as the proxy, in memory or in Redis, instead of @nestjs/throttler's window store.
 *
 * Mapping of a throttler `{ limit, ttl }` (ttl in ms) onto a bucket:
 * - `limit` → burst: a client that was idle may send `limit` requests at once;
 * - `limit / ttl` → rate: `limit` tokens refill per `ttl`, so the sustained rate is the one the
 *   throttler config states, without the 2× burst a fixed window allows at its edge.
 * - `blockDuration` is ignored: a bucket admits the next request as soon as a token has
 *   refilled; holding a client out longer is the IP filter's flood block.
 *
 * The guard prints `X-RateLimit-Remaining = limit - totalHits`, so totalHits is reported as
 * `limit - tokens left` (and `limit + 1` on a denial); `timeToExpire` is the time until the
 * bucket is full, and `timeToBlockExpire` becomes the guard's `Retry-After`.
 *
 * @publicApi
 */
@Injectable()
export class TokenBucketThrottlerStorage implements ThrottlerStorage {
  constructor(@Inject(RateLimitStorage) private readonly storage: RateLimitStorage) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const burst = Math.max(1, limit);
    const rate = burst / (Math.max(1, ttl) / 1000);
    const taken = await this.storage.take(`throttler:${throttlerName}:${key}`, rate, burst);
    const decision = toDecision(taken, rate, burst, throttlerName);
    return {
      totalHits: decision.allowed ? burst - decision.remaining : burst + 1,
      timeToExpire: decision.resetSeconds,
      isBlocked: !decision.allowed,
      timeToBlockExpire: decision.retryAfterSeconds,
    };
  }
}
