import type { CacheConfig, RouteConfig } from '../config/gateway-config.types';
import { ASKS_FIRST_RULE, compileRouteCache, describeRouteCaching } from './route-cache';

const cache = (over: Partial<CacheConfig> = {}): CacheConfig => ({
  enabled: true,
  ttlMs: 300_000,
  ttlExplicit: false,
  maxObjectBytes: 1,
  maxMemoryBytes: 1,
  compression: false,
  compressionMinBytes: 0,
  staleOnErrorMs: 0,
  ...over,
});
const route = (name: string, over: Partial<RouteConfig> = {}) => ({ name, ...over }) as RouteConfig;

describe('compileRouteCache: which rule a route stores by', () => {
  it('should store only what asks to be cached by default', () => {
    expect(compileRouteCache(route('api'), cache())).toMatchObject({
      ttlOptIn: false,
      ttlMs: 300_000,
      rule: ASKS_FIRST_RULE,
    });
  });

  it('should opt in with an explicit CACHE_TTL', () => {
    expect(
      compileRouteCache(route('api'), cache({ ttlExplicit: true, ttlMs: 60_000 })),
    ).toMatchObject({
      ttlOptIn: true,
      ttlMs: 60_000,
      rule: 'also responses without freshness, for 1m (CACHE_TTL set)',
    });
  });

  it('should opt in a route with its own cache.ttl', () => {
    const r = route('search', { cache: { enabled: true, ttlMs: 30_000, allowSetCookie: false } });
    expect(compileRouteCache(r, cache())).toMatchObject({
      ttlOptIn: true,
      ttlMs: 30_000,
      rule: 'also responses without freshness, for 30s (route cache.ttl)',
    });
  });

  it('should describe every route in one line', () => {
    const routes = [
      route('api'),
      route('users'),
      route('search', { cache: { enabled: true, ttlMs: 30_000, allowSetCookie: false } }),
      route('admin', { cache: { enabled: false, allowSetCookie: false } }),
    ].map((r) => ({ name: r.name, cache: compileRouteCache(r, cache()) }));
    expect(describeRouteCaching(routes, { enabled: true })).toBe(
      `response cache: api, users: ${ASKS_FIRST_RULE}; ` +
        'search: also responses without freshness, for 30s (route cache.ttl); ' +
        'not caching (cache.enabled: false): admin',
    );
    expect(describeRouteCaching(routes, { enabled: false })).toBe(
      'response cache off (ENABLE_CACHING=false)',
    );
  });
});
