import { Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway-config.types';

/**
 * The admin API. Without `ADMIN_TOKEN` the module is empty: no admin route exists, so every
 * `/admin` path answers 404 like any other reserved path (there is no default token).
 */
@Module({})
export class AdminModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    if (config.admin.token === undefined) {
      return { module: AdminModule };
    }
    const { adminModuleParts } =
      // Loaded only when enabled, so a gateway without the admin API does not pay for it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./admin-parts') as typeof import('./admin-parts');
    return { module: AdminModule, ...adminModuleParts() };
  }
}
