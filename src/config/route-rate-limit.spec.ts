import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig, type LoadGatewayConfigResult } from './load-config';

/** Per-route `rate_limit` and the rate-limit settings; the rest is in load-config.spec.ts. */
describe('rate limit configuration', () => {
  const dirs: string[] = [];

  afterAll(() => {
    for (const dir of dirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function load(env: Record<string, string>, files: Record<string, string> = {}) {
    const cwd = mkdtempSync(join(tmpdir(), 'gateway-rate-limit-'));
    dirs.push(cwd);
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(cwd, name), text);
    }
    return loadGatewayConfig({ env, cwd, isTTY: false });
  }

  function problems(result: LoadGatewayConfigResult): string[] {
    return result.ok ? [] : result.problems;
  }

  const route = (rateLimit: unknown) =>
    JSON.stringify([
      { name: 'api', prefix: '/api', target_url: 'http://10.0.0.5', rate_limit: rateLimit },
    ]);

  it('should read rate_limit from SERVICE_ROUTES with its defaults', () => {
    const result = load({ SERVICE_ROUTES: route({ rate: 2.5 }) });

    expect(result.ok && result.config.routes[0].rateLimit).toEqual({
      rate: 2.5,
      burst: 3,
      key: 'ip',
    });
  });

  it('should read rate_limit from the config file', () => {
    const yaml = [
      'routes:',
      '  - prefix: /api',
      '    target_url: http://10.0.0.5',
      '    rate_limit: { rate: 10, burst: 50, key: jwt_sub }',
      '',
    ].join('\n');
    const result = load({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': yaml });

    expect(result.ok && result.config.routes[0].rateLimit).toEqual({
      rate: 10,
      burst: 50,
      key: 'jwt_sub',
    });
  });

  it('should leave routes without rate_limit on the default limits only', () => {
    const result = load({ SERVICE_ROUTES: route(undefined) });

    expect(result.ok && 'rateLimit' in result.config.routes[0]).toBe(false);
  });

  it('should report every invalid rate_limit field', () => {
    expect(
      problems(load({ SERVICE_ROUTES: route({ rate: 0, burst: 0.5, key: 'cookie' }) })),
    ).toEqual([
      'SERVICE_ROUTES[0].rate_limit.rate: must be > 0',
      'SERVICE_ROUTES[0].rate_limit.burst: expected int, received number',
      'SERVICE_ROUTES[0].rate_limit.key: expected one of ip|api_key|jwt_sub',
    ]);
    expect(problems(load({ SERVICE_ROUTES: route({ rates: 5 }) }))).toEqual([
      'SERVICE_ROUTES[0].rate_limit.rate: expected number, received undefined',
      'SERVICE_ROUTES[0].rate_limit.rates: unknown key (did you mean "rate"?)',
    ]);
  });

  it('should read RATE_LIMIT_MAX_KEYS and RATE_LIMIT_FAIL_CLOSED and check them', () => {
    const ok = load({ RATE_LIMIT_MAX_KEYS: '2000', RATE_LIMIT_FAIL_CLOSED: 'T' });
    expect(ok.ok && ok.config.security).toMatchObject({
      rateLimitMaxKeys: 2000,
      rateLimitFailClosed: true,
    });

    expect(problems(load({ RATE_LIMIT_MAX_KEYS: '0', RATE_LIMIT_FAIL_CLOSED: 'maybe' }))).toEqual([
      'RATE_LIMIT_MAX_KEYS: must be >= 1, got 0',
      expect.stringMatching(/^RATE_LIMIT_FAIL_CLOSED: /),
    ]);
  });
});
