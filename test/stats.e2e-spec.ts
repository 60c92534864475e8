import { request as httpRequest } from 'node:http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, waitFor } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

interface Stats {
  [key: string]: unknown;
  totals: Record<string, number>;
  rates: { requests_per_second: number; errors_per_second: number };
  latency_ms: { p50: number; p90: number; p99: number; max: number };
  routes: { name: string; requests: number; errors: number; latency_ms: { max: number } }[];
  upstreams: {
    route: string;
    url: string;
    circuit: string;
    healthy: boolean;
    in_flight: number;
    requests: number;
    failures: number;
  }[];
  circuit_breakers: Record<string, string>;
}

async function stats(url: string): Promise<Stats> {
  const r = await send(url, '/stats');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  return r.json<Stats>();
}

describe('/stats (e2e)', () => {
  let up: TestUpstream;
  let deadUrl: string;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      const delay = req.url === '/api/hold' ? 2000 : 0;
      setTimeout(() => res.end('hello'), delay);
    });
    const dead = await startUpstream();
    await dead.close();
    deadUrl = dead.url;
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          { name: 'api', prefix: '/api', upstreams: [up.url] },
          { name: 'down', prefix: '/down', upstreams: [deadUrl] },
        ],
        {
          // One try per request and a breaker that opens on the second failure.
          resilience: { ...base.resilience, retryAttempts: 1, circuitBreakerMax: 2 },
        },
      ),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should keep the Go fields, sorted, and report an idle gateway', async () => {
    const s = await stats(gw.url);
    const keys = Object.keys(s);
    expect(keys).toEqual([...keys].sort());
    expect(s).toMatchObject({
      caching_enabled: false,
      compression_enabled: false,
      load_balancing_algo: 'round-robin',
      routes_count: 2,
      circuit_breaker_state: 'closed',
    });
    expect(s.circuit_breakers).toEqual({ [`${up.url}/`]: 'closed', [`${deadUrl}/`]: 'closed' });
    expect(s.totals.requests).toBe(0);
    expect(s.uptime_seconds).toEqual(expect.any(Number));
    expect(s.version).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(s.timestamp as string))).toBe(false);
    expect(s.routes.map((r) => r.name)).toEqual(['api', 'down']);
    // Its own requests are not counted as traffic (as /health and /metrics are not).
    expect((await stats(gw.url)).totals.requests).toBe(0);
  });

  it('should count known traffic in totals, rates, routes and upstreams', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await send(gw.url, '/api/x')).status).toBe(200);
    }
    expect((await send(gw.url, '/nowhere')).status).toBe(404);
    expect((await send(gw.url, '/down/x')).status).toBe(502);
    const s = await stats(gw.url);
    expect(s.totals).toMatchObject({
      requests: 5,
      errors: 1,
      client_errors: 1,
      retries: 0,
      rate_limited: 0,
      blocked_ips: 0,
    });
    expect(s.totals.bytes_out).toBeGreaterThanOrEqual(15);
    expect(s.rates.requests_per_second).toBeGreaterThan(0);
    expect(s.rates.errors_per_second).toBeGreaterThan(0);
    expect(s.latency_ms.max).toBeGreaterThan(0);
    expect(s.latency_ms.p50).toBeLessThanOrEqual(s.latency_ms.max);
    const api = s.routes.find((r) => r.name === 'api')!;
    expect(api).toMatchObject({ requests: 3, errors: 0 });
    expect(api.latency_ms.max).toBeGreaterThan(0);
    expect(s.routes.find((r) => r.name === 'down')).toMatchObject({ requests: 1, errors: 1 });
    expect(s.upstreams.find((u) => u.route === 'api')).toMatchObject({
      url: `${up.url}/`,
      circuit: 'closed',
      requests: 3,
      failures: 0,
    });
    expect(s.upstreams.find((u) => u.route === 'down')).toMatchObject({ requests: 1, failures: 1 });
    expect(s.active_connections).toBeGreaterThanOrEqual(1);
  });

  it('should show an open circuit per upstream and overall', async () => {
    // The second consecutive failure opens the breaker (CIRCUIT_BREAKER_MAX=2).
    await send(gw.url, '/down/x');
    const s = await stats(gw.url);
    expect(s.circuit_breaker_state).toBe('open');
    expect(s.circuit_breakers[`${deadUrl}/`]).toBe('open');
    expect(s.circuit_breakers[`${up.url}/`]).toBe('closed');
    expect(s.upstreams.find((u) => u.route === 'down')?.circuit).toBe('open');
  });

  it('should answer at once while a request is held upstream, and show it in flight', async () => {
    const held = new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/api/hold`, { agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(() => up.requests.some((r) => r.url === '/api/hold'));
    const started = performance.now();
    const s = await stats(gw.url);
    // The held request answers after 2 s; /stats must not wait for it.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(s.in_flight).toBe(1);
    expect(s.upstreams.find((u) => u.route === 'api')?.in_flight).toBe(1);
    await held;
  });
});
