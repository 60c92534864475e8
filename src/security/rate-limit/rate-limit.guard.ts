import { Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { normalizeIp } from '../client-ip';

/** Returns the client IP of a request as the gateway resolved it (TRUSTED_PROXIES applied). */
export type ResolveClientIp = (req: Record<string, unknown>) => string;

/** DI token of the {@link ResolveClientIp} function the guard uses; optional. */
export const RESOLVE_CLIENT_IP = Symbol('ResolveClientIp');

/**
 * `ThrottlerGuard` for the gateway's own endpoints (admin API, …), keyed by the one client-IP
 * rule instead of `req.ip`: `req.ip` follows Fastify's `trustProxy`, which would make the limit
 * spoofable through `X-Forwarded-For` (seed-spec D11). Pair it with
 * `ThrottlerModule.forRoot({ throttlers, storage })` using `TokenBucketThrottlerStorage`.
 *
 * Without a {@link RESOLVE_CLIENT_IP} provider it uses the socket peer, which is never spoofable.
 *
 * @publicApi
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storageService: ThrottlerStorage,
    reflector: Reflector,
    @Optional()
    @Inject(RESOLVE_CLIENT_IP)
    private readonly resolveClientIp?: ResolveClientIp,
  ) {
    super(options, storageService, reflector);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    if (this.resolveClientIp !== undefined) {
      return Promise.resolve(this.resolveClientIp(req));
    }
    // Fastify requests wrap the Node request in `raw`; Express requests are the Node request.
    const raw = (req.raw ?? req) as { socket?: { remoteAddress?: string } };
    return Promise.resolve(normalizeIp(raw.socket?.remoteAddress));
  }
}
