import type { IncomingMessage } from 'node:http';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { GatewayErrorCode } from '../common/errors/gateway-error';
import { RedisService } from '../redis/redis.service';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { applyCompression, CompressionHook } from '../compression/compression-hook';
import { negotiateEncoding } from '../compression/compression';
import { removeHeader } from '../common/http/flat-headers';
import { API_KEY_HEADER } from '../security/auth/auth.constants';
import { EAGER_ROUTE_SERIES_MAX_ROUTES } from '../observability/metrics.constants';
import { RouteTableService } from '../routing/route-table.service';
import { currentAgeMs, type LiveEntry } from './cache-entry';
import { BackgroundRefresher } from './background-refresh';
import { CacheResponder } from './cache-responder';
import type { CacheExchange, CacheHost } from './cache-exchange';
import {
  parseTarget,
  pathPartOf,
  primaryKey,
  uriOf,
  PRINCIPAL_VARY,
  scopeToPrincipal,
  LANGUAGE_KEY,
  secondaryKey,
  withPrincipalVary,
} from './cache-key';
import { conditionalHeaders, contentLanguageOf, selectingFields, useStoredSelecting } from './vary';
import { combineParts, holdsRequestedRange } from './partial-entry';
import { decideStore, requestPolicy, usability } from './cache-policy';
import { CacheTransaction } from './cache-transaction';
import { CACHE_HITS, CACHE_MISSES, CACHE_STALE } from './cache.constants';
import { MemoryStore } from './memory-store';
import { globEscape, RedisStore } from './redis-store';
import type { HookedExchange } from '../common/http/response-hook';
import {
  describeRouteCaching,
  type RouteCacheMetrics,
  type RouteCacheSettings,
} from './route-cache';
import { updateHeaders } from './stored-headers';

/** Requests waiting for one upstream response (nginx `proxy_cache_lock`). */
export interface Fill {
  waiters: ((entry: LiveEntry | undefined) => void)[];
  /** Date.now() when the leader went upstream; an older fill is treated as abandoned. */
  startedAt: number;
}

/** Longest a coalesced request waits for the leader before going upstream itself (nginx: 5 s). */
const LOCK_TIMEOUT_MS = 5_000;

export interface CacheStats {
  store: 'memory' | 'redis';
  redisReady: boolean;
  /** Entries and bytes of the in-memory store (the fallback while Redis is down). */
  memoryEntries: number;
  memoryBytes: number;
  memoryMaxBytes: number;
  evictions: number;
  hits: number;
  misses: number;
  stale: number;
  bypass: number;
  stores: number;
  coalesced: number;
}

/**
 * The gateway's shared HTTP cache (RFC 9111) and the entry point of response compression.
 * `intercept` runs in `ProxyService.forward`, after every edge check admitted the request, so
 * cached responses stay behind IP lists, rate limits and authentication. A memory hit is served
 * synchronously from a header array built once per entry.
 */
@Injectable()
export class HttpCacheService implements OnApplicationBootstrap {
  /** Cache-Status cache name (RFC 9211). */
  readonly name = 'nest-edge-gateway';
  readonly maxObjectBytes: number;
  /** Whether `intercept` has anything to do at all (one test on the hot path). */
  readonly active: boolean;
  private readonly compression: boolean;
  private readonly compressionMinBytes: number;
  private readonly memory: MemoryStore;
  private readonly shared: RedisStore | undefined;
  private readonly responder: CacheResponder;
  private readonly fills = new Map<string, Fill>();
  private readonly refresher = new BackgroundRefresher(this);
  private readonly logger = new Logger(HttpCacheService.name);
  private readonly cachingEnabled: boolean;
  private readonly counts = { hits: 0, misses: 0, stale: 0, bypass: 0, stores: 0, coalesced: 0 };

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    redis: RedisService,
    private readonly routes: RouteTableService,
    @InjectMetric(CACHE_HITS) private readonly hitsMetric: Counter<'route'>,
    @InjectMetric(CACHE_MISSES) private readonly missesMetric: Counter<'route'>,
    @InjectMetric(CACHE_STALE) private readonly staleMetric: Counter<'route'>,
  ) {
    this.maxObjectBytes = config.cache.maxObjectBytes;
    this.compression = config.cache.compression;
    this.compressionMinBytes = config.cache.compressionMinBytes;
    this.memory = new MemoryStore(config.cache.maxMemoryBytes);
    this.responder = new CacheResponder(
      this.name,
      config.cache.compression ? config.cache.compressionMinBytes : undefined,
      this.memory,
      config.cache.targetedField,
    );
    this.active = config.cache.enabled || config.cache.compression;
    this.cachingEnabled = config.cache.enabled;
    if (redis.client !== undefined && config.cache.enabled) {
      this.shared = new RedisStore(redis);
      // Entries kept in memory during an outage may miss purges made meanwhile: drop them.
      redis.onStatusChange((ready) => {
        if (ready) {
          this.memory.clear();
        }
      });
    }
  }

  onApplicationBootstrap(): void {
    // Label children per route once the route table is compiled, each at 0, so a scrape shows
    // every caching route from the start (rates need the zero sample). A large table gets them
    // on each route's first request instead.
    if (this.routes.routes.length > EAGER_ROUTE_SERIES_MAX_ROUTES) {
      return;
    }
    for (const route of this.routes.routes) {
      if (route.cache !== undefined) {
        route.cache.metrics ??= this.metricsFor(route.name);
      }
    }
    this.logger.log(describeRouteCaching(this.routes.routes, { enabled: this.cachingEnabled }));
  }

  /**
   * Cache lookup and compression set-up for an admitted request. Returns true when the cache
   * took the request over (answered it, or will call `host.proceed` later); false when the
   * caller must send it upstream now (with `exchange.hook` set when there is one).
   */
  intercept<E extends CacheExchange>(exchange: E, host: CacheHost<E>): boolean {
    const route = exchange.route!;
    const settings = route.cache;
    const req = exchange.req;
    if (settings === undefined) {
      if (this.compression && req.headers['accept-encoding'] !== undefined) {
        exchange.hook = new CompressionHook(req, this.compressionMinBytes);
      }
      return false;
    }
    settings.metrics ??= this.metricsFor(route.name);
    const method = req.method;
    const fields = host.cacheKeyFields(exchange);
    const primary =
      primaryKey(
        exchange.tls,
        exchange.authority,
        exchange.path,
        exchange.query,
        settings.keyPart,
        exchange.forwardedHost,
      ) + (fields ?? '');
    const accept = req.headers['accept-encoding'];
    if (accept !== undefined) {
      // The upstream is asked for exactly the coding the variant key names (as Varnish does):
      // with the raw header it may pick another coding the client listed (`gzip;q=0.5,
      // deflate` keys as gzip), and the gzip variant would hold a deflate body.
      req.headers['accept-encoding'] = negotiateEncoding(accept) ?? 'identity';
    }
    // §3.5 is about `Authorization`; a `Cookie` is treated the same way (as Varnish's built-in
    // policy does), because a session cookie is a credential too and an API that sends no
    // Cache-Control would otherwise have one user's page cached for the next. So is an API key
    // the gateway did not check (a route without auth, a public path): the upstream may well
    // answer by it. A consumer the gateway authenticated by API key gets its own variants (see
    // PRINCIPAL_VARY), keyed by the key's identity, never its label.
    const principal = exchange.principalKey;
    const authenticated =
      req.headers.authorization !== undefined ||
      req.headers.cookie !== undefined ||
      (principal === undefined && req.headers[API_KEY_HEADER] !== undefined);
    if (!authenticated && principal !== undefined) {
      scopeToPrincipal(req, principal);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const unsafe = method !== 'OPTIONS' && method !== 'TRACE';
      // A POST answer may be stored for later GETs (Content-Location), never one whose request
      // took a method override upstream (`fields` undefined): the upstream ran another method.
      exchange.hook = this.transaction(
        exchange,
        settings,
        unsafe ? 'invalidate' : 'bypass',
        primary,
        'method',
        authenticated,
        fields === undefined,
      );
      this.counts.bypass++;
      return false;
    }
    if (fields === undefined || exchange.hasBody) {
      exchange.hook = this.transaction(
        exchange,
        settings,
        'bypass',
        primary,
        'bypass',
        authenticated,
        false,
      );
      this.counts.bypass++;
      return false;
    }
    const policy = requestPolicy(req.headers['cache-control']);
    const now = Date.now();
    const found = this.lookup(primary, req, now);
    if (found instanceof Promise) {
      found
        .then(
          (entry) => {
            if (
              !exchange.isClosed &&
              !this.decide(exchange, host, settings, primary, policy, authenticated, entry)
            ) {
              host.proceed(exchange);
            }
          },
          () => {
            if (!exchange.isClosed) {
              host.proceed(exchange);
            }
          },
        )
        .catch((error: unknown) => {
          // Nothing thrown while answering may escape as an unhandled rejection.
          this.logger.error(`cache lookup failed: ${String(error)}`);
          exchange.res.destroy();
        });
      return true;
    }
    return this.decide(exchange, host, settings, primary, policy, authenticated, found);
  }

  private decide<E extends CacheExchange>(
    exchange: E,
    host: CacheHost<E>,
    settings: RouteCacheSettings,
    primary: string,
    policy: ReturnType<typeof requestPolicy>,
    authenticated: boolean,
    found: LiveEntry | undefined,
  ): boolean {
    const now = Date.now();
    // §3.5: a response stored for anyone is not handed to a request with credentials unless it
    // said it may be (public, s-maxage, must-revalidate).
    const shareable =
      found !== undefined && authenticated && !found.sharedWithAuth ? undefined : found;
    // An incomplete entry answers only a range it holds (RFC 9111 §3.3).
    const entry =
      shareable?.partial !== undefined && !holdsRequestedRange(shareable, exchange.req)
        ? undefined
        : shareable;
    const ranged = exchange.req.headers.range !== undefined;
    if (entry !== undefined) {
      const age = currentAgeMs(entry, now);
      const use = usability(entry, policy, age);
      if (use === 'fresh') {
        this.serve(exchange, exchange.req, entry, 'HIT', 'hit');
        settings.metrics!.hits.inc();
        return true;
      }
      if (use === 'stale-while-revalidate') {
        this.serve(exchange, exchange.req, entry, 'STALE', 'hit; detail=stale-while-revalidate');
        settings.metrics!.stale.inc();
        this.refresher.start(exchange, host, settings, primary, entry, authenticated);
        return true;
      }
    }
    if (policy.onlyIfCached) {
      exchange.cacheStatus = 'MISS';
      exchange.responseHeaders = [...(exchange.responseHeaders ?? []), 'x-cache', 'MISS'];
      exchange.fail(GatewayErrorCode.UpstreamTimeout, [], 'Not in cache (only-if-cached)');
      return true;
    }
    const fwd = entry !== undefined ? 'stale' : found === undefined ? 'uri-miss' : 'miss';
    // Range requests neither wait for nor lead a fill: their answer may be a part.
    if (entry === undefined && !ranged) {
      const fill = this.fills.get(primary);
      // A leader that vanished without an outcome (its client left during a retry back-off)
      // must not hold the key: past the lock timeout the next miss leads instead.
      if (fill !== undefined && now - fill.startedAt > LOCK_TIMEOUT_MS) {
        this.releaseFill(primary, fill, undefined);
      } else if (fill !== undefined) {
        this.counts.coalesced++;
        this.await(exchange, host, settings, primary, policy, authenticated, fill);
        return true;
      }
    }
    let fill: Fill | undefined;
    if (entry === undefined && !policy.noStore && !ranged) {
      fill = { waiters: [], startedAt: now };
      this.fills.set(primary, fill);
    }
    this.prepareUpstream(
      exchange,
      settings,
      primary,
      fwd,
      authenticated,
      policy.noStore,
      entry,
      fill,
    );
    return false;
  }

  /** Sets up the transaction for a request going upstream (miss or revalidation). */
  private prepareUpstream(
    exchange: CacheExchange,
    settings: RouteCacheSettings,
    primary: string,
    fwd: string,
    authenticated: boolean,
    noStore: boolean,
    stale: LiveEntry | undefined,
    fill: Fill | undefined,
  ): void {
    const req = exchange.req;
    const tx = new CacheTransaction(
      this,
      req,
      settings,
      stale !== undefined ? 'revalidate' : 'miss',
      primary,
      fwd,
      authenticated,
      noStore,
      stale,
      fill,
    );
    // The client's conditionals are answered here from the full response (nginx does the same):
    // the upstream is asked for the whole thing, or with the stored validators.
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    tx.ifNoneMatch = inm;
    tx.ifModifiedSince = ims;
    if (inm !== undefined || ims !== undefined) {
      delete req.headers['if-none-match'];
      delete req.headers['if-modified-since'];
    }
    if (stale !== undefined && (stale.etag !== undefined || stale.lastModified !== undefined)) {
      useStoredSelecting(req, stale);
      exchange.upstreamHeaders = { ...exchange.upstreamHeaders, ...conditionalHeaders(stale) };
    }
    exchange.hook = tx;
    this.counts.misses++;
  }

  /** Waits (bounded) for the request already fetching this key, then serves its result. */
  private await<E extends CacheExchange>(
    exchange: E,
    host: CacheHost<E>,
    settings: RouteCacheSettings,
    primary: string,
    policy: ReturnType<typeof requestPolicy>,
    authenticated: boolean,
    fill: Fill,
  ): void {
    let done = false;
    const finish = (entry: LiveEntry | undefined): void => {
      if (done) {
        return;
      }
      done = true;
      clearTimeout(timer);
      if (exchange.isClosed) {
        return;
      }
      if (
        entry !== undefined &&
        entry.partial === undefined &&
        (!authenticated || entry.sharedWithAuth) &&
        entry.variant === secondaryKey(entry.vary, exchange.req, languagesOf(entry)) &&
        usability(entry, policy, currentAgeMs(entry, Date.now())) === 'fresh'
      ) {
        this.serve(exchange, exchange.req, entry, 'HIT', 'hit; detail=coalesced');
        settings.metrics!.hits.inc();
        return;
      }
      // Not storable, another variant, or the leader failed: this request goes itself.
      this.prepareUpstream(
        exchange,
        settings,
        primary,
        'uri-miss',
        authenticated,
        policy.noStore,
        undefined,
        undefined,
      );
      host.proceed(exchange);
    };
    const timer = setTimeout(
      finish,
      Math.min(LOCK_TIMEOUT_MS, exchange.route!.timeoutMs),
      undefined,
    );
    fill.waiters.push(finish);
  }

  releaseFill(primary: string, fill: Fill, entry: LiveEntry | undefined): void {
    if (this.fills.get(primary) === fill) {
      this.fills.delete(primary);
    }
    for (const waiter of fill.waiters) {
      waiter(entry);
    }
  }

  private transaction(
    exchange: CacheExchange,
    settings: RouteCacheSettings,
    kind: 'bypass' | 'invalidate',
    primary: string,
    fwd: string,
    authenticated: boolean,
    noStore: boolean,
  ): CacheTransaction {
    exchange.cacheStatus = 'BYPASS';
    return new CacheTransaction(
      this,
      exchange.req,
      settings,
      kind,
      primary,
      fwd,
      authenticated,
      noStore,
      undefined,
      undefined,
    );
  }

  /** Answers from a stored entry (see CacheResponder). */
  serve(
    exchange: HookedExchange,
    req: IncomingMessage,
    entry: LiveEntry,
    verdict: 'HIT' | 'STALE',
    detail: string,
  ): void {
    if (verdict === 'HIT') {
      this.counts.hits++;
    } else {
      this.counts.stale++;
    }
    this.responder.serve(exchange, req, entry, verdict, detail);
  }

  /** Headers of a 304 the gateway writes from a full response's header list. */
  notModifiedHeaders(out: string[]): string[] {
    const copy = out.slice();
    removeHeader(copy, 'content-length');
    return copy;
  }

  /** Compression for a response going through a cache transaction. */
  compress(exchange: HookedExchange, req: IncomingMessage, status: number, out: string[]): void {
    if (this.compression) {
      applyCompression(exchange, req, status, out, this.compressionMinBytes);
    }
  }

  // --- storing ----------------------------------------------------------------------------

  private lookup(
    primary: string,
    req: IncomingMessage,
    now: number,
  ): LiveEntry | undefined | Promise<LiveEntry | undefined> {
    const secondaryOf = (vary: readonly string[], languages?: readonly string[]) =>
      secondaryKey(vary, req, languages);
    if (this.shared !== undefined && this.shared.ready) {
      return this.shared.lookup(primary, secondaryOf, now);
    }
    return this.memory.lookup(primary, secondaryOf, now);
  }

  /** Stores a complete response; returns the entry as stored (with its variant key). */
  save(primary: string, entry: LiveEntry, req: IncomingMessage): LiveEntry {
    // A variant with a Content-Language is keyed by it when the request preferred it most, so
    // later requests that prefer it most share it whatever else they list (Accept-Language).
    const languages = languagesOf(entry);
    entry.variant = entry.vary.length === 0 ? '' : secondaryKey(entry.vary, req, languages);
    const language = entry.variant.includes(LANGUAGE_KEY) ? languages?.[0] : undefined;
    entry.selecting = entry.vary.length === 0 ? undefined : selectingFields(entry.vary, req);
    this.counts.stores++;
    const variant = entry.variant;
    if (this.shared !== undefined && this.shared.ready) {
      const shared = this.shared;
      if (entry.partial === undefined) {
        void shared.save(primary, entry, variant, Date.now(), language);
      } else {
        void shared
          .lookup(primary, () => variant, Date.now())
          .then((stored) =>
            shared.save(primary, combineParts(stored, entry), variant, Date.now(), language),
          );
      }
      return entry;
    }
    const combined =
      entry.partial === undefined
        ? entry
        : combineParts(
            this.memory.lookup(primary, () => variant, Date.now()),
            entry,
          );
    this.memory.save(primary, combined, variant, language);
    return combined;
  }

  /** A stored entry refreshed by a 304 (headers updated, freshness recomputed) and re-stored. */
  refresh(
    stale: LiveEntry,
    fresh: string[],
    settings: RouteCacheSettings,
    authenticated: boolean,
    requestTime: number,
    responseTime: number,
    primary: string,
    req: IncomingMessage,
  ): LiveEntry {
    const headers = updateHeaders(stale.headers, fresh);
    const verdict = decideStore({
      status: stale.status,
      headers,
      authenticated,
      requestNoStore: false,
      defaultTtlMs: settings.ttlMs,
      ttlOptIn: settings.ttlOptIn,
      allowSetCookie: settings.allowSetCookie,
      targeted: settings.targeted,
      staleOnErrorMs: settings.staleOnErrorMs,
      requestTime,
      responseTime,
    });
    if (!verdict.store) {
      return { ...stale, headers, views: undefined };
    }
    return this.save(
      primary,
      {
        ...verdict.entry,
        // The principal scope is the gateway's, not in the headers: it carries over.
        vary: stale.vary.includes(PRINCIPAL_VARY)
          ? withPrincipalVary(verdict.entry.vary)
          : verdict.entry.vary,
        headers,
        body: stale.body,
        variant: stale.variant,
        selecting: stale.selecting,
        compressible: stale.compressible,
        ...(stale.partial === undefined ? {} : { partial: stale.partial }),
      },
      req,
    );
  }

  // --- invalidation and purge ----------------------------------------------------------------

  /**
   * §4.4: a successful unsafe request invalidates its target and same-origin Location and
   * Content-Location URIs. Those are keyed with the request's own context (route, forwarded
   * host): the entries a client of the same front door would be served.
   */
  invalidateAfterUnsafe(
    primary: string,
    req: IncomingMessage,
    location: string | undefined,
    contentLocation: string | undefined,
  ): void {
    const keys = [primary];
    const uri = uriOf(primary);
    const context = primary.slice(uri.length);
    const origin = uri.slice(0, uri.indexOf('/', uri.indexOf('://') + 3));
    for (const ref of [location, contentLocation]) {
      if (ref === undefined) {
        continue;
      }
      try {
        const target = parseTarget(new URL(ref, uri).href);
        if (target?.absolute !== undefined && target.absolute.startsWith(`${origin}/`)) {
          keys.push(target.absolute + context);
        }
      } catch {
        // An unparseable Location invalidates nothing more.
      }
    }
    void req;
    this.removeExact(keys);
  }

  /** Whether `ref` (a Location or Content-Location, maybe relative) names `primary`'s own URI. */
  isSameResource(primary: string, ref: string): boolean {
    const uri = uriOf(primary);
    try {
      return parseTarget(new URL(ref, uri).href)?.absolute === uri;
    } catch {
      return false;
    }
  }

  private removeExact(keys: string[]): void {
    for (const key of keys) {
      this.memory.deletePrimary(key);
    }
    if (this.shared !== undefined && this.shared.ready) {
      void this.shared.deletePrimaries(keys);
    }
  }

  /**
   * Removes the stored responses of one URL (all variants). `url` is absolute
   * (`https://api.example.com/a?b=1`: that scheme and host) or a path (`/a?b=1`: every host).
   * Returns the number of URLs removed.
   */
  async purge(url: string): Promise<number> {
    const target = parseTarget(url);
    if (target === undefined) {
      throw new Error(`not a URL or path: ${url}`);
    }
    // Every key ends with its context fields after a space (see primaryKey).
    const absolute = target.absolute;
    const match =
      absolute !== undefined
        ? (primary: string) => uriOf(primary) === absolute
        : (primary: string) => pathPartOf(primary) === target.pathPart;
    let removed = this.memory.deleteWhere(match);
    if (this.shared !== undefined && this.shared.ready) {
      const pattern =
        absolute !== undefined
          ? `${globEscape(absolute)} *`
          : `*://*${globEscape(target.pathPart)} *`;
      removed = Math.max(removed, await this.shared.deleteMatching(pattern, match));
    }
    return removed;
  }

  /** Removes every stored URL starting with `prefix` (absolute URL or path, as for `purge`). */
  async purgePrefix(prefix: string): Promise<number> {
    const target = parseTarget(prefix);
    if (target === undefined) {
      throw new Error(`not a URL or path: ${prefix}`);
    }
    const absolute = target.absolute;
    const match =
      absolute !== undefined
        ? (primary: string) => uriOf(primary).startsWith(absolute)
        : (primary: string) => pathPartOf(primary).startsWith(target.pathPart);
    let removed = this.memory.deleteWhere(match);
    if (this.shared !== undefined && this.shared.ready) {
      const pattern =
        absolute !== undefined
          ? `${globEscape(absolute)}*`
          : `*://*${globEscape(target.pathPart)}*`;
      removed = Math.max(removed, await this.shared.deleteMatching(pattern, match));
    }
    return removed;
  }

  stats(): CacheStats {
    return {
      store: this.shared !== undefined && this.shared.ready ? 'redis' : 'memory',
      redisReady: this.shared?.ready ?? false,
      memoryEntries: this.memory.size,
      memoryBytes: this.memory.usedBytes,
      memoryMaxBytes: this.memory.capacityBytes,
      evictions: this.memory.evictions,
      ...this.counts,
    };
  }

  private metricsFor(route: string): RouteCacheMetrics {
    const metrics = {
      hits: this.hitsMetric.labels(route),
      misses: this.missesMetric.labels(route),
      stale: this.staleMetric.labels(route),
    };
    metrics.hits.inc(0);
    metrics.misses.inc(0);
    metrics.stale.inc(0);
    return metrics;
  }
}

/** The Content-Language a variant of an Accept-Language-varying response can be selected by. */
function languagesOf(entry: Pick<LiveEntry, 'vary' | 'headers'>): string[] | undefined {
  if (!entry.vary.includes('accept-language')) {
    return undefined;
  }
  const language = contentLanguageOf(entry.headers);
  return language === undefined ? undefined : [language];
}
