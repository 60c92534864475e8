import cluster from 'node:cluster';
import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { isRedisConfigured } from '../config/settings/redis';
import { WorkerSync, type SyncChannel } from './worker-sync';

/** The IPC channel of a cluster worker, when this process is one. */
function workerChannel(): SyncChannel | undefined {
  const send = process.send?.bind(process);
  if (!cluster.isWorker || send === undefined) {
    return undefined;
  }
  return {
    send: (message) => send(message),
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}

/**
 * {@link WorkerSync} on a cluster worker's channel: relaying changes without Redis (with Redis
 * the workers share their state through it, like replicas), and taking reloads the primary asks
 * for either way.
 */
@Module({
  providers: [
    {
      provide: WorkerSync,
      useFactory: (config: GatewayConfig) =>
        new WorkerSync(workerChannel(), { relay: !isRedisConfigured(config.redis) }),
      inject: [GATEWAY_CONFIG],
    },
  ],
  exports: [WorkerSync],
})
export class WorkerSyncModule {}
