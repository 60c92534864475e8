import 'reflect-metadata';
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { guardWorkerChannel } from './cluster/cluster-worker';
import { startGatewayPrimary } from './cluster/gateway-primary';
import { startDemoUpstream, type DemoUpstream } from './demo/demo-upstream';
import { configFileBytes, loadGatewayConfig } from './config/load-config';
import { callInWorker, canCallInWorker, LARGE_INPUT_BYTES } from './common/worker-call';
import { createRootLogger, logWriterOf } from './observability/root-logger';

/**
 * The configuration, read on a worker thread when the config file is large and the gateway runs
 * compiled: validating a large route table makes short-lived garbage (about 100 MB for 20,000
 * routes), which in this thread would leave the heap that much larger for the life of the
 * process; the worker's heap is freed when it exits, and only the result is copied here.
 */
async function loadConfig(): Promise<ReturnType<typeof loadGatewayConfig>> {
  const options = { isTTY: process.stdout.isTTY === true };
  const file = require.resolve('./config/load-config');
  if (canCallInWorker(file) && configFileBytes() >= LARGE_INPUT_BYTES) {
    try {
      return await callInWorker<ReturnType<typeof loadGatewayConfig>>(
        file,
        loadGatewayConfig.name,
        [options],
      );
    } catch (err) {
      process.stderr.write(
        `gateway: reading the configuration on a worker thread failed (${String(err)}); reading it here\n`,
      );
    }
  }
  return loadGatewayConfig(options);
}

async function bootstrap(): Promise<void> {
  const loaded = await loadConfig();
  if (!loaded.ok) {
    // One line per problem, then a non-zero exit: an invalid config never half-starts.
    process.stderr.write(
      `gateway: invalid configuration (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}):\n` +
        loaded.problems.map((p) => `  ${p}\n`).join(''),
    );
    process.exit(1);
  }
  const config = loaded.config;
  // With workers, several processes write to one stdout: lines are written so none is torn.
  const rootLogger = createRootLogger(config.log, { sharedPipe: config.server.workers > 1 });
  logFatalErrors(rootLogger);
  // SIGHUP reloads the configuration; it never stops the gateway, not even before it is up.
  let onHangUp = (): void => undefined;
  process.on('SIGHUP', () => onHangUp());
  if (config.server.workers > 1 && cluster.isPrimary) {
    // The primary only supervises: Nest, pools and Redis are loaded by the workers alone.
    await startGatewayPrimary(config, loaded.warnings, rootLogger);
    return;
  }
  // Workers' lines interleave on one stdout: each carries its pid.
  const logger = cluster.isWorker ? rootLogger.child({ pid: process.pid }) : rootLogger;
  if (cluster.isWorker) {
    guardWorkerChannel(logger);
  }

  let demo: DemoUpstream | undefined;
  if (config.routes.length === 0 && config.demoUpstream) {
    demo = await startDemoUpstream();
    config.routes.push({
      name: 'demo',
      host: '',
      prefix: '/demo',
      upstreams: [{ url: demo.url, weight: 1 }],
      stripPrefix: true,
      requireAuth: false,
      timeoutMs: config.proxy.connectionTimeoutMs,
      preserveHost: false,
    });
    logger.info(
      { upstream: demo.url },
      'no routes configured: started the built-in demo upstream on /demo ' +
        '(try: curl localhost:%d/demo/anything; set DEMO_UPSTREAM=false to turn it off)',
      config.server.port,
    );
  }
  for (const warning of cluster.isWorker ? [] : loaded.warnings) {
    if (!(demo && warning.startsWith('no routes'))) {
      logger.warn(warning);
    }
  }

  // Required here, not at the top: a cluster primary must not load Nest.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createGateway } = require('./gateway') as typeof import('./gateway');
  const gateway = await createGateway(config, logger, {
    demoRoutes: demo === undefined ? [] : config.routes.filter((route) => route.name === 'demo'),
  });
  onHangUp = () => void gateway.reload('SIGHUP');
  const url = await gateway.listen();
  logger.info({ url, routes: config.routes.length }, 'gateway listening');
  if (config.admin.token === undefined) {
    logger.info(
      'admin API disabled (/admin and /docs answer 404): set ADMIN_TOKEN to a random string of at least 32 characters (e.g. `openssl rand -hex 32`) to enable it; ADMIN_PORT serves it on a separate listener',
    );
  } else {
    logger.info(
      { adminUrl: gateway.adminUrl ?? url, docs: `${gateway.adminUrl ?? url}/docs` },
      gateway.adminUrl === undefined
        ? 'admin API enabled on the gateway port (set ADMIN_PORT to move it to its own listener)'
        : 'admin API listening on its own port',
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal (Ctrl-C after SIGTERM) ends a SHUTDOWN_DELAY early; the drain itself
      // is bounded by SHUTDOWN_TIMEOUT anyway.
      gateway.skipDelay();
      return;
    }
    stopping = true;
    // SIGTERM is what orchestrators send while load balancers may still route here: keep
    // serving for SHUTDOWN_DELAY with readiness failing. Ctrl-C (SIGINT) is a person: no wait.
    const delayMs = signal === 'SIGTERM' ? config.server.shutdownDelayMs : 0;
    if (delayMs > 0) {
      logger.info(
        { signal, delayMs, inFlight: gateway.inFlight },
        'shutting down: /health/ready answers 503; still serving for SHUTDOWN_DELAY before closing the listener',
      );
    } else {
      logger.info(
        { signal, inFlight: gateway.inFlight },
        'shutting down: no new connections, waiting for in-flight requests',
      );
    }
    gateway
      .shutdown(delayMs)
      .then(() => demo?.close())
      .then(async () => {
        logger.info('shutdown complete');
        // Every buffered log line out before exiting, unless stdout is stalled (bounded wait).
        await logWriterOf(logger)?.drain(LOG_DRAIN_MS);
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Longest wait at shutdown for buffered log lines to reach a stalled stdout. */
const LOG_DRAIN_MS = 5000;

/**
 * An uncaught exception or unhandled rejection ends the process (Node's default, kept): it is
 * logged as a fatal line first, in order with the rest, and the log writer's exit hook writes
 * out whatever is buffered (see LogWriter.flushSync).
 */
function logFatalErrors(logger: Logger): void {
  process.on('uncaughtExceptionMonitor', (err: Error, origin: string) => {
    logger.fatal({ err, origin }, 'uncaught exception: exiting');
  });
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(
    `gateway: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
