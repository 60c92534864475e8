import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdgePipeline } from '../security/edge-pipeline.service';
import { ProxyService } from './proxy.service';

/**
 * Admits or refuses a proxied request before the controller runs: opens the exchange (request
 * id, client IP, route) and runs the edge checks. Synchronous unless a check needs Redis or a
 * JWKS refresh. Refusals are thrown as GatewayRejection and rendered by ProxyExceptionFilter.
 */
@Injectable()
export class EdgeGuard implements CanActivate {
  constructor(
    private readonly proxy: ProxyService,
    private readonly edge: EdgePipeline,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const exchange = this.proxy.open(req.raw, reply.raw);
    const admitted = this.edge.admit(exchange);
    return admitted instanceof Promise ? admitted.then(() => true) : true;
  }
}
