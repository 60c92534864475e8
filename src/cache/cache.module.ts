import { Module } from '@nestjs/common';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { RoutingModule } from '../routing/routing.module';
import { CACHE_HITS, CACHE_MISSES, CACHE_STALE } from './cache.constants';
import { HttpCacheService } from './http-cache.service';

const counters = [
  makeCounterProvider({
    name: CACHE_HITS,
    help: 'Responses served from the cache (fresh, or revalidated with a 304).',
    labelNames: ['route'],
  }),
  makeCounterProvider({
    name: CACHE_MISSES,
    help: 'Cacheable requests answered by the upstream (not stored, expired, or revalidated with a full response).',
    labelNames: ['route'],
  }),
  makeCounterProvider({
    name: CACHE_STALE,
    help: 'Stale responses served (stale-while-revalidate or stale-if-error).',
    labelNames: ['route'],
  }),
];

/**
 * The shared HTTP cache (RFC 9111) and response compression. The store is in memory (LRU capped
 * in bytes) or, with REDIS_URL, shared by every replica through RedisService (raw ioredis).
 */
@Module({
  imports: [RoutingModule],
  providers: [...counters, HttpCacheService],
  exports: [HttpCacheService],
})
export class CacheModule {}
