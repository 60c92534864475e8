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

/** What an error answer says; `details` and `headers` are for the kinds of error that have them. */
export interface ErrorAnswer {
  status: number;
  message: string;
  /** Field-level problems, e.g. of a request body (`details` in the JSON). */
  details?: readonly { field: string; message: string }[];
  headers?: Readonly<Record<string, string>>;
}

/**
 * One error shape for everything the gateway answers itself: `{statusCode, error, message,
 * requestId}` (plus `details` when there are field-level problems). 5xx details go to the log,
 * never to the client. Subclasses teach it more exception types through `answerFor`.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  protected readonly logger = new Logger(GatewayExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const requestId = resolveRequestId(req.headers['x-request-id']);
    let answer = this.answerFor(exception);
    if (answer === undefined) {
      this.logger.error(
        `unhandled error on ${req.method} ${req.url} (request ${requestId}): ${String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
      answer = { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const { status, message, details = [], headers = {} } = answer;
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

  /** The answer to an expected exception; undefined for anything else (logged, then a 500). */
  protected answerFor(exception: unknown): ErrorAnswer | undefined {
    if (!(exception instanceof HttpException)) {
      return undefined;
    }
    const body = exception.getResponse();
    const raw = typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
    return {
      status: exception.getStatus(),
      message: Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message),
    };
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
