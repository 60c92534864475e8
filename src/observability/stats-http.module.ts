import { Module } from '@nestjs/common';
import { RoutingModule } from '../routing/routing.module';
import { MetricsController } from './metrics/metrics.controller';
import { StatsController } from './stats.controller';

/**
 * The observability endpoints `GET /metrics` and `GET /stats`, in a module of their own so they
 * can be served on the gateway port (imported by AppModule) or moved to an admin listener.
 * TrafficStatsService comes from the global RequestMetricsModule.
 */
@Module({
  imports: [RoutingModule],
  controllers: [MetricsController, StatsController],
})
export class StatsHttpModule {}
