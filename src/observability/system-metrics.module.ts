import { Module } from '@nestjs/common';
import { RequestMetricsModule } from './request-metrics.module';
import { SystemMetricsService } from './system-metrics.service';

/**
 * The background host/process/traffic sampler shared by `/api/system-metrics`, the `/monitor`
 * page and the terminal dashboard: one timer per process however many of them are on.
 */
@Module({
  imports: [RequestMetricsModule],
  providers: [SystemMetricsService],
  exports: [SystemMetricsService],
})
export class SystemMetricsModule {}
