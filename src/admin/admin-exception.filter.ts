import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { resolveRequestId } from '../common/http/request-id';
import { httpErrorName } from '../common/filters/gateway-exception.filter';
import { AdminError } from './admin-error';

/**
 * The gateway's error shape `{statusCode, error, message, requestId}` for the admin API, plus
 * `details: [{field, message}]` for validation errors and the headers an error carries.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const requestId = resolveRequestId(req.headers['x-request-id']);
    let status = 500;
    let message = 'Internal server error';
    let details: readonly { field: string; message: string }[] = [];
    let headers: Readonly<Record<string, string>> = {};
    if (exception instanceof AdminError) {
      ({ status, message, details, headers } = exception);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw =
        typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
      message = Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message);
    } else {
      this.logger.error(
        `admin ${req.method} ${req.url} failed (request ${requestId}): ${String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply
      .status(status)
      .headers({ ...headers, 'x-request-id': requestId, 'cache-control': 'no-store' })
      .type('application/json; charset=utf-8')
      .send({
        statusCode: status,
        error: httpErrorName(status),
        message,
        requestId,
        ...(details.length > 0 ? { details } : {}),
      });
  }
}
