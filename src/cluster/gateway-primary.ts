import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { isRedisConfigured } from '../config/settings/redis';
import type { GatewayConfig } from '../config/gateway-config.types';
import { serveClusterMetrics } from '../observability/metrics/cluster-metrics';
import { runClusterPrimary } from './cluster-primary';

/**
 * `GATEWAY_WORKERS > 1`: this process becomes the node:cluster primary. It has validated the
 * config already and loads nothing else; each worker re-runs `main.ts` as a full gateway.
 */
export function startGatewayPrimary(
  config: GatewayConfig,
  warnings: readonly string[],
  logger: Logger,
): Promise<number> {
  // Config warnings once, here, rather than once per worker.
  const demo = config.routes.length === 0 && config.demoUpstream;
  for (const warning of warnings) {
    // Each worker starts the built-in demo upstream itself (see main.ts) instead.
    if (!(demo && warning.startsWith('no routes'))) {
      logger.warn(warning);
    }
  }
  if (!isRedisConfigured(config.redis)) {
    logger.warn(
      { workers: config.server.workers },
      'GATEWAY_WORKERS > 1 without Redis: workers share nothing, so rate limits, flood counters ' +
        'and blocks are per worker (a client may get up to %d× each limit); set REDIS_URL to share them',
      config.server.workers,
    );
  }
  // Round-robin in the primary (the default on Linux, set here for every platform): the OS's
  // own balancing across accept() callers piles connections onto a few workers.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  // One /metrics for the whole pool: a scrape reaches any worker, which asks the primary to merge.
  serveClusterMetrics(cluster);
  return runClusterPrimary(
    cluster,
    {
      workers: config.server.workers,
      port: config.server.port,
      shutdownTimeoutMs: config.server.shutdownTimeoutMs,
      shutdownDelayMs: config.server.shutdownDelayMs,
    },
    logger,
  );
}
