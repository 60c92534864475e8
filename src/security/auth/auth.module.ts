import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { GATEWAY_CONFIG } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { ApiKeyAuthGuard } from './api-key-auth.guard';
import { ApiKeyStore } from './api-key-store';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthService } from './auth.service';
import { InMemoryApiKeyStore } from './in-memory-api-key-store';

/**
 * Authentication: `AuthService` for the proxy path, `ApiKeyAuthGuard` for gateway-owned
 * endpoints, and the `ApiKeyStore` both use. Keys come from `API_KEYS_FILE`; a Redis store (admin
 * and scale-out issues) replaces the `ApiKeyStore` provider and nothing else.
 */
@Module({
  imports: [PassportModule],
  providers: [
    {
      provide: ApiKeyStore,
      useFactory: (config: GatewayConfig) => new InMemoryApiKeyStore(config.auth.apiKeys),
      inject: [GATEWAY_CONFIG],
    },
    AuthService,
    ApiKeyStrategy,
    ApiKeyAuthGuard,
  ],
  exports: [AuthService, ApiKeyStore, ApiKeyAuthGuard],
})
export class AuthModule {}
