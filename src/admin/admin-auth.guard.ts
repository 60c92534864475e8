import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { ClientIpResolver, normalizeIp } from '../security/client-ip';
import { ApiKeyStore, digestApiKey } from '../security/auth/api-key-store';
import { ADMIN_ACTOR, type AdminActor, type AdminRequest } from './admin-actor';
import { AdminAuthLimiter } from './admin-auth-limiter';
import { AdminError } from './admin-error';

const CHALLENGE = 'Bearer realm="gateway-admin"';

/**
 * Admin access: `Authorization: Bearer <ADMIN_TOKEN>`, or `X-API-Key` with a key that has the
 * admin scope. The token is compared as SHA-256 digests with `timingSafeEqual`, so neither its
 * content nor its length leaks through timing. Failures are counted per client IP
 * ({@link AdminAuthLimiter}); the 401 never says which check failed.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly tokenDigest: Buffer | undefined;
  private readonly ips: ClientIpResolver;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly keys: ApiKeyStore,
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
    const wait = this.limiter.retryAfterSeconds(ip);
    if (wait > 0) {
      throw new AdminError(429, 'Too many failed admin authentication attempts; retry later', [], {
        'retry-after': String(wait),
      });
    }
    const actor = await this.authenticate(req, ip);
    if (actor === undefined) {
      this.limiter.recordFailure(ip);
      throw new AdminError(401, 'Admin authentication required', [], {
        'www-authenticate': CHALLENGE,
      });
    }
    req[ADMIN_ACTOR] = actor;
    return true;
  }

  private async authenticate(req: AdminRequest, ip: string): Promise<AdminActor | undefined> {
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string' && this.tokenDigest !== undefined) {
      // The rest of the header, as is: ADMIN_TOKEN is not trimmed either.
      const match = /^Bearer[ \t]+(.+)$/i.exec(authorization);
      if (match !== null && timingSafeEqual(sha256(match[1]), this.tokenDigest)) {
        return { kind: 'token', ip };
      }
    }
    const key = req.headers['x-api-key'];
    if (typeof key === 'string') {
      const digest = digestApiKey(key);
      const record = digest === undefined ? undefined : await this.keys.lookup(digest);
      if (record?.admin === true) {
        this.keys.markUsed(record, Date.now());
        return {
          kind: 'api-key',
          id: record.id,
          ...(record.name === undefined ? {} : { name: record.name }),
          ip,
        };
      }
    }
    return undefined;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
