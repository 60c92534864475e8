import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RouteTableService } from '../routing/route-table.service';
import { countServableRoutes } from './health-report';
import { ShutdownState } from './shutdown-state';

/**
 * Readiness: down once shutdown has started, or when no route could serve a request (every
 * upstream probed down, drained, or behind a breaker opened by consecutive exchange failures;
 * panic routing still serves through ejections and rate-opened breakers). A gateway without
 * routes is ready: there is
 * nothing it could wait for. Reads in-memory state only.
 */
@Injectable()
export class UpstreamsHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly routes: RouteTableService,
    private readonly shutdown: ShutdownState,
  ) {}

  isReady<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const check = this.indicator.check(key);
    if (this.shutdown.isShuttingDown) {
      return check.down({ reason: 'shutting_down' });
    }
    const routes = this.routes.routes;
    const servable = countServableRoutes(routes);
    const data = { routes: routes.length, routes_servable: servable };
    return routes.length === 0 || servable > 0
      ? check.up(data)
      : check.down({ ...data, reason: 'no route has a healthy upstream' });
  }
}
