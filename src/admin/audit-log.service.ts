import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { maskUrlsDeep } from '../common/http/url-display';
import { ROOT_LOGGER } from '../observability/observability.constants';
import { describeActor, type AdminActor } from './admin-actor';
import type { Persisted } from './state/admin-state-store';

export interface AuditEntry {
  /** What was done, `<resource>.<verb>`: `route.create`, `blacklist.add`, `api-key.revoke`. */
  action: string;
  /** What it was done to: a route name, an IP, an upstream URL, a key id. */
  target?: string;
  before?: unknown;
  after?: unknown;
  /** Where the change is kept: `redis`, `config-file`, `memory`, or `failed` (applied locally only). */
  persisted?: Persisted;
}

/**
 * One JSON line per admin mutation through the root pino logger, marked `audit: true` with
 * `msg: "admin audit"`, so a log pipeline can route audit lines separately: who (admin token or
 * API key name), from which IP, what, and the state before and after. Never a secret: API keys
 * appear by id, the admin token as `admin-token`, and URLs with their userinfo and query values
 * masked.
 */
@Injectable()
export class AuditLogService {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  record(actor: AdminActor, requestId: string, entry: AuditEntry): void {
    this.logger.info(
      {
        audit: true,
        actor: describeActor(actor),
        ip: actor.ip,
        requestId,
        ...(maskUrlsDeep(entry) as AuditEntry),
      },
      'admin audit',
    );
  }
}
