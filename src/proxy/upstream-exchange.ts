import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import {
  classifyUpstreamError,
  GATEWAY_ERRORS,
  GatewayErrorCode,
  sendGatewayError,
} from '../common/errors/gateway-error';
import type { GatewayRejection } from '../common/errors/gateway-rejection';
import type { Upstream, WaitingAttempt } from '../load-balancing/upstream';
import {
  classifyOutcome,
  STALLED_ERROR_CODE,
  type ExchangeOutcome,
  type ExchangeResult,
} from '../resilience/classify-outcome';
import type { AccessLogService, AccessRecord } from '../observability/access-log.service';
import type { RequestTrace } from '../observability/tracing/request-trace';
import type { ResponseHook, ResponseSink } from '../common/http/response-hook';
import type { RequestMetricsService } from '../observability/request-metrics.service';
import type { CompiledRoute } from '../routing/compiled-route';
import type { SecurityHeaderSet } from '../security/headers/security-headers';
import type { ResolvedRequest } from './resolved-request';
import type { RouteMatch } from '../routing/route-matcher';
import {
  filterResponseHeaders,
  type LocationRewriter,
  type ResponseHeaderPolicy,
} from './forward-headers';
import { rewriteRedirect } from './redirect-rewrite';
import { HOP_BY_HOP } from '../common/http/hop-by-hop';

const CLIENT_GONE = 'client closed the connection';

/** What the exchange asks the proxy when an attempt fails before the response started. */
export interface AttemptHost {
  /**
   * Whether this failure may be retried (safe, within attempts, deadline and retry budget). A
   * true answer reserves the retry: the caller must then call `retry`.
   */
  mayRetry(
    exchange: UpstreamExchange,
    failure: { error?: Error; status?: number; retryAfter?: string },
  ): boolean;
  /** Starts the reserved retry after its back-off. */
  retry(exchange: UpstreamExchange): void;
  /** Records an attempt's outcome for the upstream's breaker and outlier detection. */
  attemptEnded(exchange: UpstreamExchange, upstream: Upstream, outcome: ExchangeOutcome): void;
  /** The exchange is over (logged): release per-request accounting. */
  exchangeEnded(exchange: UpstreamExchange): void;
}

/**
 * Everything the gateway knows about one request, from the first byte to the access-log line,
 * and — once an upstream is chosen — undici's dispatch handler for it. It uses undici's legacy
 * callback shape, which is undici 7's native one (no per-request wrapper), and streams the
 * upstream response straight into the client's ServerResponse with backpressure both ways.
 *
 * Guards fill in `match`, `principal` and `responseHeaders`; the proxy fills in `upstream`.
 */
export class UpstreamExchange
  implements Dispatcher.DispatchHandler, LocationRewriter, WaitingAttempt
{
  match: RouteMatch<CompiledRoute> | undefined;
  upstream: Upstream | undefined;
  /** Canonical path (set once the raw path is accepted). */
  path: string;
  /** Authenticated principal (API-key name or JWT `sub`), for the access log. */
  principalId: string | undefined;
  /** Authenticated principal's identity (Principal.key), for cache variants and buckets. */
  principalKey: string | undefined;
  /** Extra response headers decided before proxying (CORS, RateLimit), flat pairs. */
  responseHeaders: string[] | undefined;
  /** The CORS policy judged the Origin: the upstream's `Access-Control-*` headers are dropped. */
  dropUpstreamCors = false;
  /** Extra upstream request headers decided before proxying (forwarded claims). */
  upstreamHeaders: Record<string, string> | undefined;
  /** Set by `ProxyService.open` when the path is invalid or unrouted; thrown after IP checks. */
  routeRejection: GatewayRejection | undefined;
  /** The request carries a body (Content-Length > 0 or chunked). */
  hasBody = false;
  /** Largest request body allowed, in bytes (0 = unlimited). */
  maxBodyBytes = 0;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  error: string | undefined;

  /** Spans of this request when tracing is on (TracingService), else undefined. */
  trace: RequestTrace | undefined;

  /**
   * Called once when the client response closes, before anything else: `ProxyService.open`
   * puts its MAX_IN_FLIGHT release here, so a response carries one 'close' listener, not two.
   */
  onClosed: (() => void) | undefined;

  /** Cache and compression hooks (HttpCacheService); undefined means plain streaming. */
  hook: ResponseHook | undefined;
  /** Where body chunks go: the client, or a compressor piped into it. */
  sink: ResponseSink;
  /** X-Cache verdict (HIT, MISS, STALE, BYPASS) on cache-enabled routes, for logs and metrics. */
  cacheStatus: string | undefined;

  private abortUpstream: ((err?: Error) => void) | undefined;
  /** Set by `ProxyService.forward`; absent for requests refused before proxying. */
  host: AttemptHost | undefined;
  /** Attempts started so far (1 = no retry yet). */
  attempt = 0;
  /** Upstreams already tried, so a retry prefers another one. */
  readonly tried: Upstream[] = [];
  /** performance.now() by which response headers must arrive, across every attempt. */
  deadline = 0;
  /** Back-off before the reserved retry, in ms. */
  retryDelayMs = 0;
  /** The attempt number holding a retry permit from the route's budget (0: none). */
  retryPermitFor = 0;
  retryTimer: NodeJS.Timeout | undefined;
  /** The current attempt still owes its upstream an outcome (breaker permit, inFlight). */
  private attemptOpen = false;
  /** The stall detector moved this attempt: its retry is already reserved. */
  private stallRetry = false;
  // WaitingAttempt: links in the upstream's list of attempts waiting for a response head.
  waitStartedAt = 0;
  waitPrev: WaitingAttempt | undefined = undefined;
  waitNext: WaitingAttempt | undefined = undefined;
  waitingOn: Upstream | undefined = undefined;
  /** performance.now() when the current attempt was dispatched. */
  private attemptStartedAt = 0;
  /** Time spent at upstreams by the attempts already settled, in ms (for Server-Timing). */
  private upstreamMs = 0;
  /**
   * Upstream time up to the head of the response relayed to the client: the settled attempts
   * plus the last one's wait for its head (Server-Timing's `upstream`, the access log's
   * `upstreamLatencyMs`). Undefined until such a head arrives.
   */
  private upstreamHeadMs: number | undefined;
  /** A retryable 5xx is being read and thrown away before the retry. */
  private discarding = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The idle timer fired: it answers; the upstream abort it causes is not an upstream error. */
  private idleTimedOut = false;
  /** Idle bound for a stalled client, in ms (the route timeout). */
  idleMs = 0;
  private resumeUpstream: (() => void) | undefined;
  private clientGone = false;
  /** The gateway itself cut the response (upstream failed mid-body): not the client's doing. */
  private cut = false;
  private logged = false;

  readonly requestId: string;
  readonly peer: string;
  readonly peerTrusted: boolean;
  readonly clientIp: string;
  readonly tls: boolean;
  /** Validated `host[:port]` the client asked for (see ResolvedRequest). */
  readonly authority: string;
  /** What X-Forwarded-Host says upstream (see ResolvedRequest). */
  readonly forwardedHost: string;
  readonly rawPath: string;
  readonly query: string;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    resolved: ResolvedRequest,
    private readonly startedAt: number,
    private readonly accessLog: AccessLogService,
    private readonly headerPolicy: ResponseHeaderPolicy,
    private readonly metrics: RequestMetricsService,
  ) {
    this.requestId = resolved.requestId;
    this.peer = resolved.peer;
    this.peerTrusted = resolved.peerTrusted;
    this.clientIp = resolved.clientIp;
    this.tls = resolved.tls;
    this.authority = resolved.authority;
    this.forwardedHost = resolved.forwardedHost;
    this.rawPath = resolved.rawPath;
    this.query = resolved.query;
    this.sink = res;
    this.path = resolved.path;
    this.match = resolved.match;
    this.routeRejection = resolved.routeRejection;
    // `on`, not `once`: a ServerResponse emits 'close' once, and `once` wraps every call.
    res.on('close', this.onResponseClose);
  }

  get route(): CompiledRoute | undefined {
    return this.match?.value;
  }

  /** LocationRewriter: the upstream's own address becomes the gateway path that maps to it. */
  rewriteLocation(location: string): string {
    const match = this.match;
    const upstream = this.upstream;
    if (match === undefined || upstream === undefined) {
      return location;
    }
    return rewriteRedirect(
      location,
      upstream.origin,
      upstream.basePath,
      match.value.stripPrefix ? match.prefix : '',
    );
  }

  /** Security headers proxied answers are filled in with: the route's. */
  get proxiedSecurity(): SecurityHeaderSet {
    return this.match?.value.securityHeaders ?? this.headerPolicy.security;
  }

  /** Security headers for answers the gateway writes itself. */
  get gatewayHeaders(): readonly string[] {
    return this.tls ? this.headerPolicy.security.tls : this.headerPolicy.security.plain;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) {
      abort(new Error(CLIENT_GONE));
    }
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    _statusText: string,
  ): boolean {
    // Any head, interim ones included, shows the upstream is alive (see StallDetector).
    this.upstream?.attemptAnswered(this, performance.now());
    // 1xx are interim; the final status follows. 102 and 103 are relayed as they arrive (RFC
    // 9110 §15.2) and never reach the cache, which only sees the final response.
    if (statusCode < 200) {
      if (statusCode === 102 || statusCode === 103) {
        this.relayInterim(statusCode, rawHeaders);
      }
      return true;
    }
    this.resumeUpstream = resume;
    this.clearIdle();
    if (this.clientGone) {
      this.status = statusCode;
      return false;
    }
    if (statusCode >= 502 && statusCode <= 504 && this.host) {
      const retryAfter = headerValue(rawHeaders, 'retry-after');
      if (this.host.mayRetry(this, { status: statusCode, retryAfter })) {
        // Read the (small) error body to keep the connection reusable, then retry.
        this.discarding = true;
        this.status = statusCode;
        return true;
      }
    }
    this.status = statusCode;
    const now = performance.now();
    this.upstreamHeadMs = this.upstreamMs + (now - this.attemptStartedAt);
    try {
      // The upstream's reason phrase is not relayed: undici decodes it as UTF-8 and Node
      // refuses non-ASCII ones, and HTTP/1.1 clients must ignore it anyway (RFC 9112 §4).
      const headers = filterResponseHeaders(
        rawHeaders,
        this.requestId,
        this.proxiedSecurity,
        this.tls,
        this.responseHeaders,
        this.match?.value.preserveHost === false ? this : undefined,
        this.dropUpstreamCors,
        this.headerPolicy.strip,
      );
      if (this.headerPolicy.serverTiming) {
        this.addServerTiming(headers, now, this.upstreamHeadMs);
      }
      if (this.hook !== undefined && this.hook.onHeaders(this, statusCode, rawHeaders, headers)) {
        // The cache answered (304 to its own revalidation, stale-if-error): body discarded.
        return true;
      }
      this.res.writeHead(statusCode, headers);
    } catch (err) {
      // A header value Node will not write (control characters): the response is unusable.
      this.error = `invalid upstream response header: ${(err as Error).message}`;
      this.status = 0;
      this.abortUpstream?.(new Error(this.error));
      this.fail(GatewayErrorCode.UpstreamBadResponse);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding) {
      return true;
    }
    this.bytesOut += chunk.length;
    if (this.hook !== undefined) {
      this.hook.onData(chunk);
    }
    if (this.sink.write(chunk)) {
      return true;
    }
    // The client is not reading: give it the route timeout to drain (nginx send_timeout).
    this.armIdle();
    this.sink.once('drain', this.onDrain);
    return false;
  }

  onComplete(rawTrailers: string[] | Buffer[] | null): void {
    this.clearIdle();
    if (this.discarding) {
      this.discarding = false;
      this.endAttempt({ status: this.status, clientAborted: false });
      this.host?.retry(this);
      return;
    }
    this.endAttempt({ status: this.status, clientAborted: false });
    if (this.hook !== undefined) {
      this.hook.onComplete(this);
    }
    if (rawTrailers && rawTrailers.length > 0) {
      const trailers: [string, string][] = [];
      for (let i = 0; i < rawTrailers.length; i += 2) {
        trailers.push([rawTrailers[i].toString('latin1'), rawTrailers[i + 1].toString('latin1')]);
      }
      try {
        this.res.addTrailers(trailers);
      } catch {
        this.error = 'invalid upstream trailer dropped';
      }
    }
    this.sink.end();
  }

  onError(err: Error): void {
    this.clearIdle();
    if (this.hook !== undefined) {
      this.hook.onError();
    }
    if (this.clientGone || this.idleTimedOut) {
      return;
    }
    const code = (err as { code?: string }).code;
    // Set before the attempt is settled, so its span and metrics see the cause.
    this.error = code ?? err.message;
    this.endAttempt({ error: err as { code?: string }, clientAborted: false });
    const reserved = this.stallRetry;
    this.stallRetry = false;
    if (!this.res.headersSent && (reserved || this.host?.mayRetry(this, { error: err }))) {
      this.host!.retry(this);
      return;
    }
    if (code === 'GW_BODY_TOO_LARGE') {
      this.error = 'request body over limit';
      this.fail(GatewayErrorCode.PayloadTooLarge, ['connection', 'close']);
      return;
    }
    if (this.res.headersSent) {
      // Mid-body failure: cutting the connection is the only way to tell the client the body
      // is incomplete; a clean end would look like success.
      this.cut = true;
      this.res.destroy();
      return;
    }
    this.fail(classifyUpstreamError(err));
  }

  /**
   * Passes an interim response on. Not to HTTP/1.0 clients (RFC 9110 §15.2 forbids it), not after
   * the final head, and a 103 without a valid `Link` is dropped (Node writes 103 only with one).
   */
  private relayInterim(statusCode: number, rawHeaders: Buffer[]): void {
    const res = this.res;
    const req = this.req;
    if (
      res.headersSent ||
      this.clientGone ||
      req.httpVersionMajor < 1 ||
      (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)
    ) {
      return;
    }
    try {
      if (statusCode === 102) {
        res.writeProcessing();
        return;
      }
      const hints: Record<string, string> = {};
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i].toString('latin1').toLowerCase();
        if (!HOP_BY_HOP.has(name)) {
          const value = rawHeaders[i + 1].toString('latin1');
          hints[name] = hints[name] === undefined ? value : `${hints[name]}, ${value}`;
        }
      }
      res.writeEarlyHints(hints);
    } catch {
      // A Link Node refuses: the hint is optional, the final response still follows.
    }
  }

  // undici 7 passes the chunk itself although its typings say a size; accept both.
  onBodySent(chunk: number): void {
    const sent = chunk as number | Buffer;
    this.bytesIn += typeof sent === 'number' ? sent : sent.length;
    this.armIdle();
    if (this.maxBodyBytes > 0 && this.bytesIn > this.maxBodyBytes) {
      // A chunked body grew past the limit while streaming: stop the upstream exchange.
      this.abortUpstream?.(
        Object.assign(new Error('request body over limit'), { code: 'GW_BODY_TOO_LARGE' }),
      );
    }
  }

  /** Binds a new attempt to `upstream` (its breaker permit was already taken). */
  beginAttempt(upstream: Upstream): void {
    this.upstream = upstream;
    this.attempt++;
    this.tried.push(upstream);
    this.attemptOpen = true;
    this.abortUpstream = undefined;
    this.resumeUpstream = undefined;
    this.status = 0;
    upstream.inFlight++;
    this.attemptStartedAt = performance.now();
    upstream.attemptWaiting(this, this.attemptStartedAt);
  }

  /**
   * Settles the current attempt exactly once: inFlight, breaker permit, outlier detection, all
   * with the verdict of `classifyOutcome` under this upstream's failure statuses.
   */
  endAttempt(result: ExchangeResult): void {
    if (!this.attemptOpen || !this.upstream) {
      return;
    }
    const outcome: ExchangeOutcome = classifyOutcome(result, this.upstream.failureStatuses);
    this.attemptOpen = false;
    this.upstream.attemptSettled(this);
    this.upstream.inFlight--;
    const attemptMs = performance.now() - this.attemptStartedAt;
    this.upstreamMs += attemptMs;
    this.metrics.attemptEnded(this, this.upstream, attemptMs, outcome);
    this.trace?.endAttempt(
      this.status,
      outcome === 'success' ? undefined : (this.error ?? outcome),
    );
    this.host?.attemptEnded(this, this.upstream, outcome);
  }

  /**
   * The stall detector gave up on this attempt's upstream (see `StallDetector`). The attempt moves
   * to a peer only when a retry is allowed right now (idempotent, body not consumed, attempts,
   * time and nothing of the response sent); the retry is reserved before the abort, so the abort's
   * error starts it.
   */
  stalled(): boolean {
    if (!this.attemptOpen || this.abortUpstream === undefined || this.isClosed || !this.host) {
      return false;
    }
    const error = Object.assign(new Error('upstream stalled'), { code: STALLED_ERROR_CODE });
    if (!this.host.mayRetry(this, { error })) {
      return false;
    }
    this.stallRetry = true;
    this.abortUpstream(error);
    return true;
  }

  /**
   * `SERVER_TIMING`: the gateway's own time to response headers apart from the upstream's (the
   * settled attempts plus the current one's wait for its head). Retry back-off counts as gateway
   * time. An upstream's own Server-Timing entries are kept.
   */
  private addServerTiming(headers: string[], now: number, upstream: number): void {
    const gateway = Math.max(0, now - this.startedAt - upstream).toFixed(3);
    headers.push(
      'server-timing',
      `gw;dur=${gateway}, upstream;dur=${upstream.toFixed(3)}`,
      'x-gateway-latency',
      gateway,
    );
  }

  /** Request bytes already left for the upstream: the body cannot be replayed. */
  get bodyStarted(): boolean {
    return this.bytesIn > 0 || this.req.readableDidRead;
  }

  /** The whole request body reached the upstream: the client owes nothing more. */
  onRequestSent(): void {
    this.clearIdle();
  }

  /** The client is gone or the exchange was answered: nothing more to forward. */
  get isClosed(): boolean {
    return this.logged || this.res.destroyed || this.res.writableEnded;
  }

  /**
   * Bounds how long a client may stall while the gateway holds an upstream request for it: no
   * request-body bytes (nginx client_body_timeout) or no progress draining the response (nginx
   * send_timeout) for `idleMs`. One timer, refreshed rather than recreated.
   */
  armIdle(): void {
    if (this.idleMs <= 0) {
      return;
    }
    if (this.idleTimer) {
      this.idleTimer.refresh();
    } else {
      this.idleTimer = setTimeout(this.onIdle, this.idleMs);
    }
  }

  private clearIdle(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private readonly onIdle = (): void => {
    this.idleTimer = undefined;
    this.idleTimedOut = true;
    this.error = 'client idle timeout';
    this.abortUpstream?.(new Error(this.error));
    if (this.res.headersSent) {
      this.cut = true;
      this.res.destroy();
      return;
    }
    this.send(408, 'Request Timeout', 'Request body not received in time', ['connection', 'close']);
  };

  /** Answers with a gateway error (JSON, security headers, request id). */
  fail(code: GatewayErrorCode, headers: readonly string[] = [], message?: string): void {
    if (this.hook !== undefined && this.hook.onFail(this, code)) {
      return;
    }
    const spec = GATEWAY_ERRORS[code];
    this.send(spec.statusCode, spec.error, message ?? spec.message, headers);
  }

  /** Answers a rejection decided before proxying. */
  reject(rejection: GatewayRejection): void {
    this.error = rejection.reason;
    if (rejection.statusCode === 204) {
      // A CORS preflight answered by the gateway: headers only.
      this.res.writeHead(204, [
        ...this.gatewayHeaders,
        ...rejection.headers,
        'x-request-id',
        this.requestId,
      ]);
      this.res.end();
      return;
    }
    this.send(rejection.statusCode, rejection.error, rejection.message, rejection.headers);
  }

  private send(
    statusCode: number,
    error: string,
    message: string,
    headers: readonly string[],
  ): void {
    const extra = this.responseHeaders ? [...headers, ...this.responseHeaders] : headers;
    sendGatewayError(this.res, statusCode, error, message, this.requestId, [
      ...this.gatewayHeaders,
      ...extra,
    ]);
  }

  private readonly onDrain = (): void => {
    this.clearIdle();
    this.resumeUpstream?.();
  };

  private readonly onResponseClose = (): void => {
    const closed = this.onClosed;
    if (closed !== undefined) {
      this.onClosed = undefined;
      closed();
    }
    if (!this.res.writableFinished && !this.cut) {
      // The client went away first (or the body was cut): stop the upstream work.
      this.clientGone = true;
      this.abortUpstream?.(new Error(CLIENT_GONE));
    }
    this.finish();
  };

  private finish(): void {
    if (this.logged) {
      return;
    }
    this.logged = true;
    this.clearIdle();
    clearTimeout(this.retryTimer);
    // Still open here only when the client side ended it (gone, stalled): not the upstream's
    // fault, unless it had already answered 5xx.
    this.endAttempt({ status: this.status || undefined, clientAborted: true });
    this.host?.exchangeEnded(this);
    const status = this.status || this.res.statusCode;
    const record: AccessRecord = {
      requestId: this.requestId,
      method: this.req.method,
      host: this.req.headers.host,
      path: this.rawPath,
      query: this.query,
      route: this.match?.value.name,
      upstream: this.upstream?.label,
      // 499 as nginx logs it: the client closed the connection before the response completed.
      status: this.clientGone ? 499 : status,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      upstreamLatencyMs:
        this.attempt === 0
          ? undefined
          : Math.round((this.upstreamHeadMs ?? this.upstreamMs) * 1000) / 1000,
      attempts: this.attempt,
      cacheStatus: this.cacheStatus,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      clientIp: this.clientIp,
      userAgent: this.req.headers['user-agent'],
      referer: this.req.headers.referer,
      principal: this.principalId,
      error: this.clientGone ? (this.error ?? CLIENT_GONE) : this.error,
    };
    if (this.trace) {
      record.traceId = this.trace.traceId;
      this.trace.finish(record);
    }
    this.accessLog.log(record);
    this.metrics.exchangeFinished(this, record.status, record.durationMs);
  }
}

/** First value of a header in undici's raw list (names compared case-insensitively). */
function headerValue(raw: Buffer[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (
      raw[i].length === lowerName.length &&
      raw[i].toString('latin1').toLowerCase() === lowerName
    ) {
      return raw[i + 1].toString('latin1');
    }
  }
  return undefined;
}
