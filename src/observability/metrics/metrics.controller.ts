import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AggregatorRegistry, register } from 'prom-client';
import { clusterMetrics } from './cluster-metrics';
import { OPENMETRICS_CONTENT_TYPE, renderOpenMetrics, wantsOpenMetrics } from './openmetrics';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { RenderCache } from './render-cache';

/**
 * `GET /metrics`: the Prometheus text format (0.0.4), or OpenMetrics 1.0 when the client's
 * `Accept` prefers it, as Prometheus' own scraper does. Replaces @willsoto/nestjs-prometheus'
 * controller, which only ever writes the text format. Under `GATEWAY_WORKERS > 1` it serves
 * the whole cluster's metrics (see cluster-metrics.ts), or this worker's alone if the primary
 * does not answer. A rendering is reused for `METRICS_CACHE_TTL` (1 s), so a client polling in
 * a loop cannot make the gateway render every metric per request.
 */
@Controller('metrics')
export class MetricsController {
  private readonly rendered: RenderCache<'openmetrics' | 'text'>;

  constructor(@InjectGatewayConfig() config: GatewayConfig) {
    this.rendered = new RenderCache(config.observability.metricsCacheMs);
  }

  @Get()
  @Header('cache-control', 'no-store')
  scrape(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (wantsOpenMetrics(req.headers.accept)) {
      void reply.header('content-type', OPENMETRICS_CONTENT_TYPE);
      return this.rendered.get('openmetrics', renderOpenMetricsText);
    }
    void reply.header('content-type', register.contentType);
    return this.rendered.get('text', renderPrometheusText);
  }
}

async function renderOpenMetricsText(): Promise<string> {
  const merged = clusterMetrics.enabled ? await clusterMetrics.fetch() : undefined;
  return renderOpenMetrics(merged ?? (await register.getMetricsAsJSON()));
}

async function renderPrometheusText(): Promise<string> {
  const merged = clusterMetrics.enabled ? await clusterMetrics.fetch() : undefined;
  return merged
    ? AggregatorRegistry.aggregate([merged] as Parameters<
        typeof AggregatorRegistry.aggregate
      >[0]).metrics()
    : register.metrics();
}
