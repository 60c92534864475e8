import {
  type CacheDirectives,
  parseCacheControl,
  parseTargetedCacheControl,
} from '../common/http/cache-control';
import { type FlatHeaders, getHeader, hasHeader } from '../common/http/flat-headers';
import { parseHttpDate } from '../common/http/http-date';
import type { CacheEntry } from './cache-entry';

/** Status codes a cache may store with heuristic freshness (RFC 9110 §15.1), minus 206. */
const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * Final status codes whose caching semantics this cache implements (those RFC 9110 defines): a
 * response with `must-understand` is stored only with one of these, and then `no-store` yields
 * to it (RFC 9111 §5.2.2.3).
 */
const UNDERSTOOD_STATUS = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502,
  503, 504, 505,
]);

const NO_TARGETED: readonly string[] = [];

/**
 * The response's cache directives for this cache (RFC 9213 §2.1): the first targeted field in
 * `targeted` order with a valid, non-empty value, else `Cache-Control`. `targeted` says which
 * was used: then `Cache-Control` and `Expires` are ignored for this cache's decisions.
 */
export function responseDirectives(
  headers: FlatHeaders,
  targetedFields: readonly string[] = NO_TARGETED,
): { cc: CacheDirectives; targeted: boolean } {
  for (const name of targetedFields) {
    const value = getHeader(headers, name);
    if (value !== undefined) {
      const cc = parseTargetedCacheControl(value);
      if (cc !== undefined) {
        return { cc, targeted: true };
      }
    }
  }
  return { cc: parseCacheControl(getHeader(headers, 'cache-control')), targeted: false };
}

/**
 * `Age` in seconds (RFC 9111 §5.1): delta-seconds from the first field line only, its first list
 * member (`Age: 7200, 0` is 7200, as a recipient that joins lines would read it). Anything that is
 * not a non-negative integer (`-1`, `7200.0`, `abc`, `7200;x=y`) is ignored as a whole: 0.
 * Values past 2^31 saturate there, as §1.2.2 asks.
 */
export function parseAge(first: string | undefined): number {
  if (first === undefined) {
    return 0;
  }
  const comma = first.indexOf(',');
  const value = (comma === -1 ? first : first.slice(0, comma)).trim();
  return /^\d+$/.test(value) ? Math.min(Number(value), 2_147_483_648) : 0;
}

export interface StoreContext {
  status: number;
  headers: FlatHeaders;
  /** The request carried credentials (Authorization, or the gateway authenticated it). */
  authenticated: boolean;
  /** The request said `Cache-Control: no-store`. */
  requestNoStore: boolean;
  /**
   * `CACHE_TTL` or the route's `ttl`, in ms: the freshness of responses that state none when
   * `ttlOptIn`, and the cap of heuristic freshness from `Last-Modified` otherwise.
   */
  defaultTtlMs: number;
  /**
   * The operator asked for responses that state no freshness to be cached: `CACHE_TTL` was set
   * explicitly (environment, `.env` or config file) or the route has `cache.ttl`.
   */
  ttlOptIn: boolean;
  /** Targeted cache-control fields (RFC 9213) this cache obeys, most specific first. */
  targeted?: readonly string[];
  /** A 206 whose single `Content-Range` the caller checked and will store as a partial entry. */
  partial?: boolean;
  /** How long past freshness the entry may serve while the upstream is unreachable, in ms. */
  staleOnErrorMs?: number;
  allowSetCookie: boolean;
  /** The response's first `Age` field line (not kept among the stored headers). */
  age?: string;
  /** Wall-clock ms the request was sent and the response headers arrived. */
  requestTime: number;
  responseTime: number;
}

export type StoreVerdict =
  | { store: false; reason: string }
  | { store: true; entry: Omit<CacheEntry, 'body' | 'variant' | 'compressible' | 'headers'> };

function httpDate(value: string | undefined): number | undefined {
  return parseHttpDate(value);
}

/** Lower-case field names of a `Vary` value; `['*']` for `Vary: *`. */
export function parseVary(value: string | undefined): string[] {
  if (value === undefined) {
    return [];
  }
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '') {
      names.add(name);
    }
  }
  return names.has('*') ? ['*'] : [...names].sort();
}

/** RFC 9111 §4.2.2's "typical" fraction of the time since Last-Modified used as heuristic freshness. */
const LAST_MODIFIED_FRACTION = 0.1;

/**
 * Whether a shared cache may store this response (RFC 9111 §3, §3.5) and, if so, its freshness
 * (§4.2.1, s-maxage > max-age > Expires > heuristic) and initial age (§4.2.3).
 *
 * Heuristic freshness, for a response that gives no explicit one, is where a shared cache in
 * front of an API does harm: most JSON APIs send no `Cache-Control` at all, and storing their
 * answers serves stale data (or, where a custom header carries the session, one user's data to
 * another). So a response is stored with heuristic freshness only when it asked to be, or the
 * operator did:
 * - `public`: the response declared itself cacheable; it gets the configured TTL;
 * - `Last-Modified` (the validator RFC 9111 §4.2.2 bases heuristics on): 10 % of the time since
 *   then, at most the configured TTL, as browsers and Squid do;
 * - `no-cache` with a validator: stored, and revalidated on every use;
 * - anything else only with `ttlOptIn` (an explicit `CACHE_TTL` or the route's `cache.ttl`), for
 *   the configured TTL, as nginx caches only what `proxy_cache_valid` names.
 */
export function decideStore(ctx: StoreContext): StoreVerdict {
  const { status, headers } = ctx;
  // A 206 is stored only as part of a representation the caller can place (RFC 9111 §3.3).
  if (status < 200 || status === 304 || (status === 206 && ctx.partial !== true)) {
    return { store: false, reason: 'status' };
  }
  if (ctx.requestNoStore) {
    return { store: false, reason: 'request no-store' };
  }
  const { cc, targeted } = responseDirectives(headers, ctx.targeted);
  if (cc.mustUnderstand && !UNDERSTOOD_STATUS.has(status)) {
    return { store: false, reason: 'must-understand' };
  }
  if (cc.noStore && !cc.mustUnderstand) {
    return { store: false, reason: 'no-store' };
  }
  if (cc.private) {
    return { store: false, reason: 'private' };
  }
  const sharedWithAuth = cc.public || cc.sMaxAge !== undefined || cc.mustRevalidate;
  if (ctx.authenticated && !sharedWithAuth) {
    return { store: false, reason: 'authorization' };
  }
  const vary = parseVary(getHeader(headers, 'vary'));
  if (vary[0] === '*') {
    return { store: false, reason: 'vary *' };
  }
  if (!ctx.allowSetCookie && hasHeader(headers, 'set-cookie')) {
    return { store: false, reason: 'set-cookie' };
  }
  const dateValue = httpDate(getHeader(headers, 'date')) ?? ctx.responseTime;
  let freshnessMs: number;
  if (cc.sMaxAge !== undefined) {
    freshnessMs = cc.sMaxAge * 1000;
  } else if (cc.maxAge !== undefined) {
    freshnessMs = cc.maxAge * 1000;
  } else if (!targeted && hasHeader(headers, 'expires')) {
    // An invalid Expires (`0`, garbage, any date form other than RFC 9110's three, several
    // field lines) means already expired (§5.3).
    const expires = httpDate(getHeader(headers, 'expires'));
    freshnessMs = expires === undefined ? 0 : Math.max(0, expires - dateValue);
  } else if (HEURISTIC_STATUS.has(status) || status === 206 || cc.public) {
    // `public` makes any final status storable (§3); it still needs some freshness.
    const heuristic = heuristicFreshness(ctx, cc, getHeader(headers, 'last-modified'), dateValue);
    if (heuristic === undefined) {
      return { store: false, reason: 'no freshness' };
    }
    freshnessMs = heuristic;
  } else {
    return { store: false, reason: 'status' };
  }
  const etag = getHeader(headers, 'etag');
  const lastModified = getHeader(headers, 'last-modified');
  const hasValidator = etag !== undefined || lastModified !== undefined;
  if (cc.noCache) {
    freshnessMs = 0;
  }
  if (freshnessMs <= 0 && !hasValidator && !cc.staleIfError && !cc.staleWhileRevalidate) {
    return { store: false, reason: 'stale on arrival' };
  }
  const apparentAge = Math.max(0, ctx.responseTime - dateValue);
  const correctedAgeValue =
    parseAge(ctx.age) * 1000 + Math.max(0, ctx.responseTime - ctx.requestTime);
  const mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge !== undefined;
  const swr = mustRevalidate ? 0 : (cc.staleWhileRevalidate ?? 0) * 1000;
  // must-revalidate forbids stale-if-error too (RFC 5861 §4).
  const sie = mustRevalidate ? 0 : (cc.staleIfError ?? 0) * 1000;
  const initialAgeMs = Math.max(apparentAge, correctedAgeValue);
  // Kept past freshness for the stale windows, and for revalidation while it has validators.
  // ...and for use while the upstream is unreachable, unless stale use is forbidden (§4.2.4).
  const unreachable = mustRevalidate || cc.noCache ? 0 : (ctx.staleOnErrorMs ?? 0);
  const keepMs =
    Math.max(0, freshnessMs - initialAgeMs) +
    Math.max(swr, sie, unreachable, hasValidator ? Math.max(freshnessMs, 60_000) : 0);
  return {
    store: true,
    entry: {
      status,
      responseTime: ctx.responseTime,
      initialAgeMs,
      freshnessMs,
      staleWhileRevalidateMs: swr,
      staleIfErrorMs: sie,
      mustRevalidate,
      noCache: cc.noCache,
      sharedWithAuth,
      etag,
      lastModified,
      vary,
      expiresAt: ctx.responseTime + keepMs,
    },
  };
}

/** Heuristic freshness of a response without explicit freshness, or undefined: do not store. */
function heuristicFreshness(
  ctx: StoreContext,
  cc: CacheDirectives,
  lastModifiedValue: string | undefined,
  dateValue: number,
): number | undefined {
  if (ctx.ttlOptIn || cc.public) {
    return ctx.defaultTtlMs;
  }
  const lastModified = httpDate(lastModifiedValue);
  if (lastModified !== undefined) {
    return Math.min(
      ctx.defaultTtlMs,
      Math.floor(Math.max(0, dateValue - lastModified) * LAST_MODIFIED_FRACTION),
    );
  }
  // `no-cache` asks to be stored and validated on every use (kept when it has a validator).
  return cc.noCache ? 0 : undefined;
}

/**
 * What the cache takes from a request's own `Cache-Control` (§5.2.1). Directives that would make
 * the cache go upstream instead of using a fresh stored response (`no-cache`, `max-age`,
 * `min-fresh`, `Pragma: no-cache`) are ignored, as nginx and Varnish ignore them by default:
 * the response to one client's forced refresh would replace the entry for every client (a way to
 * put an answer into the cache at a moment of the attacker's choosing), and any client could
 * send every request through to the upstream. What remains only ever concerns the client's own
 * answer: `no-store`, `max-stale` and `only-if-cached`.
 */
export interface RequestPolicy {
  noStore: boolean;
  maxStaleMs: number | undefined;
  onlyIfCached: boolean;
}

const PLAIN_REQUEST: RequestPolicy = Object.freeze({
  noStore: false,
  maxStaleMs: undefined,
  onlyIfCached: false,
});

export function requestPolicy(cacheControl: string | string[] | undefined): RequestPolicy {
  if (cacheControl === undefined) {
    return PLAIN_REQUEST;
  }
  const cc = parseCacheControl(cacheControl);
  return {
    noStore: cc.noStore,
    maxStaleMs: cc.maxStale === undefined ? undefined : cc.maxStale * 1000,
    onlyIfCached: cc.onlyIfCached,
  };
}

/** How a stored entry may be used for this request right now. */
export type Usability =
  /** Serve it as is. */
  | 'fresh'
  /** Serve it stale and refresh it in the background (stale-while-revalidate). */
  | 'stale-while-revalidate'
  /** Validate it upstream first (conditional request); stale-if-error may still use it. */
  | 'revalidate';

export function usability(entry: CacheEntry, policy: RequestPolicy, ageMs: number): Usability {
  if (entry.noCache) {
    return 'revalidate';
  }
  const remaining = entry.freshnessMs - ageMs;
  if (remaining > 0) {
    return 'fresh';
  }
  if (!entry.mustRevalidate && policy.maxStaleMs !== undefined && -remaining <= policy.maxStaleMs) {
    return 'fresh';
  }
  if (entry.staleWhileRevalidateMs > 0 && -remaining <= entry.staleWhileRevalidateMs) {
    return 'stale-while-revalidate';
  }
  return 'revalidate';
}

/** Weak comparison of entity tags (RFC 9110 §8.8.3.2). */
function weakMatch(a: string, b: string): boolean {
  const strip = (t: string) => (t.startsWith('W/') ? t.slice(2) : t);
  return strip(a.trim()) === strip(b.trim());
}

/**
 * Evaluates a client's `If-None-Match` / `If-Modified-Since` against a stored entry (RFC 9110
 * §13.2.2): true means answer 304. If-None-Match wins when both are present.
 */
export function notModified(
  entry: Pick<CacheEntry, 'etag' | 'lastModified' | 'headers'>,
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
): boolean {
  if (ifNoneMatch !== undefined) {
    if (entry.etag === undefined) {
      return false;
    }
    if (ifNoneMatch.trim() === '*') {
      return true;
    }
    return ifNoneMatch.split(',').some((tag) => weakMatch(tag, entry.etag!));
  }
  if (ifModifiedSince !== undefined) {
    const since = httpDate(ifModifiedSince);
    const modified =
      httpDate(entry.lastModified) ?? httpDate(getHeader(entry.headers, 'date')) ?? undefined;
    return since !== undefined && modified !== undefined && modified <= since;
  }
  return false;
}
