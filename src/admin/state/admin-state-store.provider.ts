import type { Provider } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { RedisService } from '../../redis/redis.service';
import { ConfigReloadService } from '../../reload/config-reload.service';
import { ConfigFileWriter } from '../config-file-writer';
import { AdminStateStore } from './admin-state-store';
import { ConfigFileAdminStateStore } from './config-file-admin-state-store';
import { MemoryAdminStateStore } from './memory-admin-state-store';
import { RedisAdminStateStore } from './redis-admin-state-store';

/**
 * The admin state store, chosen once at boot (as `RateLimitModule` chooses its buckets): Redis
 * when configured, else the `GATEWAY_CONFIG` file when there is one, else memory.
 */
export const adminStateStoreProvider: Provider = {
  provide: AdminStateStore,
  useFactory: (
    config: GatewayConfig,
    redis: RedisService,
    reloads: ConfigReloadService,
  ): AdminStateStore => {
    const file = config.configFile;
    if (redis.client !== undefined) {
      return new RedisAdminStateStore(redis);
    }
    if (file !== undefined) {
      return new ConfigFileAdminStateStore(
        new ConfigFileWriter(file),
        config.routes.map((route) => route.name),
        () => reloads.noteConfigWritten(file),
      );
    }
    return new MemoryAdminStateStore();
  },
  inject: [GATEWAY_CONFIG, RedisService, ConfigReloadService],
};
