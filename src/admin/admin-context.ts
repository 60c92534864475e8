import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { resolveRequestId } from '../common/http/request-id';
import { ADMIN_ACTOR, type AdminActor, type AdminRequest } from './admin-actor';

/** Who is asking and the request id, for the audit log. */
export interface AdminContext {
  actor: AdminActor;
  requestId: string;
}

/** Injects the {@link AdminContext} set by `AdminAuthGuard`. */
export const Admin = createParamDecorator((_data: unknown, ctx: ExecutionContext): AdminContext => {
  const req = ctx.switchToHttp().getRequest<AdminRequest>();
  const actor = req[ADMIN_ACTOR];
  if (actor === undefined) {
    // Only reachable if a controller forgot the guard: fail closed.
    throw new Error('admin handler reached without authentication');
  }
  const requestId = resolveRequestId(req.headers['x-request-id']);
  // The same id in the answer and the audit line, so one can be found from the other.
  ctx.switchToHttp().getResponse<FastifyReply>().header('x-request-id', requestId);
  return { actor, requestId };
});
