import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import { OPENMETRICS_CONTENT_TYPE, renderOpenMetrics, wantsOpenMetrics } from './openmetrics';

/**
 * `GET /metrics`: the Prometheus text format (0.0.4), or OpenMetrics 1.0 when the client's
 * `Accept` prefers it, as Prometheus' own scraper does. Replaces @willsoto/nestjs-prometheus'
 * controller, which only ever writes the text format.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('cache-control', 'no-store')
  async scrape(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (wantsOpenMetrics(req.headers.accept)) {
      void reply.header('content-type', OPENMETRICS_CONTENT_TYPE);
      return renderOpenMetrics(await register.getMetricsAsJSON());
    }
    void reply.header('content-type', register.contentType);
    return register.metrics();
  }
}
