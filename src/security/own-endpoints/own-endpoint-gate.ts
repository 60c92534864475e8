import type { IncomingMessage } from 'node:http';
import { Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GatewayErrorCode } from '../../common/errors/gateway-error';
import { GatewayRejection } from '../../common/errors/gateway-rejection';
import { InjectGatewayConfig } from '../../config/gateway.config';
import type { GatewayConfig } from '../../config/gateway-config.types';
import { RequestMetricsService } from '../../observability/request-metrics.service';
import { ClientIpResolver, clientKey, normalizeIp } from '../client-ip';
import { IpFilterService } from '../ip-filter/ip-filter.service';
import { MemoryBucketStore } from '../rate-limit/memory-bucket-store';
import { floodHeaderList, rateLimitHeaderList } from '../rate-limit/rate-limit-headers';
import { toDecision } from '../rate-limit/rate-limit.service';

/** Policy name of the own-endpoint bucket in the RateLimit headers and `rate_limited_total`. */
export const OWN_ENDPOINTS_POLICY = 'own-endpoints';

/**
 * The edge checks for the requests the gateway answers itself (`/health*`, `/metrics`, `/stats`,
 * `/monitor*`, `/api/system-metrics`, `/docs*`, `/admin*`), in the proxy's order:
 *
 * 1. deny list → 403; an allow-list entry skips 2 and 3;
 * 2. flood block → 429, and the request counts towards the flood threshold like any other;
 * 3. a per-client token bucket (`OWN_ENDPOINTS_RATE` / `OWN_ENDPOINTS_BURST`) → 429.
 *
 * The bucket lives in this process even with Redis: what it protects is this process's CPU, and
 * a liveness probe must never wait on Redis. Everything here is synchronous.
 *
 * Wired per own route by `installAdminHttp` (a Fastify `onRequest` hook), never on the proxy's
 * catch-all, so proxied requests pay nothing for it. Answers Fastify produces before any route
 * (a malformed URL, an unparseable Content-Type) go through {@link screen}.
 */
@Injectable()
export class OwnEndpointGate implements OnModuleInit, OnModuleDestroy {
  private readonly ips: ClientIpResolver;
  private readonly buckets: MemoryBucketStore;
  private readonly rate: number;
  private readonly burst: number;
  private readonly ipv6Prefix: number;
  private readonly blockSeconds: number;
  private readonly floodThreshold: number;
  /** Requests already screened, so an error answered later is not counted a second time. */
  private readonly screened = new WeakSet<IncomingMessage>();

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly ipFilter: IpFilterService,
    @Optional() private readonly metrics?: RequestMetricsService,
  ) {
    const s = config.security;
    this.ips = new ClientIpResolver(config.proxy.trustedProxies);
    this.buckets = new MemoryBucketStore({ maxKeys: s.rateLimitMaxKeys });
    this.rate = s.ownEndpointsRate;
    this.burst = s.ownEndpointsBurst;
    this.ipv6Prefix = s.rateLimitIpv6Prefix;
    this.blockSeconds = Math.max(1, Math.ceil(s.blockDurationMs / 1000));
    this.floodThreshold = s.ddosThreshold;
  }

  onModuleInit(): void {
    this.buckets.onModuleInit();
  }

  onModuleDestroy(): void {
    this.buckets.onModuleDestroy();
  }

  /** The client IP by the one rule the proxy uses (`TRUSTED_PROXIES`). */
  clientIp(req: IncomingMessage): string {
    return this.ips.resolve(normalizeIp(req.socket.remoteAddress), req.headers['x-forwarded-for']);
  }

  /** Deny list, flood block and the per-client bucket: the refusal, or undefined when admitted. */
  admit(req: IncomingMessage): GatewayRejection | undefined {
    return this.check(req, true);
  }

  /**
   * Deny list and flood counting only, for a request Fastify itself answers with an error (bad
   * URL, bad Content-Type, no route) and that no own route's {@link admit} has seen: the
   * refusal, or undefined when the error itself should be sent.
   */
  screen(req: IncomingMessage): GatewayRejection | undefined {
    return this.screened.has(req) ? undefined : this.check(req, false);
  }

  /** Whether {@link admit} or {@link screen} already ran for this request. */
  hasScreened(req: IncomingMessage): boolean {
    return this.screened.has(req);
  }

  private check(req: IncomingMessage, limit: boolean): GatewayRejection | undefined {
    this.screened.add(req);
    const ip = this.clientIp(req);
    const listed = this.ipFilter.classify(ip);
    if (listed === 'deny') {
      return new GatewayRejection(GatewayErrorCode.Forbidden, undefined, [], 'ip denylisted');
    }
    if (listed === 'allow') {
      return undefined;
    }
    const flood = this.ipFilter.check(ip);
    if (flood.blocked) {
      return this.floodRejection(flood.retryAfterSeconds, 'ip blocked (flood)');
    }
    if (this.ipFilter.record(ip)) {
      return this.floodRejection(this.blockSeconds, 'ip blocked (flood threshold crossed)');
    }
    if (!limit) {
      return undefined;
    }
    const decision = toDecision(
      this.buckets.take(clientKey(ip, this.ipv6Prefix), this.rate, this.burst),
      this.rate,
      this.burst,
      OWN_ENDPOINTS_POLICY,
    );
    if (decision.allowed) {
      return undefined;
    }
    this.metrics?.rateLimited(undefined, OWN_ENDPOINTS_POLICY);
    return new GatewayRejection(
      GatewayErrorCode.TooManyRequests,
      undefined,
      rateLimitHeaderList(decision),
      'rate limited (own endpoints)',
    );
  }

  private floodRejection(retryAfterSeconds: number, reason: string): GatewayRejection {
    this.metrics?.rateLimited(undefined, 'flood');
    return new GatewayRejection(
      GatewayErrorCode.ClientBlocked,
      undefined,
      floodHeaderList(this.floodThreshold, retryAfterSeconds),
      reason,
    );
  }
}
