import { Module } from '@nestjs/common';
import { RedisModule } from '../../redis/redis.module';
import { RedisService } from '../../redis/redis.service';
import { GATEWAY_CONFIG } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { MemoryBucketStore } from './memory-bucket-store';
import { RedisBucketStore } from './redis-bucket-store';
import { RATE_LIMIT_OPTIONS, type RateLimitOptions } from './rate-limit.constants';
import { RateLimitService } from './rate-limit.service';
import { RateLimitStorage } from './rate-limit-storage.interface';
import { TokenBucketThrottlerStorage } from './token-bucket-throttler.storage';

/**
 * Token-bucket rate limiting. The storage is chosen once, at boot, by a provider factory
 * (conventions §4: topology is an options field, not a module-level `if`): Redis when
 * `REDIS_URL`/`REDIS_ADDR` is set, with the in-memory store as its outage fallback; otherwise
 * the in-memory store alone.
 */
@Module({
  imports: [RedisModule],
  providers: [
    {
      provide: RATE_LIMIT_OPTIONS,
      useFactory: (config: GatewayConfig): RateLimitOptions => ({
        rate: config.security.maxRequestsPerSecond,
        burst: config.security.maxBurstSize,
      }),
      inject: [GATEWAY_CONFIG],
    },
    {
      provide: MemoryBucketStore,
      useFactory: (config: GatewayConfig) =>
        new MemoryBucketStore({ maxKeys: config.security.rateLimitMaxKeys }),
      inject: [GATEWAY_CONFIG],
    },
    {
      provide: RateLimitStorage,
      useFactory: (redis: RedisService, memory: MemoryBucketStore, config: GatewayConfig) =>
        redis.client === undefined
          ? memory
          : new RedisBucketStore(redis, memory, {
              failClosed: config.security.rateLimitFailClosed,
            }),
      inject: [RedisService, MemoryBucketStore, GATEWAY_CONFIG],
    },
    RateLimitService,
    TokenBucketThrottlerStorage,
  ],
  exports: [RateLimitService, RateLimitStorage, TokenBucketThrottlerStorage, RATE_LIMIT_OPTIONS],
})
export class RateLimitModule {}
