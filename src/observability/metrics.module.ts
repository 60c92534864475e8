import { Module } from '@nestjs/common';
import {
  makeCounterProvider,
  makeGaugeProvider,
  PrometheusModule,
} from '@willsoto/nestjs-prometheus';
import { BACKEND_HEALTH_STATUS, CIRCUIT_BREAKER_TRIPS } from './metrics.constants';

/**
 * Built once: NestJS 11 de-duplicates dynamic modules by object reference, and `register()`
 * also starts prom-client's default collectors, which must happen only once per process.
 */
const prometheus = PrometheusModule.register({
  path: '/metrics',
  defaultMetrics: { enabled: true },
});

const backendHealthStatus = makeGaugeProvider({
  name: BACKEND_HEALTH_STATUS,
  help: 'Upstream health: 1 when probed up and not ejected, 0 otherwise.',
  labelNames: ['backend'],
});

const circuitBreakerTrips = makeCounterProvider({
  name: CIRCUIT_BREAKER_TRIPS,
  help: 'Times an upstream circuit breaker opened (closed or half-open -> open).',
  labelNames: ['backend'],
});

/**
 * `GET /metrics` (Prometheus text format, prom-client's default registry) and the gateway's
 * metric providers. Inject a metric with `@InjectMetric(BACKEND_HEALTH_STATUS)`.
 */
@Module({
  imports: [prometheus],
  providers: [backendHealthStatus, circuitBreakerTrips],
  exports: [backendHealthStatus, circuitBreakerTrips],
})
export class MetricsModule {}
