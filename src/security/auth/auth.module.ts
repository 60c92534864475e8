import { isRedisConfigured } from '../../config/settings/redis';
import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { RedisModule } from '../../redis/redis.module';
import { RedisService } from '../../redis/redis.service';
import { GATEWAY_CONFIG } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { ApiKeyAuthGuard } from './api-key-auth.guard';
import { ApiKeyStore } from './api-key-store';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthService } from './auth.service';
import { InMemoryApiKeyStore } from './in-memory-api-key-store';
import { RedisApiKeyStore } from './redis-api-key-store';

/**
 * Authentication: `AuthService` for the proxy path, `ApiKeyAuthGuard` for gateway-owned
 * endpoints, and the `ApiKeyStore` both use. Keys come from `API_KEYS_FILE`, plus the Redis hash
 * `gateway:api-keys` shared by every replica when Redis is configured.
 */
@Module({
  imports: [PassportModule, RedisModule],
  providers: [
    {
      provide: ApiKeyStore,
      useFactory: (config: GatewayConfig, redis: RedisService) => {
        const fileKeys = new InMemoryApiKeyStore(config.auth.apiKeys);
        return isRedisConfigured(config.redis) ? new RedisApiKeyStore(fileKeys, redis) : fileKeys;
      },
      inject: [GATEWAY_CONFIG, RedisService],
    },
    AuthService,
    ApiKeyStrategy,
    ApiKeyAuthGuard,
  ],
  exports: [AuthService, ApiKeyStore, ApiKeyAuthGuard],
})
export class AuthModule {}
