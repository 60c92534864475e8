import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RouteTableService } from '../routing/route-table.service';
import { ShutdownState } from './shutdown-state';

/**
 * Readiness is the gateway's own ability to serve, as Envoy's `/ready` and Kong's `/status/ready`
 * mean it: started (listening), configuration loaded (it is validated whole before anything
 * starts, and a reload that fails keeps the previous one serving), and not draining.
 *
 * Upstream health is deliberately not part of it: a readiness probe that fails with one dead
 * backend fleet takes every gateway pod out of the Service, so clients get connection refused on
 * every route instead of the gateway's 503 for that one. Upstreams are reported by `/health`.
 */
@Injectable()
export class GatewayReadiness {
  private started = false;

  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly routes: RouteTableService,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Called once the gateway listens. */
  markStarted(): void {
    this.started = true;
  }

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const check = this.indicator.check(key);
    if (this.shutdown.isShuttingDown) {
      return check.down({ reason: 'shutting_down' });
    }
    if (!this.started) {
      return check.down({ reason: 'starting' });
    }
    return check.up({ routes: this.routes.routes.length });
  }
}
