import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { ClientIpResolver, normalizeIp } from '../security/client-ip';
import { ApiKeyAuthGuard } from '../security/auth/api-key-auth.guard';
import { API_KEY_HEADER } from '../security/auth/auth.constants';
import type { Principal } from '../security/auth/auth.types';
import { ADMIN_ACTOR, type AdminActor, type AdminRequest } from './admin-actor';
import { AdminAuthLimiter } from './admin-auth-limiter';
import { AdminError } from './admin-error';

const CHALLENGE = 'Bearer realm="gateway-admin"';

/**
 * Admin access: `Authorization: Bearer <ADMIN_TOKEN>`, or `X-API-Key` with a key that has the
 * admin scope, checked by the passport API-key strategy ({@link ApiKeyAuthGuard}). The token is
 * compared as SHA-256 digests with `timingSafeEqual`, so neither its content nor its length
 * leaks through timing.
 *
 * Valid credentials are always accepted. Failures are counted per client IP
 * ({@link AdminAuthLimiter}): past the limit they get 429 instead of 401. Neither answer says
 * which check failed.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly tokenDigest: Buffer | undefined;
  private readonly ips: ClientIpResolver;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly apiKeys: ApiKeyAuthGuard,
    private readonly limiter: AdminAuthLimiter,
  ) {
    this.tokenDigest = config.admin.token === undefined ? undefined : sha256(config.admin.token);
    this.ips = new ClientIpResolver(config.proxy.trustedProxies);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const ip = this.ips.resolve(
      normalizeIp(req.raw.socket.remoteAddress),
      req.headers['x-forwarded-for'],
    );
    const actor = this.tokenActor(req, ip) ?? (await this.apiKeyActor(context, req, ip));
    if (actor !== undefined) {
      req[ADMIN_ACTOR] = actor;
      return true;
    }
    const wait = this.limiter.recordFailure(ip);
    if (wait > 0) {
      throw new AdminError(429, 'Too many failed admin authentication attempts; retry later', [], {
        'retry-after': String(wait),
      });
    }
    throw new AdminError(401, 'Admin authentication required', [], {
      'www-authenticate': CHALLENGE,
    });
  }

  private tokenActor(req: AdminRequest, ip: string): AdminActor | undefined {
    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || this.tokenDigest === undefined) {
      return undefined;
    }
    // The rest of the header, as is: ADMIN_TOKEN is not trimmed either.
    const match = /^Bearer[ \t]+(.+)$/i.exec(authorization);
    return match !== null && timingSafeEqual(sha256(match[1]), this.tokenDigest)
      ? { kind: 'token', ip }
      : undefined;
  }

  /** An `X-API-Key` through passport; only a key with the admin scope makes an actor. */
  private async apiKeyActor(
    context: ExecutionContext,
    req: AdminRequest,
    ip: string,
  ): Promise<AdminActor | undefined> {
    if (req.headers[API_KEY_HEADER] === undefined) {
      return undefined;
    }
    try {
      await this.apiKeys.canActivate(context);
    } catch {
      // The passport guard's own 401: the answer is decided above, with the failure counted.
      return undefined;
    }
    const principal = (req as AdminRequest & { user?: Principal }).user;
    if (principal?.kind !== 'api-key' || principal.admin !== true) {
      return undefined;
    }
    return {
      kind: 'api-key',
      id: principal.id,
      ...(principal.name === undefined ? {} : { name: principal.name }),
      ip,
    };
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
