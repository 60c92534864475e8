import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { GATEWAY_VERSION } from '../common/version';
import { RouteTableService } from '../routing/route-table.service';
import { buildHealthReport, type HealthReport } from './health-report';
import { ShutdownState } from './shutdown-state';
import { GatewayReadiness } from './gateway-readiness';

/**
 * `GET /health` (the Go gateway's JSON, D22), `/health/live` and `/health/ready` (Kubernetes).
 * All three answer from in-memory state and never wait on proxied traffic (D1).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly routes: RouteTableService,
    private readonly shutdown: ShutdownState,
    private readonly health: HealthCheckService,
    private readonly readiness: GatewayReadiness,
  ) {}

  /** 200 while the gateway can serve (even with every upstream down: see `status`), 503 once shutting down. */
  @Get()
  @Header('cache-control', 'no-store')
  report(@Res({ passthrough: true }) reply: FastifyReply): HealthReport {
    const shuttingDown = this.shutdown.isShuttingDown;
    if (shuttingDown) {
      void reply.status(503);
    }
    return buildHealthReport(this.routes.routes, GATEWAY_VERSION, shuttingDown);
  }

  /** Liveness: the process answers. Never looks at upstreams, stays 200 while draining. */
  @Get('live')
  @Header('cache-control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness (terminus): the gateway's own state only (listening, not draining), never its
   * upstreams', so one dead backend never takes the gateway out of a load balancer.
   */
  @Get('ready')
  @Header('cache-control', 'no-store')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.readiness.check('gateway')]);
    } catch (err) {
      // Keep terminus's body; the global filter would reduce it to a bare message.
      if (err instanceof ServiceUnavailableException) {
        void reply.status(503);
        return err.getResponse() as HealthCheckResult;
      }
      throw err;
    }
  }
}
