import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { from, switchMap, type Observable } from 'rxjs';
import { ADMIN_MAX_BODY_BYTES } from './admin.constants';
import { AdminError, badRequest } from './admin-error';

/**
 * Reads and parses the JSON body of an admin request. The gateway removes Fastify's body
 * parsers so proxied bodies stream unread; admin handlers read their own here, after the auth
 * guard (an unauthenticated client cannot make the gateway buffer anything), bounded in size.
 *
 * - no body: `req.body` stays undefined (e.g. the Go form `POST /admin/whitelist?ip=…`);
 * - a body that is not `application/json` (or `+json`): 415;
 * - larger than {@link ADMIN_MAX_BODY_BYTES}: 413; not JSON: 400.
 */
@Injectable()
export class AdminJsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    return from(readJsonBody(req.raw, ADMIN_MAX_BODY_BYTES)).pipe(
      switchMap((body) => {
        (req as { body: unknown }).body = body;
        return next.handle();
      }),
    );
  }
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) {
    return undefined;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new AdminError(
      415,
      `admin request bodies must be JSON (Content-Type: application/json), got ${JSON.stringify(type || 'none')}`,
    );
  }
  if (length !== undefined && Number(length) > limit) {
    throw new AdminError(413, `request body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new AdminError(413, `request body larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(
      `invalid JSON body (${error instanceof Error ? error.message : 'parse error'})`,
    );
  }
}
