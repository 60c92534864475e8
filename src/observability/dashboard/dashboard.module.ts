import { Module } from '@nestjs/common';
import { SystemMetricsModule } from '../system-metrics.module';
import { DashboardService } from './dashboard.service';

/** The live terminal dashboard (started by itself once the gateway listens on a terminal). */
@Module({
  imports: [SystemMetricsModule],
  providers: [DashboardService],
  exports: [DashboardService],
})
export class DashboardModule {}
