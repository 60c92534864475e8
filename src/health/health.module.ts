import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoadBalancingModule } from '../load-balancing/load-balancing.module';
import { MetricsModule } from '../observability/metrics.module';
import { RoutingModule } from '../routing/routing.module';
import { GatewayReadiness } from './gateway-readiness';
import { HealthController } from './health.controller';
import { ShutdownState } from './shutdown-state';
import { UpstreamHealthCheckService } from './upstream-health-check.service';
import { UpstreamProber } from './upstream-prober';

/**
 * Built once (NestJS 11 de-duplicates dynamic modules by reference). Terminus's own logger is
 * off: a failing readiness probe is expected during outages and shutdown, and transitions are
 * already logged by `UpstreamHealthCheckService` and `OutlierDetector`. No
 * `gracefulShutdownTimeoutMs`: it only acts on Nest's signal hooks, which the gateway does not use
 * (`main.ts` handles SIGTERM and calls `gateway.close()`).
 */
const terminus = TerminusModule.forRoot({ logger: false });

/**
 * Active upstream health checks and the health endpoints. Needs `ScheduleModule.forRoot()` once,
 * in `AppModule`.
 */
@Module({
  imports: [terminus, RoutingModule, LoadBalancingModule, MetricsModule],
  controllers: [HealthController],
  providers: [ShutdownState, UpstreamProber, UpstreamHealthCheckService, GatewayReadiness],
  exports: [ShutdownState, UpstreamHealthCheckService, GatewayReadiness],
})
export class HealthModule {}
