import { Inject, Injectable } from '@nestjs/common';
import type { RateDecision } from './rate-limit-headers';
import { RATE_LIMIT_OPTIONS, type RateLimitOptions } from './rate-limit.constants';
import { type BucketTake, RateLimitStorage } from './rate-limit-storage.interface';

/**
 * Token-bucket rate limiting per key (a client IP, an API key, `route:ip`…), over whichever
 * {@link RateLimitStorage} the module chose (memory, or Redis shared by all replicas).
 *
 * With the defaults (100/s, burst 200) a client that was idle gets 200 requests at once, the
 * 201st is denied, and from then on 100 per second are admitted: the semantics of Go's
 * `golang.org/x/time/rate` limiter that the original gateway used (seed-spec §3.2).
 *
 * @publicApi
 */
@Injectable()
export class RateLimitService {
  private readonly rate: number;
  private readonly burst: number;

  constructor(
    @Inject(RateLimitStorage) private readonly storage: RateLimitStorage,
    @Inject(RATE_LIMIT_OPTIONS) options: RateLimitOptions,
  ) {
    this.rate = options.rate;
    this.burst = options.burst;
  }

  /**
   * Takes one token from `key`'s bucket.
   *
   * Synchronous with the in-memory store and while Redis is down; a promise only when Redis is
   * asked. Never rejects: Redis errors fall back (or deny, with `RATE_LIMIT_FAIL_CLOSED`).
   *
   * @param rate tokens per second (> 0), default `MAX_REQUESTS_PER_SECOND`
   * @param burst capacity (>= 1), default `MAX_BURST_SIZE`
   * @param policy name in the `RateLimit` headers; default `default` for the default limits and
   *   `route` otherwise (pass the route name for something more useful)
   */
  consume(
    key: string,
    rate: number = this.rate,
    burst: number = this.burst,
    policy?: string,
  ): RateDecision | Promise<RateDecision> {
    const name = policy ?? (rate === this.rate && burst === this.burst ? 'default' : 'route');
    const taken = this.storage.take(key, rate, burst);
    return taken instanceof Promise
      ? taken.then((result) => toDecision(result, rate, burst, name))
      : toDecision(taken, rate, burst, name);
  }
}

/** Turns a bucket level into the numbers clients see; shared with the throttler storage. */
export function toDecision(
  taken: BucketTake,
  rate: number,
  burst: number,
  policy: string,
): RateDecision {
  const tokens = taken.tokens > 0 ? taken.tokens : 0;
  return {
    allowed: taken.allowed,
    limit: burst,
    remaining: Math.floor(tokens),
    // Float error can leave a full bucket at 199.9999…; ceil would then claim 1 s.
    resetSeconds: Math.max(0, Math.ceil((burst - tokens) / rate - 1e-9)),
    retryAfterSeconds: taken.allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate)),
    policy,
    windowSeconds: Math.ceil(burst / rate),
  };
}
