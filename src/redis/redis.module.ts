import { Global, Module } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { planRedisConnection } from './redis-connection';
import { RedisService } from './redis.service';

/**
 * Provides the one {@link RedisService}. It is always injectable: without `REDIS_URL` /
 * `REDIS_ADDR` its `client` is undefined and `isReady` false, so consumers need no optional
 * injection and pick in-memory state by checking the service.
 */
@Global()
@Module({
  providers: [
    {
      provide: RedisService,
      useFactory: (config: GatewayConfig) =>
        new RedisService({ connection: planRedisConnection(config.redis) }),
      inject: [GATEWAY_CONFIG],
    },
  ],
  exports: [RedisService],
})
export class RedisModule {}
