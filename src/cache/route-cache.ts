import type { Counter } from 'prom-client';
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
  /** Freshness of cacheable responses that state none, in ms. */
  readonly ttlMs: number;
  readonly allowSetCookie: boolean;
  /** The route's field of the primary key (see primaryKey). */
  readonly keyPart: string;
  /** Bound by HttpCacheService on first use. */
  metrics?: RouteCacheMetrics;
}

export function compileRouteCache(
  route: RouteConfig,
  cache: CacheConfig,
): RouteCacheSettings | undefined {
  if (!cache.enabled || route.cache?.enabled === false) {
    return undefined;
  }
  return {
    ttlMs: route.cache?.ttlMs ?? cache.ttlMs,
    allowSetCookie: route.cache?.allowSetCookie ?? false,
    keyPart: routeKeyPart(route.name),
  };
}
