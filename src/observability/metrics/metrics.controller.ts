import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AggregatorRegistry, register } from 'prom-client';
import { clusterMetrics } from './cluster-metrics';
import { OPENMETRICS_CONTENT_TYPE, renderOpenMetrics, wantsOpenMetrics } from './openmetrics';

/**
 * `GET /metrics`: the Prometheus text format (0.0.4), or OpenMetrics 1.0 when the client's
 * `Accept` prefers it, as Prometheus' own scraper does. Replaces @willsoto/nestjs-prometheus'
 * controller, which only ever writes the text format. Under `GATEWAY_WORKERS > 1` it serves
 * the whole cluster's metrics (see cluster-metrics.ts), or this worker's alone if the primary
 * does not answer.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('cache-control', 'no-store')
  async scrape(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const openMetrics = wantsOpenMetrics(req.headers.accept);
    const merged = clusterMetrics.enabled ? await clusterMetrics.fetch() : undefined;
    if (openMetrics) {
      void reply.header('content-type', OPENMETRICS_CONTENT_TYPE);
      return renderOpenMetrics(merged ?? (await register.getMetricsAsJSON()));
    }
    void reply.header('content-type', register.contentType);
    return merged
      ? AggregatorRegistry.aggregate([merged] as Parameters<
          typeof AggregatorRegistry.aggregate
        >[0]).metrics()
      : register.metrics();
  }
}
