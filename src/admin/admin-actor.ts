import type { FastifyRequest } from 'fastify';

/** Who made an admin request: the admin token, or an API key with the admin scope. */
export type AdminActor =
  { kind: 'token'; ip: string } | { kind: 'api-key'; id: string; name?: string; ip: string };

export const ADMIN_ACTOR = Symbol('gateway:admin-actor');

export type AdminRequest = FastifyRequest & { [ADMIN_ACTOR]?: AdminActor };

/** How the audit log names the actor: `admin-token` or `api-key:<name or id>`. */
export function describeActor(actor: AdminActor): string {
  return actor.kind === 'token' ? 'admin-token' : `api-key:${actor.name ?? actor.id}`;
}
