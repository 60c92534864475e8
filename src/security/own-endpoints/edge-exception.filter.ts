import { Catch, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../../common/errors/gateway-error';
import { GatewayRejection } from '../../common/errors/gateway-rejection';
import { GatewayExceptionFilter } from '../../common/filters/gateway-exception.filter';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { buildSecurityHeaders } from '../headers/security-headers';
import { OwnEndpointGate } from './own-endpoint-gate';
import { replyWithRejection } from './own-endpoint-answers';

/**
 * The global exception filter: the gateway's error shape, and for an error Fastify raised before
 * any edge check ran (an unparseable Content-Type on a proxied path, no route at all) the deny
 * list, flood counting and security headers the request would otherwise have skipped. Errors of
 * own routes were screened by {@link OwnEndpointGate} already and are not counted twice.
 */
@Catch()
export class EdgeExceptionFilter extends GatewayExceptionFilter {
  private readonly securityHeaders: Record<string, string>;

  constructor(
    private readonly gate: OwnEndpointGate,
    @InjectGatewayConfig() config: GatewayConfig,
  ) {
    super();
    const flat = buildSecurityHeaders(config.security.securityHeaders).plain;
    this.securityHeaders = {};
    for (let i = 0; i < flat.length; i += 2) {
      this.securityHeaders[flat[i]] = flat[i + 1];
    }
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!this.gate.hasScreened(req.raw)) {
      const refusal = this.gate.screen(req.raw);
      if (!reply.sent) {
        void reply.headers(this.securityHeaders);
      }
      if (!reply.sent && (refusal !== undefined || exception instanceof NotFoundException)) {
        // No route at all (Fastify's router gives up on targets such as `http:///x`): the
        // proxy's own 404, not the framework's "Cannot GET <target>".
        replyWithRejection(
          reply,
          refusal ?? new GatewayRejection(GatewayErrorCode.NoRoute),
          req.headers['x-request-id'],
        );
        return;
      }
    }
    super.catch(exception, host);
  }
}
