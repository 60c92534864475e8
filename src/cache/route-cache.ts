import type { Counter } from 'prom-client';
import { formatDuration } from '../config/duration';
import type { CacheConfig, RouteConfig } from '../config/gateway-config.types';
import { routeKeyPart } from './cache-key';

/** Per-route metric children, bound once per route (no label lookups per request). */
export interface RouteCacheMetrics {
  hits: Counter.Internal;
  misses: Counter.Internal;
  stale: Counter.Internal;
}

/** A route's cache settings, compiled at boot; undefined on routes that do not cache. */
export interface RouteCacheSettings {
  /**
   * The configured TTL in ms: the freshness of responses that state none when `ttlOptIn`, else
   * the cap of heuristic freshness from `Last-Modified`.
   */
  readonly ttlMs: number;
  /** Responses that state no freshness are stored (explicit `CACHE_TTL` or the route's `cache.ttl`). */
  readonly ttlOptIn: boolean;
  readonly allowSetCookie: boolean;
  /** The route's field of the primary key (see primaryKey). */
  readonly keyPart: string;
  /** Which rule decides what this route stores, for the startup line. */
  readonly rule: string;
  /**
   * Targeted cache-control fields this cache obeys, most specific first (RFC 9213 §2.1): the
   * gateway's own (`CACHE_TARGETED_FIELD`), then `CDN-Cache-Control`.
   */
  readonly targeted: readonly string[];
  /** `CACHE_STALE_ON_ERROR`: stale use while the upstream is unreachable, in ms (0: never). */
  readonly staleOnErrorMs: number;
  /** Bound by HttpCacheService on first use. */
  metrics?: RouteCacheMetrics;
}

/** The rule of routes that store only what asks to be stored. */
export const ASKS_FIRST_RULE =
  'only responses that ask to be cached (max-age, s-maxage, Expires, public, Last-Modified)';

export function compileRouteCache(
  route: RouteConfig,
  cache: CacheConfig,
): RouteCacheSettings | undefined {
  if (!cache.enabled || route.cache?.enabled === false) {
    return undefined;
  }
  const routeTtl = route.cache?.ttlMs;
  const ttlMs = routeTtl ?? cache.ttlMs;
  let rule = ASKS_FIRST_RULE;
  if (routeTtl !== undefined) {
    rule = `also responses without freshness, for ${formatDuration(ttlMs)} (route cache.ttl)`;
  } else if (cache.ttlExplicit) {
    rule = `also responses without freshness, for ${formatDuration(ttlMs)} (CACHE_TTL set)`;
  }
  return {
    ttlMs,
    ttlOptIn: routeTtl !== undefined || cache.ttlExplicit,
    allowSetCookie: route.cache?.allowSetCookie ?? false,
    keyPart: routeKeyPart(route.name),
    rule,
    targeted:
      cache.targetedField === undefined
        ? ['cdn-cache-control']
        : [cache.targetedField, 'cdn-cache-control'],
    staleOnErrorMs: cache.staleOnErrorMs,
  };
}

/**
 * The one startup line saying which routes cache and under which rule, e.g.
 * `response cache: api, users: only responses that ask to be cached (...); search: also
 * responses without freshness, for 1m (route cache.ttl); not caching: admin`.
 */
export function describeRouteCaching(
  routes: readonly { name: string; cache: RouteCacheSettings | undefined }[],
  cache: Pick<CacheConfig, 'enabled'>,
): string {
  if (!cache.enabled) {
    return 'response cache off (ENABLE_CACHING=false)';
  }
  const byRule = new Map<string, string[]>();
  const off: string[] = [];
  for (const route of routes) {
    if (route.cache === undefined) {
      off.push(route.name);
      continue;
    }
    byRule.set(route.cache.rule, [...(byRule.get(route.cache.rule) ?? []), route.name]);
  }
  const parts = [...byRule].map(([rule, names]) => `${names.join(', ')}: ${rule}`);
  if (off.length > 0) {
    parts.push(`not caching (cache.enabled: false): ${off.join(', ')}`);
  }
  return `response cache: ${parts.length > 0 ? parts.join('; ') : 'no routes'}`;
}
