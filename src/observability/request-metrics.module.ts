import { Global, Module } from '@nestjs/common';
import { RoutingModule } from '../routing/routing.module';
import { IpFilterModule } from '../security/ip-filter/ip-filter.module';
import { GatewayLoad } from './metrics/gateway-load';
import { MetricsModule } from './metrics.module';
import { RequestMetricsService } from './request-metrics.service';
import { TrafficStatsService } from './traffic-stats.service';

/**
 * The proxy's traffic accounting: `RequestMetricsService` (the hot-path recorder behind the
 * Prometheus families), `TrafficStatsService` (for `/stats`, `/monitor`, the terminal dashboard)
 * and `GatewayLoad` (open connections, requests in flight). Global so the proxy,
 * the edge checks and the WebSocket proxy can record without importing it; it cannot live in
 * MetricsModule, which the routing and load-balancing modules import themselves.
 */
@Global()
@Module({
  imports: [MetricsModule, RoutingModule, IpFilterModule],
  providers: [GatewayLoad, TrafficStatsService, RequestMetricsService],
  exports: [GatewayLoad, TrafficStatsService, RequestMetricsService],
})
export class RequestMetricsModule {}
