import { Controller, Get, Header } from '@nestjs/common';
import { GATEWAY_VERSION } from '../common/version';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { RouteTableService } from '../routing/route-table.service';
import { buildStatsReport } from './stats-report';
import { TrafficStatsService } from './traffic-stats.service';

/**
 * `GET /stats`: the Go gateway's JSON (see stats-report.ts) plus totals, rates, latency and
 * uptime. Built from in-memory counters: it never waits on proxied traffic (seed-spec D1).
 */
@Controller('stats')
export class StatsController {
  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly routes: RouteTableService,
    private readonly stats: TrafficStatsService,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  report(): Record<string, unknown> {
    return buildStatsReport(
      this.config,
      this.routes.routes,
      this.stats.snapshot(),
      GATEWAY_VERSION,
    );
  }
}
