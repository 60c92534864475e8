import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { resolveRequestId } from '../http/request-id';

/**
 * One error shape for everything the gateway answers itself: `{statusCode, error, message,
 * requestId}`. 5xx details go to the log, never to the client.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GatewayExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const requestId = resolveRequestId(req.headers['x-request-id']);
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal server error';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw =
        typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
      message = Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message);
    } else {
      this.logger.error(
        `unhandled error on ${req.method} ${req.url} (request ${requestId}): ${String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply
      .status(status)
      .header('x-request-id', requestId)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({
        statusCode: status,
        error: httpErrorName(status),
        message,
        requestId,
      });
  }
}

export function httpErrorName(status: number): string {
  const name = (HttpStatus as unknown as Record<number, string>)[status];
  if (!name) {
    return 'Error';
  }
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}
