import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { resolve } from 'node:path';
import { loadGatewayConfig } from '../config/load-config';
import { isRedisConfigured } from '../config/settings/redis';
import { ConfigWatcher } from '../reload/config-watcher';
import type { GatewayConfig } from '../config/gateway-config.types';
import { serveClusterMetrics } from '../observability/metrics/cluster-metrics';
import { runClusterPrimary } from './cluster-primary';
import { serveWorkerSync } from './sync-primary';

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
  reloadWorkersOnSignalAndChange(config, logger);
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

/**
 * The primary's part in reloads: SIGHUP (and, with `GATEWAY_CONFIG_WATCH`, a change of the config
 * file or `.env`) is checked here first, so an invalid file is refused and logged once; a valid
 * one is reloaded by one worker, which relays what it applied to the others (without Redis), or
 * by every worker (with Redis, which shares admin state but not a reload). Admin changes made in
 * a worker are relayed to the others through the same channel ({@link serveWorkerSync}).
 */
function reloadWorkersOnSignalAndChange(config: GatewayConfig, logger: Logger): void {
  let watcher: ConfigWatcher | undefined;
  const sync = serveWorkerSync(cluster, logger, {
    // The admin API rewrote the file with what it applied: not a change to reload.
    onConfigWritten: () => watcher?.acknowledge(),
  });
  const reload = (trigger: string): void => {
    const loaded = loadGatewayConfig();
    watcher?.acknowledge();
    if (!loaded.ok) {
      logger.error(
        { trigger, problems: loaded.problems },
        'config reload refused, the running configuration keeps serving: the configuration is invalid',
      );
      return;
    }
    const workers = sync.requestReload(trigger, isRedisConfigured(loaded.config.redis));
    logger.info({ trigger, workers }, 'primary: reloading the configuration in the workers');
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (config.configWatch) {
    const files = [
      resolve(process.cwd(), '.env'),
      ...(config.configFile === undefined ? [] : [config.configFile]),
    ];
    watcher = new ConfigWatcher({
      files,
      onChange: () => reload('file change'),
      onWatchError: (dir, err) =>
        logger.warn({ dir, err: err.message }, 'primary: cannot watch a directory; polling it'),
    });
    watcher.start();
    logger.info(
      { files },
      'primary: watching the configuration for changes (GATEWAY_CONFIG_WATCH)',
    );
  }
}
