import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Injectable, Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import type { CacheHost } from '../cache/cache-exchange';
import { HttpCacheService } from '../cache/http-cache.service';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { GatewayRejection } from '../common/errors/gateway-rejection';
import { normalizeAuthority } from '../common/http/normalize-host';
import { resolveRequestId } from '../common/http/request-id';
import { hasRepeatedHost, splitTarget } from '../common/http/request-target';
import { isProbePath, isReservedPath } from '../common/http/reserved-paths';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig, ResilienceConfig } from '../config/gateway-config.types';
import { OutlierDetector } from '../load-balancing/outlier-detector';
import type { CircuitBreaker } from '../resilience/circuit-breaker';
import { STALLED_ERROR_CODE, type ExchangeOutcome } from '../resilience/classify-outcome';
import {
  backoffMs,
  CONNECT_ERROR_CODES,
  retryAfterMs,
  shouldRetry,
} from '../resilience/retry-policy';
import { AccessLogService } from '../observability/access-log.service';
import { TracingService } from '../observability/tracing/tracing.service';
import { RequestMetricsService } from '../observability/request-metrics.service';
import { joinPaths, mergeQuery } from '../routing/path-rewriter';
import { canonicalizePath } from '../routing/request-path';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService } from '../routing/route-table.service';
import type { Upstream } from '../load-balancing/upstream';
import { AuthService } from '../security/auth/auth.service';
import { hideCredentials } from '../security/auth/route-auth';
import { ClientIpResolver, normalizeIp } from '../security/client-ip';
import { buildSecurityHeaders } from '../security/headers/security-headers';
import { UntrustedProxyHint, untrustedProxyMessage } from '../security/untrusted-proxy-hint';
import { DEFAULT_STRIP_CLIENT_HEADERS } from '../common/http/forwarding-headers';
import {
  buildUpstreamHeaders,
  compileRequestHeaderPolicy,
  type RequestHeaderPolicy,
  type ResponseHeaderPolicy,
} from './forward-headers';
import {
  compileForwardingKeyRules,
  forwardingKeyFields,
  type ForwardingKeyRules,
} from './forwarding-key';
import type { ResolvedRequest } from './resolved-request';
import { UpstreamExchange, type AttemptHost } from './upstream-exchange';

/** A trusted proxy's `X-Forwarded-Proto` says https (one value, any case). */
function isHttps(value: string | string[] | undefined): boolean {
  return (
    typeof value === 'string' &&
    (value === 'https' || (value.length === 5 && value.toLowerCase() === 'https'))
  );
}

/**
 * The host a trusted proxy says the client asked for, validated and normalised like Host; the
 * request's own authority when it says nothing; undefined (400) when it is not a valid
 * `host[:port]`. Of a list (a proxy that appends), the last entry is the one our peer added:
 * upstream frameworks disagree on which entry of a list they use, so exactly one goes on.
 */
function trustedForwardedHost(
  value: string | string[] | undefined,
  authority: string,
  tls: boolean,
): string | undefined {
  if (value === undefined || value === '') {
    return authority;
  }
  const joined = Array.isArray(value) ? value.join(',') : value;
  const last = joined.slice(joined.lastIndexOf(',') + 1).trim();
  return normalizeAuthority(last, tls ? 443 : 80);
}

const EXCHANGE = Symbol('gateway.exchange');

/** Set by the server's `checkContinue` handler (src/gateway.ts) on `Expect: 100-continue`. */
export const EXPECTS_CONTINUE = Symbol('gateway.expects-continue');
type ContinueAware = IncomingMessage & { [EXPECTS_CONTINUE]?: boolean };

type WithExchange = IncomingMessage & { [EXCHANGE]?: UpstreamExchange };

/**
 * The proxy hot path in two steps: `open` (request id, client IP, canonical path, route) and,
 * after the edge checks have admitted the request, `forward` (upstream choice and streaming).
 * Everything consulted was compiled at boot; per request it only looks things up.
 */
@Injectable()
export class ProxyService implements AttemptHost, CacheHost {
  private readonly ipResolver: ClientIpResolver;
  private readonly maxInFlight: number;
  private readonly defaultMaxBody: number;
  private readonly headerPolicy: ResponseHeaderPolicy;
  private readonly requestHeaderPolicy: RequestHeaderPolicy;
  /** Forwarding headers the cache keys on, or bypasses for, when they reach the upstream. */
  private readonly keyedForwarding: ForwardingKeyRules;
  private readonly resilience: ResilienceConfig;
  private readonly refuseTrace: boolean;
  private readonly proxyHint: UntrustedProxyHint;
  /** `ADMIN_PORT` is set: the gateway's own paths live there, except the probes. */
  private readonly ownPathsOnAdminPort: boolean;
  private onAdminListener: (req: IncomingMessage) => boolean = () => false;
  private inFlight = 0;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly routes: RouteTableService,
    private readonly accessLog: AccessLogService,
    auth: AuthService,
    private readonly outliers: OutlierDetector,
    private readonly tracing: TracingService,
    private readonly metrics: RequestMetricsService,
    private readonly cache: HttpCacheService,
  ) {
    this.resilience = config.resilience;
    this.requestHeaderPolicy = compileRequestHeaderPolicy({
      // Identity headers the gateway sets from verified credentials; a client's copies never
      // pass (JWT claims, an API key's id and name).
      claimHeaders: auth.identityHeaders,
      stripUntrusted: config.proxy.stripClientHeaders,
      allowUnderscores: config.proxy.allowUnderscoreHeaders,
      keyed: DEFAULT_STRIP_CLIENT_HEADERS,
    });
    this.keyedForwarding = compileForwardingKeyRules(config.proxy.stripClientHeaders);
    this.ipResolver = new ClientIpResolver(config.proxy.trustedProxies);
    this.ownPathsOnAdminPort = config.admin.listen !== undefined;
    const logger = new Logger('ClientIp');
    this.proxyHint = new UntrustedProxyHint(this.ipResolver.hasTrustedProxies, (peer, range) =>
      logger.warn(untrustedProxyMessage(peer, range)),
    );
    this.maxInFlight = config.proxy.maxInFlight;
    this.refuseTrace = !config.security.allowTrace;
    this.defaultMaxBody = config.security.maxBodyBytes;
    this.headerPolicy = {
      security: buildSecurityHeaders(config.security.securityHeaders),
      serverTiming: config.observability.serverTiming,
      ...(config.cache.targetedField === undefined
        ? {}
        : { strip: new Set([config.cache.targetedField]) }),
    };
  }

  /** Proxied requests currently in progress. */
  get activeRequests(): number {
    return this.inFlight;
  }

  get responseHeaderPolicy(): ResponseHeaderPolicy {
    return this.headerPolicy;
  }

  /** The exchange `open` attached to this request, if any. */
  exchangeOf(req: IncomingMessage): UpstreamExchange | undefined {
    return (req as WithExchange)[EXCHANGE];
  }

  /**
   * Starts tracking a request and resolves what every later step needs. Throws a
   * GatewayRejection (already bound to the exchange for logging) when the request cannot be
   * routed at all.
   */
  open(req: IncomingMessage, res: ServerResponse): UpstreamExchange {
    const startedAt = performance.now();
    const r = this.resolve(req);
    const exchange = new UpstreamExchange(
      req,
      res,
      r,
      startedAt,
      this.accessLog,
      this.headerPolicy,
      this.metrics,
    );
    exchange.maxBodyBytes = r.match?.value.maxBodyBytes ?? this.defaultMaxBody;
    if (this.tracing.enabled) {
      exchange.trace = this.tracing.start(req, r.rawPath, r.clientIp, r.requestId, r.peerTrusted);
    }
    (req as WithExchange)[EXCHANGE] = exchange;

    this.acquireSlot();
    exchange.onClosed = this.release;
    return exchange;
  }

  /**
   * Counts a request (or an open WebSocket) against MAX_IN_FLIGHT; throws the 503 when full.
   * Shedding before doing any work beats a slow timeout for everyone.
   */
  acquireSlot(): void {
    if (this.inFlight >= this.maxInFlight) {
      throw new GatewayRejection(GatewayErrorCode.Overloaded, undefined, ['retry-after', '1']);
    }
    this.inFlight++;
  }

  releaseSlot(): void {
    this.inFlight--;
  }

  /**
   * Request id, client IP, canonical path and route, shared by plain requests and upgrades.
   * Routing problems are recorded, not thrown: IP lists and flood counting must see every
   * request first, including the ones that go nowhere (scanners mostly do).
   */
  resolve(req: IncomingMessage): ResolvedRequest {
    const peer = normalizeIp(req.socket.remoteAddress);
    const peerTrusted = this.ipResolver.isTrusted(peer);
    this.proxyHint.check(peer, req.headers['x-forwarded-for']);
    const clientIp = peerTrusted
      ? this.ipResolver.resolve(peer, req.headers['x-forwarded-for'])
      : peer;
    const target = splitTarget(req.url ?? '/');
    // HSTS and X-Forwarded-Proto follow the scheme the client used: our own TLS, or a trusted
    // proxy's word for it.
    const tls =
      (req.socket as TLSSocket).encrypted === true ||
      (peerTrusted && isHttps(req.headers['x-forwarded-proto']));
    const resolved: ResolvedRequest = {
      requestId: resolveRequestId(req.headers['x-request-id']),
      peer,
      peerTrusted,
      clientIp,
      tls,
      authority: '',
      forwardedHost: '',
      rawPath: target.path,
      query: target.query,
      path: '',
      match: undefined,
      routeRejection: undefined,
    };
    if (this.refuseTrace && req.method === 'TRACE') {
      // A TRACE answer echoes the request, credentials and cookies included (cross-site tracing);
      // nginx refuses it too. Refused after the IP checks, like an unrouted request.
      resolved.routeRejection = new GatewayRejection(
        { statusCode: 405, error: 'Method Not Allowed' },
        'TRACE is not allowed',
        [],
        'TRACE refused',
      );
      return resolved;
    }
    const authority = this.authorityOf(req, target.authority, tls);
    if (authority === undefined) {
      resolved.routeRejection = new GatewayRejection(
        GatewayErrorCode.BadRequest,
        'Invalid Host header',
      );
      return resolved;
    }
    resolved.authority = authority;
    const forwardedHost = peerTrusted
      ? trustedForwardedHost(req.headers['x-forwarded-host'], authority, tls)
      : authority;
    if (forwardedHost === undefined) {
      resolved.routeRejection = new GatewayRejection(
        GatewayErrorCode.BadRequest,
        'Invalid X-Forwarded-Host header',
      );
      return resolved;
    }
    resolved.forwardedHost = forwardedHost;
    const canonical = canonicalizePath(target.path);
    if (!canonical.ok) {
      resolved.routeRejection = new GatewayRejection(
        GatewayErrorCode.BadRequest,
        `Invalid request path: ${canonical.reason}`,
      );
      return resolved;
    }
    resolved.path = canonical.path;
    if (
      isReservedPath(canonical.path) &&
      (this.answersOwnPath(authority, canonical.path) || this.onAdminListener(req))
    ) {
      // A gateway path whose feature is off (or not served here): never proxied. The admin
      // listener routes nothing but gateway paths, so one no own route serves ends here too.
      resolved.routeRejection = new GatewayRejection(
        GatewayErrorCode.NoRoute,
        'This gateway path is not enabled',
      );
      return resolved;
    }
    resolved.match = this.routes.match(authority, canonical.path);
    if (!resolved.match) {
      resolved.routeRejection = new GatewayRejection(GatewayErrorCode.NoRoute);
    }
    return resolved;
  }

  /**
   * How to tell a request that arrived on the admin listener (`ADMIN_PORT`), which never
   * proxies; given by `createGateway`, which owns that listener.
   */
  setAdminListener(test: (req: IncomingMessage) => boolean): void {
    this.onAdminListener = test;
  }

  /**
   * Whether the gateway answers one of its own (reserved) paths itself for a request on the
   * public port to this host: not when a host route claims the host (it owns every path there),
   * and with `ADMIN_PORT` only for the probes, `/health/live` and `/health/ready` (everything
   * else moved to the admin listener, which never proxies).
   */
  answersOwnPath(authority: string, path: string): boolean {
    return (!this.ownPathsOnAdminPort || isProbePath(path)) && !this.routes.claimsHost(authority);
  }

  /**
   * {@link answersOwnPath} for a request Fastify routed to one of the gateway's own routes on
   * the public port; when false, the request belongs to the proxy. A request whose authority or
   * path is invalid stays with the gateway, which refuses it.
   */
  answersOwnRoute(req: IncomingMessage): boolean {
    const target = splitTarget(req.url ?? '/');
    const canonical = canonicalizePath(target.path);
    const tls = (req.socket as TLSSocket).encrypted === true;
    const authority = this.authorityOf(req, target.authority, tls);
    return (
      !canonical.ok || authority === undefined || this.answersOwnPath(authority, canonical.path)
    );
  }

  /**
   * The validated authority of the request (see ResolvedRequest.authority), or undefined when it
   * must be refused with 400 as nginx does: an invalid Host or target authority, userinfo, more
   * than one Host line, or HTTP/1.1 without Host (RFC 9112 §3.2). An absolute-form target's
   * authority wins over Host (§3.2.2), so the gateway and anything behind it agree on it.
   */
  private authorityOf(
    req: IncomingMessage,
    targetAuthority: string | undefined,
    tls: boolean,
  ): string | undefined {
    if (hasRepeatedHost(req.rawHeaders)) {
      return undefined;
    }
    const defaultPort = tls ? 443 : 80;
    if (targetAuthority !== undefined) {
      return targetAuthority.includes('@')
        ? undefined
        : normalizeAuthority(targetAuthority, defaultPort);
    }
    const host = req.headers.host;
    if (host === undefined) {
      return req.httpVersionMajor === 1 && req.httpVersionMinor === 0 ? '' : undefined;
    }
    return normalizeAuthority(host, defaultPort);
  }

  /** Upstream request headers for an admitted request. */
  upstreamHeadersFor(
    req: IncomingMessage,
    r: Pick<
      ResolvedRequest,
      'peer' | 'peerTrusted' | 'clientIp' | 'tls' | 'requestId' | 'authority' | 'forwardedHost'
    >,
    route: CompiledRoute,
    upstream: Upstream,
    extra: Record<string, string> | undefined,
  ): Record<string, string | string[]> {
    const headers = buildUpstreamHeaders(
      req.headers,
      {
        // Only the validated, normalised authority ever goes upstream, never the raw header.
        host: route.preserveHost && r.authority !== '' ? r.authority : upstream.hostHeader,
        forwardedHost: r.forwardedHost,
        peer: r.peer,
        peerTrusted: r.peerTrusted,
        clientIp: r.clientIp,
        proto: r.tls ? 'https' : 'http',
        requestId: r.requestId,
      },
      this.requestHeaderPolicy,
    );
    const hidden = route.auth.hidden;
    if (hidden !== undefined) {
      hideCredentials(headers, hidden);
    }
    if (extra) {
      Object.assign(headers, extra);
    }
    return headers;
  }

  /**
   * The cache-key fields of the forwarding headers this request takes upstream (see
   * forwarding-key.ts): `''` for none, undefined when its answer must not be cached at all.
   */
  cacheKeyFields(exchange: UpstreamExchange): string | undefined {
    return forwardingKeyFields(exchange.req.headers, exchange.peerTrusted, this.keyedForwarding);
  }

  /** Admitted request: checks the body size, then runs the first attempt. */
  forward(exchange: UpstreamExchange): void {
    const { req, match } = exchange;
    if (exchange.isClosed) {
      // The client left while an asynchronous edge check (Redis, JWKS) was running.
      return;
    }
    if (!match) {
      exchange.fail(GatewayErrorCode.NoRoute);
      return;
    }
    const route = match.value;
    const contentLength = req.headers['content-length'];
    if (
      exchange.maxBodyBytes > 0 &&
      contentLength !== undefined &&
      Number(contentLength) > exchange.maxBodyBytes
    ) {
      exchange.error = 'request body over limit';
      // The body is never read; closing stops the client from sending the rest.
      exchange.fail(GatewayErrorCode.PayloadTooLarge, ['connection', 'close']);
      return;
    }
    exchange.hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (contentLength !== undefined && contentLength !== '0');
    exchange.idleMs = route.timeoutMs;
    if (this.cache.active && this.cache.intercept(exchange, this)) {
      // Answered from the cache, or waiting on it (it calls `proceed` when it misses).
      return;
    }
    this.proceed(exchange);
  }

  /** Sends an admitted request upstream: at once, or once the cache has missed. */
  proceed(exchange: UpstreamExchange): void {
    if (exchange.isClosed) {
      return;
    }
    const { req } = exchange;
    const route = exchange.match!.value;
    // The route timeout bounds the wait for response headers across every attempt.
    exchange.deadline = performance.now() + route.timeoutMs;
    exchange.host = this;
    route.retryBudget.requestStarted();
    this.attemptOnce(exchange);
    if (exchange.hasBody && exchange.upstream && !exchange.isClosed) {
      if ((req as ContinueAware)[EXPECTS_CONTINUE]) {
        // Only now, with every edge check passed, invite the client to send its body.
        exchange.res.writeContinue();
      }
      exchange.armIdle();
    }
  }

  /** One attempt: choose an upstream (another one on retries, when there is one) and dispatch. */
  private attemptOnce(exchange: UpstreamExchange): void {
    const route = exchange.match!.value;
    const upstream = this.choose(route, exchange);
    if (!upstream) {
      // Also on a retry whose failure just opened the last breaker or ejected the last upstream.
      exchange.fail(GatewayErrorCode.NoUpstream, ['retry-after', '5']);
      return;
    }
    exchange.beginAttempt(upstream);
    const { req } = exchange;
    const forwardedPath = joinPaths(
      upstream.basePath,
      route.stripPrefix ? exchange.match!.rest : exchange.path,
    );
    const mergedQuery = mergeQuery(upstream.baseQuery, exchange.query);
    const headers = this.upstreamHeadersFor(
      req,
      exchange,
      route,
      upstream,
      exchange.upstreamHeaders,
    );
    exchange.trace?.startAttempt(upstream.label, exchange.attempt, req.method ?? 'GET', headers);
    const remaining = Math.max(1, Math.round(exchange.deadline - performance.now()));
    upstream.dispatcher.dispatch(
      {
        origin: upstream.origin,
        path: mergedQuery === '' ? forwardedPath : `${forwardedPath}?${mergedQuery}`,
        method: req.method as 'GET',
        headers,
        body: exchange.hasBody ? req : null,
        headersTimeout: remaining,
        bodyTimeout: route.timeoutMs,
      },
      exchange,
    );
  }

  /** A GET for a background cache refresh (stale-while-revalidate); no client waits on it. */
  fetchInBackground(
    exchange: UpstreamExchange,
    extra: Record<string, string>,
  ): Promise<Dispatcher.ResponseData> {
    const route = exchange.match!.value;
    const upstream = route.group.pick(exchange.clientIp, route.name);
    if (!upstream) {
      return Promise.reject(new Error('no available upstream'));
    }
    const headers = this.upstreamHeadersFor(
      exchange.req,
      exchange,
      route,
      upstream,
      exchange.upstreamHeaders,
    );
    // The client's own conditionals were for its copy, not the cache's.
    delete headers['if-none-match'];
    delete headers['if-modified-since'];
    delete headers.range;
    Object.assign(headers, extra);
    const path = joinPaths(
      upstream.basePath,
      route.stripPrefix ? exchange.match!.rest : exchange.path,
    );
    const query = mergeQuery(upstream.baseQuery, exchange.query);
    return upstream.dispatcher.request({
      origin: upstream.origin,
      path: query === '' ? path : `${path}?${query}`,
      method: 'GET',
      headers,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.timeoutMs,
    });
  }

  /**
   * The balancer's pick with its breaker permit (a half-open breaker admits one trial), in panic
   * over every upstream probed up; on a retry an upstream not tried yet is preferred.
   */
  private choose(route: CompiledRoute, exchange: UpstreamExchange): Upstream | undefined {
    return route.group.choose(exchange.clientIp, exchange.tried, route.name);
  }

  // --- AttemptHost --------------------------------------------------------------------------

  mayRetry(
    exchange: UpstreamExchange,
    failure: { error?: Error; status?: number; retryAfter?: string },
  ): boolean {
    const route = exchange.match?.value;
    if (!route || exchange.isClosed) {
      return false;
    }
    const allowed = shouldRetry({
      method: exchange.req.method ?? 'GET',
      headers: exchange.req.headers,
      error: failure.error as { code?: string } | undefined,
      status: failure.status,
      attempt: exchange.attempt,
      maxAttempts: this.resilience.retryAttempts,
      bodyStarted: exchange.hasBody && exchange.bodyStarted,
      responseStarted: exchange.res.headersSent,
    });
    if (!allowed) {
      return false;
    }
    const delay =
      retryAfterMs(failure.retryAfter, this.resilience.retryAfterCapMs) ??
      backoffMs(exchange.attempt, { baseMs: this.resilience.retryBaseDelayMs });
    if (performance.now() + delay >= exchange.deadline) {
      // Never wait past the route timeout.
      return false;
    }
    // The budget stops retries from amplifying an outage. A request refused at connect time
    // reached no upstream, and one moved off a stalled upstream left one that is not working
    // on it: moving either elsewhere adds no load, so they are exempt.
    const code = (failure.error as { code?: string } | undefined)?.code;
    if (code === undefined || !(CONNECT_ERROR_CODES.has(code) || code === STALLED_ERROR_CODE)) {
      if (!route.retryBudget.tryAcquireRetry()) {
        return false;
      }
      exchange.retryPermitFor = exchange.attempt + 1;
    }
    exchange.retryDelayMs = delay;
    return true;
  }

  retry(exchange: UpstreamExchange): void {
    this.metrics.retried(exchange.route);
    exchange.retryTimer = setTimeout(() => {
      exchange.retryTimer = undefined;
      if (exchange.isClosed) {
        return;
      }
      this.attemptOnce(exchange);
    }, exchange.retryDelayMs);
  }

  attemptEnded(exchange: UpstreamExchange, upstream: Upstream, outcome: ExchangeOutcome): void {
    (upstream.breaker as CircuitBreaker | undefined)?.record(outcome);
    this.outliers.recordOutcome(upstream, outcome);
    if (exchange.retryPermitFor === exchange.attempt) {
      exchange.retryPermitFor = 0;
      exchange.match?.value.retryBudget.retryFinished();
    }
  }

  exchangeEnded(exchange: UpstreamExchange): void {
    const route = exchange.match?.value;
    if (!route) {
      return;
    }
    if (exchange.retryPermitFor !== 0) {
      // A reserved retry that never started (the client left during the back-off).
      exchange.retryPermitFor = 0;
      route.retryBudget.retryFinished();
    }
    route.retryBudget.requestFinished();
  }

  private readonly release = (): void => {
    this.releaseSlot();
  };
}
