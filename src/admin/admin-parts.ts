import type { ModuleMetadata, Type } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { HealthModule } from '../health/health.module';
import { RedisModule } from '../redis/redis.module';
import { ReloadModule } from '../reload/reload.module';
import { LoadBalancingModule } from '../load-balancing/load-balancing.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityModule } from '../security/security.module';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminAuthLimiter } from './admin-auth-limiter';
import { AdminExceptionFilter } from './admin-exception.filter';
import { AdminJsonBodyInterceptor } from './admin-json-body.interceptor';
import { AdminStateService } from './admin-state.service';
import { ApiKeysService } from './api-keys.service';
import { adminStateStoreProvider } from './state/admin-state-store.provider';
import { AuditLogService } from './audit-log.service';
import { ApiKeysController } from './controllers/api-keys.controller';
import { BlocksController } from './controllers/blocks.controller';
import { CacheController } from './controllers/cache.controller';
import { ConfigController } from './controllers/config.controller';
import { IpListsController } from './controllers/ip-lists.controller';
import { RoutesController } from './controllers/routes.controller';
import { UpstreamsController } from './controllers/upstreams.controller';

/** Controllers of the admin API, in the order Swagger UI lists their tags. */
export const ADMIN_CONTROLLERS: Type[] = [
  RoutesController,
  UpstreamsController,
  IpListsController,
  BlocksController,
  ApiKeysController,
  CacheController,
  ConfigController,
];

/**
 * Everything the enabled admin API consists of. Kept out of `admin.module.ts` so a gateway
 * without `ADMIN_TOKEN` never loads the controllers, schemas and services (~1 MB of heap).
 */
export function adminModuleParts(): Required<
  Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'>
> {
  return {
    imports: [
      RedisModule,
      SecurityModule,
      RoutingModule,
      LoadBalancingModule,
      HealthModule,
      CacheModule,
      ReloadModule,
    ],
    controllers: ADMIN_CONTROLLERS,
    providers: [
      { provide: AdminAuthLimiter, useFactory: () => new AdminAuthLimiter() },
      AdminAuthGuard,
      AdminJsonBodyInterceptor,
      AdminExceptionFilter,
      adminStateStoreProvider,
      AdminStateService,
      AuditLogService,
      ApiKeysService,
    ],
  };
}
