import { Module } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import { collectDefaultMetrics, register } from 'prom-client';
import { clusterMetrics } from './metrics/cluster-metrics';
import { BACKEND_HEALTH_STATUS, CIRCUIT_BREAKER_TRIPS } from './metrics.constants';

/**
 * prom-client's process and Node.js metrics (event-loop lag, heap, GC, CPU, file descriptors),
 * started once per process: several apps in one process (tests) share the default registry.
 * Its three `nodejs_active_*_total` gauges are dropped: a gauge named `_total` fails
 * `promtool check metrics`, and each is the sum of its by-type sibling (`nodejs_active_handles`,
 * `nodejs_active_requests`, `nodejs_active_resources`).
 */
if (register.getSingleMetric('nodejs_eventloop_lag_seconds') === undefined) {
  collectDefaultMetrics();
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    register.removeSingleMetric(name);
  }
}

// A cluster worker answers the primary's metric collections (GATEWAY_WORKERS > 1).
clusterMetrics.install();

const backendHealthStatus = makeGaugeProvider({
  name: BACKEND_HEALTH_STATUS,
  help: 'Upstream health: 1 when probed up and not ejected, 0 otherwise.',
  labelNames: ['backend'],
  // Across cluster workers (each probes and ejects on its own): 1 only if every worker can use it.
  aggregator: 'min',
});

const circuitBreakerTrips = makeCounterProvider({
  name: CIRCUIT_BREAKER_TRIPS,
  help: 'Times an upstream circuit breaker opened (closed or half-open -> open).',
  labelNames: ['backend'],
});

/**
 * The gateway's low-rate metric providers, injected with `@InjectMetric(BACKEND_HEALTH_STATUS)`.
 * The proxy's per-request metrics are RequestMetricsService's families; `GET /metrics` is
 * MetricsController in StatsHttpModule.
 */
@Module({
  providers: [backendHealthStatus, circuitBreakerTrips],
  exports: [backendHealthStatus, circuitBreakerTrips],
})
export class MetricsModule {}
