import type { IncomingMessage } from 'node:http';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { currentAgeMs, type LiveEntry } from './cache-entry';
import { isPrincipalScoped, withPrincipalVary } from './cache-key';
import { firstHeader, getHeader } from '../common/http/flat-headers';
import type { HookedExchange, ResponseHook } from '../common/http/response-hook';
import { DISCARD_SINK } from '../common/http/response-hook';
import { decideStore, notModified, responseDirectives } from './cache-policy';
import type { RouteCacheSettings } from './route-cache';
import { isEntryCompressible, storedHeaders } from './stored-headers';
import { type ByteSpan, type PartialContent, parseContentRange } from './ranges';
import { removeHeader } from '../common/http/flat-headers';
import type { Fill, HttpCacheService } from './http-cache.service';

/** Gateway errors meaning "the origin could not be reached": stale-if-error applies. */
const UPSTREAM_FAILURES = new Set([
  GatewayErrorCode.NoUpstream,
  GatewayErrorCode.UpstreamUnreachable,
  GatewayErrorCode.UpstreamTimeout,
  GatewayErrorCode.UpstreamBadResponse,
]);

export type TransactionKind = 'miss' | 'revalidate' | 'bypass' | 'invalidate';

/**
 * The cache's part in one proxied request (a ResponseHook on the exchange): records a storable
 * response while it streams to the client, turns a 304 to the gateway's conditional request
 * into the refreshed stored response, serves stale on upstream failure within stale-if-error,
 * invalidates after successful unsafe methods, and adds X-Cache / Cache-Status.
 */
export class CacheTransaction implements ResponseHook {
  private chunks: Buffer[] | undefined;
  private size = 0;
  private pendingEntry: Omit<LiveEntry, 'body'> | undefined;
  /** The span and complete length of a 206 being recorded. */
  private pendingPart: { span: ByteSpan; length: number } | undefined;
  /** The client's own conditionals, answered by the gateway rather than the upstream. */
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;

  constructor(
    private readonly cache: HttpCacheService,
    private readonly req: IncomingMessage,
    private readonly settings: RouteCacheSettings,
    readonly kind: TransactionKind,
    readonly primary: string,
    /** Forwarded-for detail of Cache-Status (`uri-miss`, `vary-miss`, `stale`, `request`, …). */
    private readonly fwd: string,
    private readonly authenticated: boolean,
    private readonly requestNoStore: boolean,
    /** The stored response being revalidated (kind `revalidate`). */
    private readonly stale: LiveEntry | undefined,
    /** Requests waiting for this one's response (request coalescing), when it leads. */
    private fill: Fill | undefined,
    private readonly requestTime = Date.now(),
  ) {}

  onHeaders(exchange: HookedExchange, status: number, raw: Buffer[], out: string[]): boolean {
    const now = Date.now();
    if (this.kind === 'bypass' || this.kind === 'invalidate') {
      let stored = false;
      if (this.kind === 'invalidate' && status >= 200 && status < 400) {
        this.cache.invalidateAfterUnsafe(
          this.primary,
          this.req,
          getHeader(out, 'location'),
          getHeader(out, 'content-location'),
        );
        stored = this.req.method === 'POST' && this.recordPostResponse(status, raw, out, now);
      }
      out.push(
        'x-cache',
        'BYPASS',
        'cache-status',
        `${this.cache.name}; fwd=${this.fwd}${stored ? '; stored' : ''}`,
      );
      exchange.cacheStatus = 'BYPASS';
      this.cache.compress(exchange, this.req, status, out);
      return false;
    }
    const stale = this.stale;
    if (stale !== undefined && status === 304) {
      this.releaseFill(undefined);
      const refreshed = this.cache.refresh(
        stale,
        storedHeaders(raw),
        this.settings,
        this.authenticated,
        this.requestTime,
        now,
        this.primary,
        this.req,
      );
      exchange.sink = DISCARD_SINK;
      this.restoreConditionals();
      this.cache.serve(exchange, this.req, refreshed, 'HIT', `fwd=stale; fwd-status=304`);
      this.settings.metrics?.hits.inc();
      return true;
    }
    if (stale !== undefined && status >= 500 && this.canServeStaleOnError(stale, now)) {
      this.releaseFill(undefined);
      exchange.sink = DISCARD_SINK;
      this.restoreConditionals();
      this.cache.serve(
        exchange,
        this.req,
        stale,
        'STALE',
        `fwd=stale; fwd-status=${status}; detail=stale-if-error`,
      );
      this.settings.metrics?.stale.inc();
      return true;
    }
    let headers = storedHeaders(raw);
    // A single-part 206 with a known complete length is stored as part of that representation;
    // its headers become the representation's (RFC 9111 §3.4), without the part's own framing.
    const part =
      status === 206 ? parseContentRange(getHeader(headers, 'content-range')) : undefined;
    if (part !== undefined) {
      headers = headers.slice();
      removeHeader(headers, 'content-range');
      removeHeader(headers, 'content-length');
    }
    const verdict = decideStore({
      status,
      partial: part !== undefined && part.length <= this.cache.maxObjectBytes,
      headers,
      age: firstHeader(out, 'age'),
      authenticated: this.authenticated,
      requestNoStore: this.requestNoStore,
      defaultTtlMs: this.settings.ttlMs,
      ttlOptIn: this.settings.ttlOptIn,
      allowSetCookie: this.settings.allowSetCookie,
      targeted: this.settings.targeted,
      staleOnErrorMs: this.settings.staleOnErrorMs,
      requestTime: this.requestTime,
      responseTime: now,
    });
    const length = getHeader(headers, 'content-length');
    let stored = false;
    if (
      verdict.store &&
      this.req.method === 'GET' &&
      (length === undefined || Number(length) <= this.cache.maxObjectBytes)
    ) {
      this.pendingPart = part;
      this.pendingEntry = {
        ...verdict.entry,
        status: part === undefined ? status : 200,
        vary: isPrincipalScoped(this.req)
          ? withPrincipalVary(verdict.entry.vary)
          : verdict.entry.vary,
        headers,
        variant: '',
        compressible: isEntryCompressible(headers),
      };
      this.chunks = [];
      this.size = 0;
      stored = true;
    } else {
      this.releaseFill(undefined);
    }
    exchange.cacheStatus = 'MISS';
    this.settings.metrics?.misses.inc();
    out.push(
      'x-cache',
      'MISS',
      'cache-status',
      `${this.cache.name}; fwd=${this.fwd}; fwd-status=${status}${stored ? '; stored' : ''}`,
    );
    if (
      status === 200 &&
      (this.ifNoneMatch !== undefined || this.ifModifiedSince !== undefined) &&
      notModified(
        {
          etag: getHeader(headers, 'etag'),
          lastModified: getHeader(headers, 'last-modified'),
          headers,
        },
        this.ifNoneMatch,
        this.ifModifiedSince,
      )
    ) {
      // The client already has this representation; the body is still recorded for the cache.
      exchange.res.writeHead(304, this.cache.notModifiedHeaders(out));
      exchange.res.end();
      exchange.status = 304;
      exchange.sink = DISCARD_SINK;
      return true;
    }
    this.cache.compress(exchange, this.req, status, out);
    return false;
  }

  /**
   * A POST response that says it is the current representation of the request's own URI
   * (`Content-Location` equal to it) and has explicit freshness may answer later GETs of that
   * URI (RFC 9110 §9.3.3, RFC 9111 §4.4); it is recorded like a GET response, after the
   * invalidation the POST caused.
   */
  private recordPostResponse(status: number, raw: Buffer[], out: string[], now: number): boolean {
    const contentLocation = getHeader(out, 'content-location');
    if (
      contentLocation === undefined ||
      !this.cache.isSameResource(this.primary, contentLocation)
    ) {
      return false;
    }
    const headers = storedHeaders(raw);
    const { cc, targeted } = responseDirectives(headers, this.settings.targeted);
    const explicit =
      cc.sMaxAge !== undefined ||
      cc.maxAge !== undefined ||
      (!targeted && getHeader(headers, 'expires') !== undefined);
    if (!explicit) {
      return false;
    }
    const verdict = decideStore({
      status,
      headers,
      age: firstHeader(out, 'age'),
      authenticated: this.authenticated,
      requestNoStore: this.requestNoStore,
      defaultTtlMs: 0,
      ttlOptIn: false,
      allowSetCookie: this.settings.allowSetCookie,
      targeted: this.settings.targeted,
      staleOnErrorMs: this.settings.staleOnErrorMs,
      requestTime: this.requestTime,
      responseTime: now,
    });
    const length = getHeader(headers, 'content-length');
    if (!verdict.store || (length !== undefined && Number(length) > this.cache.maxObjectBytes)) {
      return false;
    }
    this.pendingEntry = {
      ...verdict.entry,
      vary: isPrincipalScoped(this.req)
        ? withPrincipalVary(verdict.entry.vary)
        : verdict.entry.vary,
      headers,
      variant: '',
      compressible: isEntryCompressible(headers),
    };
    this.chunks = [];
    this.size = 0;
    return true;
  }

  onData(chunk: Buffer): void {
    const chunks = this.chunks;
    if (chunks === undefined) {
      return;
    }
    this.size += chunk.length;
    if (this.size > this.cache.maxObjectBytes) {
      // Too big to store: stop recording, keep streaming.
      this.chunks = undefined;
      this.pendingEntry = undefined;
      this.releaseFill(undefined);
      return;
    }
    chunks.push(chunk);
  }

  onComplete(): void {
    const chunks = this.chunks;
    const pending = this.pendingEntry;
    this.chunks = undefined;
    this.pendingEntry = undefined;
    if (chunks === undefined || pending === undefined) {
      this.releaseFill(undefined);
      return;
    }
    let body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.size);
    const part = this.pendingPart;
    let partial: PartialContent | undefined;
    if (part !== undefined) {
      // A part whose body does not fill its Content-Range is not what it claims: not stored.
      if (body.length !== part.span[1] - part.span[0] + 1) {
        this.releaseFill(undefined);
        return;
      }
      const whole = Buffer.alloc(part.length);
      body.copy(whole, part.span[0]);
      body = whole;
      partial = { length: part.length, have: [part.span] };
    }
    const entry: LiveEntry = { ...pending, body, ...(partial ? { partial } : {}) };
    const saved = this.cache.save(this.primary, entry, this.req);
    this.releaseFill(saved);
  }

  onError(): void {
    this.chunks = undefined;
    this.pendingEntry = undefined;
    this.releaseFill(undefined);
  }

  onFail(exchange: HookedExchange, code: GatewayErrorCode): boolean {
    this.releaseFill(undefined);
    const stale = this.stale;
    const now = Date.now();
    if (stale !== undefined && UPSTREAM_FAILURES.has(code)) {
      const detail = this.canServeStaleOnError(stale, now)
        ? 'stale-if-error'
        : this.canServeStaleUnreachable(stale, now)
          ? 'unreachable'
          : undefined;
      if (detail !== undefined) {
        this.restoreConditionals();
        this.cache.serve(exchange, this.req, stale, 'STALE', `fwd=stale; detail=${detail}`);
        this.settings.metrics?.stale.inc();
        return true;
      }
    }
    const verdict = this.kind === 'bypass' || this.kind === 'invalidate' ? 'BYPASS' : 'MISS';
    exchange.cacheStatus = verdict;
    const extra = ['x-cache', verdict, 'cache-status', `${this.cache.name}; fwd=${this.fwd}`];
    exchange.responseHeaders = exchange.responseHeaders
      ? [...exchange.responseHeaders, ...extra]
      : extra;
    return false;
  }

  /**
   * Puts the client's own conditionals back (they were kept from the upstream request, which
   * carried the stored validators instead), so an answer from the stored response honours them:
   * a matching If-Modified-Since or If-None-Match gets 304 after a revalidation too.
   */
  private restoreConditionals(): void {
    if (this.ifNoneMatch !== undefined) {
      this.req.headers['if-none-match'] = this.ifNoneMatch;
    }
    if (this.ifModifiedSince !== undefined) {
      this.req.headers['if-modified-since'] = this.ifModifiedSince;
    }
  }

  /**
   * RFC 9111 §4.2.4: a cache that cannot reach the origin may serve a stale response, unless
   * must-revalidate, proxy-revalidate, s-maxage or no-cache forbid it; bounded here by
   * CACHE_STALE_ON_ERROR (Traffic Server's negative revalidating, Squid's max_stale). An HTTP
   * 5xx answer is not "unreachable": only stale-if-error covers it; and a response that set its
   * own stale-if-error window set the upper limit too (RFC 5861 §4).
   */
  private canServeStaleUnreachable(stale: LiveEntry, now: number): boolean {
    return (
      !stale.mustRevalidate &&
      !stale.noCache &&
      stale.staleIfErrorMs === 0 &&
      stale.partial === undefined &&
      currentAgeMs(stale, now) - stale.freshnessMs <= this.settings.staleOnErrorMs
    );
  }

  private canServeStaleOnError(stale: LiveEntry, now: number): boolean {
    if (stale.mustRevalidate) {
      return false;
    }
    const staleFor = currentAgeMs(stale, now) - stale.freshnessMs;
    return staleFor <= stale.staleIfErrorMs && (stale.staleIfErrorMs > 0 || staleFor <= 0);
  }

  private releaseFill(entry: LiveEntry | undefined): void {
    const fill = this.fill;
    if (fill !== undefined) {
      this.fill = undefined;
      this.cache.releaseFill(this.primary, fill, entry);
    }
  }
}
