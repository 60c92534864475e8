import { Module } from '@nestjs/common';
import { SystemMetricsModule } from '../system-metrics.module';
import { MonitorController } from './monitor.controller';
import { SystemMetricsController } from './system-metrics.controller';

/**
 * `GET /monitor` (HTML page and its assets) and `GET /api/system-metrics`. Self-contained, so it
 * can be imported wherever these endpoints should be served (the main listener, an admin one).
 */
@Module({
  imports: [SystemMetricsModule],
  controllers: [MonitorController, SystemMetricsController],
})
export class MonitorModule {}
