import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode, sendGatewayError } from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { resolveRequestId } from '../common/http/request-id';
import { ProxyService } from './proxy.service';

/**
 * Renders refusals of proxied requests through the request's exchange, so they carry the same
 * request id, security headers, CORS and RateLimit headers as proxied answers and get exactly
 * one access-log line. Anything unexpected becomes a generic 500 (details to the log only).
 */
@Catch()
export class ProxyExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProxyExceptionFilter.name);

  constructor(private readonly proxy: ProxyService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    reply.hijack();
    const exchange = this.proxy.exchangeOf(req.raw);
    if (!(exception instanceof GatewayRejection)) {
      this.logger.error(
        `unhandled error on ${req.method} ${req.url}: ${String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (!exchange) {
      const requestId = resolveRequestId(req.headers['x-request-id']);
      sendGatewayError(reply.raw, 500, 'Internal Server Error', 'Internal server error', requestId);
      return;
    }
    if (exception instanceof GatewayRejection) {
      exchange.reject(exception);
    } else {
      exchange.error = exception instanceof Error ? exception.message : String(exception);
      exchange.fail(GatewayErrorCode.Internal);
    }
  }
}
