import { loadGatewayConfig } from './load-config';

/** Per-route `cache` settings; the global cache settings are in load-config.spec.ts. */
describe('route cache configuration', () => {
  const load = (cache: unknown) =>
    loadGatewayConfig({
      env: {
        SERVICE_ROUTES: JSON.stringify([
          { name: 'api', prefix: '/api', target_url: 'http://10.0.0.5', cache },
        ]),
      },
      cwd: '/nonexistent-gateway-dir',
      isTTY: false,
    });

  it('should leave cache unset when the route says nothing', () => {
    const result = load(undefined);
    expect(result.ok && result.config.routes[0].cache).toBeUndefined();
  });

  it('should read enabled, ttl and allow_set_cookie with their defaults', () => {
    const full = load({ enabled: false, ttl: '90s', allow_set_cookie: true });
    expect(full.ok && full.config.routes[0].cache).toEqual({
      enabled: false,
      ttlMs: 90_000,
      allowSetCookie: true,
    });
    const empty = load({});
    expect(empty.ok && empty.config.routes[0].cache).toEqual({
      enabled: true,
      allowSetCookie: false,
    });
  });

  it('should reject a bad ttl or an unknown key', () => {
    const bad = load({ ttl: 'soon', size: 3 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.join('\n')).toMatch(/cache\.ttl/);
    expect(!bad.ok && bad.problems.join('\n')).toMatch(/size/);
  });
});
