import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { SystemMetricsService } from '../system-metrics.service';
import { monitorHeaders } from './monitor-assets';

/**
 * `GET /api/system-metrics`: the latest background sample, already serialised, so a call costs
 * microseconds however often the page (or a scraper) polls.
 */
@Controller('api')
export class SystemMetricsController {
  private readonly headers: readonly string[];

  constructor(
    private readonly metrics: SystemMetricsService,
    @InjectGatewayConfig() config: GatewayConfig,
  ) {
    this.headers = monitorHeaders(config.security.securityHeaders);
  }

  @Get('system-metrics')
  systemMetrics(@Res() reply: FastifyReply): void {
    for (let i = 0; i < this.headers.length; i += 2) {
      void reply.header(this.headers[i], this.headers[i + 1]);
    }
    void reply
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(this.metrics.json);
  }
}
