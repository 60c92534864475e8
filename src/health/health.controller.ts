import { Controller, Get, Header } from '@nestjs/common';
import { RouteTableService } from '../routing/route-table.service';
import { GATEWAY_VERSION } from '../common/version';

/** `GET /health`, in the Go gateway's JSON shape, plus route names and hosts it lacked (D22). */
@Controller('health')
export class HealthController {
  constructor(private readonly routes: RouteTableService) {}

  @Get()
  @Header('cache-control', 'no-store')
  health(): Record<string, unknown> {
    return {
      status: 'healthy',
      timestamp: new Date().toISOString(),
      version: GATEWAY_VERSION,
      routes: this.routes.routes.map((r) => ({
        name: r.name,
        host: r.config.host || '*',
        prefix: r.config.prefix,
        strip_prefix: r.stripPrefix,
        require_auth: r.config.requireAuth,
        backends: r.group.upstreams.map((u) => ({
          url: u.key,
          alive: u.healthy,
          connections: u.inFlight,
          weight: u.weight,
        })),
      })),
    };
  }
}
