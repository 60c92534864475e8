import type { Redis } from 'ioredis';
import type { RedisService } from '../../redis/redis.service';
import type { MemoryBucketStore } from './memory-bucket-store';
import type { BucketTake, RateLimitStorage } from './rate-limit-storage.interface';

/**
 * One atomic token-bucket take. Redis runs a script to completion before any other command, so
 * replicas racing on one key are serialised: never two takes of the same last token.
 *
 * Time comes from Redis `TIME`, not from the replicas, so their clock skew cannot refill a
 * shared bucket. (Since Redis 5 scripts replicate their effects, so a non-deterministic `TIME`
 * before writes is allowed.) The hash holds the level `t` and the time `ts` in ms; it expires
 * when the bucket would be full again, because a missing bucket starts full: idle clients cost
 * Redis nothing.
 *
 * KEYS[1] bucket key; ARGV[1] rate (tokens/s, may be fractional); ARGV[2] burst (capacity).
 * Returns { allowed (0/1), tokens left as a string (Lua numbers would be truncated to integers) }.
 */
export const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then
  elapsed = 0
end
tokens = math.min(burst, tokens + elapsed * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) * 1000 / rate)))
return { allowed, tostring(tokens) }
`;

const COMMAND = 'gatewayTokenBucket';

interface TokenBucketCommands {
  [COMMAND](key: string, rate: number, burst: number): Promise<[number, string]>;
}

export interface RedisBucketStoreOptions {
  /** While Redis is unavailable: deny everything (true) or use `fallback` (false). */
  failClosed: boolean;
  /** Namespace of the bucket keys. @default 'gw:rl:' */
  keyPrefix?: string;
}

const DENIED: BucketTake = { allowed: false, tokens: 0 };

/**
 * Buckets in Redis, shared by every replica, with the per-replica {@link MemoryBucketStore} as
 * the fallback while Redis is down (fail-open; `RATE_LIMIT_FAIL_CLOSED` denies instead). During
 * an outage each replica enforces the limit on its own, so a client spread over N replicas gets
 * up to N times its budget: better than refusing all traffic because a cache is down.
 *
 * The script is sent once and then run by SHA (ioredis `defineCommand` uses EVALSHA and falls
 * back to EVAL on NOSCRIPT, e.g. after a Redis restart).
 */
export class RedisBucketStore implements RateLimitStorage {
  private readonly keyPrefix: string;
  private readonly failClosed: boolean;
  private readonly commands: TokenBucketCommands | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly fallback: MemoryBucketStore,
    options: RedisBucketStoreOptions,
  ) {
    this.keyPrefix = options.keyPrefix ?? 'gw:rl:';
    this.failClosed = options.failClosed;
    const client: Redis | undefined = redis.client;
    if (client !== undefined) {
      if (!(COMMAND in client)) {
        client.defineCommand(COMMAND, { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
      }
      this.commands = client as unknown as TokenBucketCommands;
    }
  }

  take(key: string, rate: number, burst: number): BucketTake | Promise<BucketTake> {
    if (this.commands === undefined || !this.redis.isReady) {
      return this.degraded(key, rate, burst);
    }
    return this.commands[COMMAND](this.keyPrefix + key, rate, burst).then(
      ([allowed, tokens]) => ({ allowed: allowed === 1, tokens: Number(tokens) }),
      (error: unknown) => {
        this.redis.reportFailure(error);
        return this.degraded(key, rate, burst);
      },
    );
  }

  private degraded(key: string, rate: number, burst: number): BucketTake {
    return this.failClosed ? DENIED : this.fallback.take(key, rate, burst);
  }
}
