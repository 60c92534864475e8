import { Injectable, Optional } from '@nestjs/common';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { InjectGatewayConfig } from '../config/gateway.config';
import { RequestMetricsService } from '../observability/request-metrics.service';
import type { GatewayConfig } from '../config/gateway-config.types';
import { INVALID_TOKEN_CHALLENGE } from './auth/auth.constants';
import { AuthService } from './auth/auth.service';
import { clientKey } from './client-ip';
import type { AuthOutcome } from './auth/auth.types';
import { CorsPolicy } from './cors/cors-policy';
import { addResponseHeaders, type EdgeRequest } from './edge-request';
import { IpFilterService } from './ip-filter/ip-filter.service';
import {
  floodHeaderList,
  rateLimitHeaderList,
  type RateDecision,
} from './rate-limit/rate-limit-headers';
import { RateLimitService } from './rate-limit/rate-limit.service';

/** A CORS preflight the gateway answers itself: 204, these headers, no body. */
export class PreflightAnswer extends GatewayRejection {
  constructor(headers: string[]) {
    super({ statusCode: 204, error: 'No Content' }, '', headers);
  }
}

/**
 * The edge checks, in the order an operator expects from nginx/Kong, shared by plain requests
 * (through ProxyRoute) and WebSocket upgrades:
 *
 * 1. deny list → 403; allow list skips 2 and 5;
 * 2. flood block → 429 (every request counts, routed or not: scanners mostly miss);
 * 3. header count → 431; invalid or unrouted path → 400/404;
 * 4. CORS: preflights answered here, before auth (browsers never send credentials on them);
 * 5. token bucket → 429 (before auth for IP-keyed limits, so credential guessing is limited too);
 * 6. authentication when the route requires it and the path is not public → 401.
 *
 * Each step is synchronous unless it needs Redis or a JWKS refresh; the common path never
 * allocates a promise.
 */
@Injectable()
export class EdgePipeline {
  private readonly cors: CorsPolicy;
  private readonly maxHeaderCount: number;
  private readonly defaultRate: number;
  private readonly defaultBurst: number;
  private readonly blockSeconds: number;
  private readonly floodThreshold: number;
  private readonly ipv6Prefix: number;
  /** Per-key limits of authenticated principals (API keys with their own rate/burst). */
  private readonly principalLimits = new WeakMap<EdgeRequest, { rate: number; burst: number }>();

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly ipFilter: IpFilterService,
    private readonly rateLimit: RateLimitService,
    private readonly auth: AuthService,
    @Optional() private readonly metrics?: RequestMetricsService,
  ) {
    const s = config.security;
    this.cors = new CorsPolicy({
      allowedOrigins: s.corsAllowedOrigins,
      allowedMethods: s.corsAllowedMethods,
      allowedHeaders: s.corsAllowedHeaders,
      exposedHeaders: s.corsExposedHeaders,
      allowCredentials: s.corsAllowCredentials,
      maxAgeSeconds: Math.round(s.corsMaxAgeMs / 1000),
    });
    this.maxHeaderCount = s.maxHeaderCount;
    this.defaultRate = s.maxRequestsPerSecond;
    this.defaultBurst = s.maxBurstSize;
    this.blockSeconds = Math.max(1, Math.ceil(s.blockDurationMs / 1000));
    this.floodThreshold = s.ddosThreshold;
    this.ipv6Prefix = s.rateLimitIpv6Prefix;
  }

  /** Resolves (or returns) when admitted; throws GatewayRejection otherwise. */
  admit(edge: EdgeRequest): void | Promise<void> {
    const ip = edge.clientIp;
    const listed = this.ipFilter.classify(ip);
    if (listed === 'deny') {
      throw new GatewayRejection(GatewayErrorCode.Forbidden, undefined, [], 'ip denylisted');
    }
    const trusted = listed === 'allow';
    if (!trusted) {
      const flood = this.ipFilter.check(ip);
      if (flood.blocked) {
        this.metrics?.rateLimited(edge.route, 'flood');
        throw new GatewayRejection(
          GatewayErrorCode.ClientBlocked,
          undefined,
          this.floodHeaders(flood.retryAfterSeconds),
          'ip blocked (flood)',
        );
      }
      if (this.ipFilter.record(ip)) {
        this.metrics?.rateLimited(edge.route, 'flood');
        throw new GatewayRejection(
          GatewayErrorCode.ClientBlocked,
          undefined,
          this.floodHeaders(this.blockSeconds),
          'ip blocked (flood threshold crossed)',
        );
      }
    }
    if (edge.req.rawHeaders.length / 2 > this.maxHeaderCount) {
      throw new GatewayRejection(GatewayErrorCode.HeadersTooLarge);
    }
    if (edge.routeRejection) {
      throw edge.routeRejection;
    }
    const cors = this.cors.evaluate(edge.req.method, edge.req.headers);
    switch (cors.kind) {
      case 'none':
        break;
      case 'vary':
        addResponseHeaders(edge, cors.headers);
        break;
      case 'allow':
      case 'refused':
        addResponseHeaders(edge, cors.headers);
        edge.dropUpstreamCors = true;
        break;
      case 'preflight':
        throw new PreflightAnswer(cors.headers);
      case 'reject':
        throw new GatewayRejection(GatewayErrorCode.CorsRejected, undefined, [], cors.reason);
    }
    if (trusted) {
      return this.authenticate(edge);
    }
    // The per-IP buckets come before authentication, so guessing credentials costs tokens too;
    // buckets keyed by the authenticated identity can only be chosen after it. The steps are
    // methods rather than nested callbacks: on the synchronous path no closure is allocated.
    const byIp = this.consume(edge, this.ipBuckets(edge), undefined);
    return byIp instanceof Promise
      ? byIp.then((decision) => this.afterIpLimits(edge, decision))
      : this.afterIpLimits(edge, byIp);
  }

  private afterIpLimits(edge: EdgeRequest, byIp: RateDecision | undefined): void | Promise<void> {
    const authenticated = this.authenticate(edge);
    return authenticated instanceof Promise
      ? authenticated.then(() => this.afterAuthentication(edge, byIp))
      : this.afterAuthentication(edge, byIp);
  }

  private afterAuthentication(
    edge: EdgeRequest,
    byIp: RateDecision | undefined,
  ): void | Promise<void> {
    const tightest = this.consume(edge, this.identityBuckets(edge), byIp);
    if (tightest instanceof Promise) {
      return tightest.then((decision) => addResponseHeaders(edge, rateLimitHeaderList(decision!)));
    }
    addResponseHeaders(edge, rateLimitHeaderList(tightest!));
  }

  private floodHeaders(retryAfterSeconds: number): string[] {
    return floodHeaderList(this.floodThreshold, retryAfterSeconds);
  }

  /**
   * The gateway-wide per-client bucket, and a route's own bucket when it is keyed by IP; a
   * client is its IP, or its IPv6 network (`RATE_LIMIT_IPV6_PREFIX`).
   */
  private ipBuckets(edge: EdgeRequest): Bucket[] {
    const client = clientKey(edge.clientIp, this.ipv6Prefix);
    const buckets: Bucket[] = [[client, this.defaultRate, this.defaultBurst, undefined]];
    const route = edge.route;
    const limit = route?.config.rateLimit;
    if (route && limit?.key === 'ip') {
      buckets.push([`${route.name}|ip|${client}`, limit.rate, limit.burst, route.name]);
    }
    return buckets;
  }

  /**
   * A route's bucket keyed by API key or JWT subject, and an API key's own bucket. On public
   * paths of such a route (no identity) the route bucket falls back to the client IP.
   */
  private identityBuckets(edge: EdgeRequest): readonly Bucket[] {
    const route = edge.route;
    const limit = route?.config.rateLimit;
    const own = this.principalLimits.get(edge);
    if (own === undefined && (limit === undefined || limit.key === 'ip')) {
      return NO_BUCKETS;
    }
    const buckets: Bucket[] = [];
    if (route && limit && limit.key !== 'ip') {
      const who =
        edge.principalKey === undefined
          ? `ip|${clientKey(edge.clientIp, this.ipv6Prefix)}`
          : `${limit.key}|${edge.principalKey}`;
      buckets.push([`${route.name}|${who}`, limit.rate, limit.burst, route.name]);
    }
    if (own) {
      buckets.push([`key|${edge.principalKey ?? ''}`, own.rate, own.burst, 'api-key']);
    }
    return buckets;
  }

  /**
   * Takes a token from each bucket in turn; throws the 429 at the first empty one. Resolves to
   * the tightest decision seen (the one with the fewest tokens left), for the response headers.
   */
  private consume(
    edge: EdgeRequest,
    buckets: readonly Bucket[],
    tightest: RateDecision | undefined,
    index = 0,
  ): RateDecision | undefined | Promise<RateDecision | undefined> {
    let current = tightest;
    for (let i = index; i < buckets.length; i++) {
      const [key, rate, burst, policy] = buckets[i];
      const decision = this.rateLimit.consume(key, rate, burst, policy);
      if (decision instanceof Promise) {
        const seen = current;
        return decision.then((d) =>
          this.consume(edge, buckets, this.tighter(edge, d, seen), i + 1),
        );
      }
      current = this.tighter(edge, decision, current);
    }
    return current;
  }

  /** Throws the 429 for a denial; else the decision with the fewest tokens left. */
  private tighter(
    edge: EdgeRequest,
    d: RateDecision,
    tightest: RateDecision | undefined,
  ): RateDecision {
    if (!d.allowed) {
      this.metrics?.rateLimited(edge.route, d.policy);
      throw new GatewayRejection(
        GatewayErrorCode.TooManyRequests,
        undefined,
        rateLimitHeaderList(d),
        'rate limited',
      );
    }
    return tightest === undefined || d.remaining < tightest.remaining ? d : tightest;
  }

  private authenticate(edge: EdgeRequest): void | Promise<void> {
    const route = edge.route;
    if (!route?.config.requireAuth || this.auth.isPublicPath(edge.path)) {
      return;
    }
    const outcome = this.auth.authenticate(edge.req.headers, route.auth);
    if (outcome instanceof Promise) {
      return outcome.then((o) => this.applyOutcome(edge, o));
    }
    this.applyOutcome(edge, outcome);
  }

  private applyOutcome(edge: EdgeRequest, outcome: AuthOutcome): void {
    if (!outcome.ok) {
      throw new GatewayRejection(
        outcome.status === 403 ? GatewayErrorCode.Forbidden : GatewayErrorCode.Unauthorized,
        undefined,
        ['www-authenticate', outcome.wwwAuthenticate],
        outcome.reason,
      );
    }
    if (
      outcome.principal.kind === 'jwt' &&
      outcome.principal.id === '' &&
      edge.route?.config.rateLimit?.key === 'jwt_sub'
    ) {
      // Every token without a subject would share one bucket: one client could starve them all.
      throw new GatewayRejection(
        GatewayErrorCode.Unauthorized,
        undefined,
        ['www-authenticate', INVALID_TOKEN_CHALLENGE],
        'jwt: no sub for a jwt_sub rate limit',
      );
    }
    edge.principalId = outcome.principal.name ?? outcome.principal.id;
    edge.principalKey = outcome.principal.key;
    if (outcome.principal.rateLimit) {
      this.principalLimits.set(edge, outcome.principal.rateLimit);
    }
    if (hasOwnKeys(outcome.upstreamHeaders)) {
      edge.upstreamHeaders = outcome.upstreamHeaders;
    }
  }
}

/** Key, rate, burst and policy name of one token bucket. */
type Bucket = [key: string, rate: number, burst: number, policy: string | undefined];

const NO_BUCKETS: readonly Bucket[] = Object.freeze([]);

/** Whether an outcome brings headers, without an `Object.keys` array per request. */
function hasOwnKeys(headers: Record<string, string>): boolean {
  for (const name in headers) {
    if (Object.hasOwn(headers, name)) {
      return true;
    }
  }
  return false;
}
