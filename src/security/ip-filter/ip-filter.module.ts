import { Module } from '@nestjs/common';
import { RedisModule } from '../../redis/redis.module';
import { RedisService } from '../../redis/redis.service';
import { GATEWAY_CONFIG } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { IpFilterService } from './ip-filter.service';

/**
 * Allow/deny lists and flood blocking. Shares counters and blocks through Redis when
 * `REDIS_URL`/`REDIS_ADDR` is set; in-memory per replica otherwise.
 */
@Module({
  imports: [RedisModule],
  providers: [
    {
      provide: IpFilterService,
      useFactory: (config: GatewayConfig, redis: RedisService) =>
        new IpFilterService(
          {
            allow: config.security.ipWhitelist,
            deny: config.security.ipBlacklist,
            threshold: config.security.ddosThreshold,
            blockDurationMs: config.security.blockDurationMs,
            maxKeys: config.security.rateLimitMaxKeys,
            ipv6Prefix: config.security.rateLimitIpv6Prefix,
          },
          redis,
        ),
      inject: [GATEWAY_CONFIG, RedisService],
    },
  ],
  exports: [IpFilterService],
})
export class IpFilterModule {}
