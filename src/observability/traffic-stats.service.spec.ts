import { Upstream } from '../load-balancing/upstream';
import type { RouteTableService } from '../routing/route-table.service';
import type { IpFilterService } from '../security/ip-filter/ip-filter.service';
import type { Dispatcher } from 'undici';
import { GatewayLoad } from './metrics/gateway-load';
import { TrafficStatsService } from './traffic-stats.service';

function setup() {
  const a = new Upstream('http://10.0.0.1:8080', 1, {} as Dispatcher);
  const b = new Upstream('http://10.0.0.2:8080', 1, {} as Dispatcher);
  b.healthy = false;
  b.inFlight = 3;
  b.breaker = {
    isAvailable: () => false,
    tryAcquire: () => false,
    allowsPanic: () => true,
    onProbeSuccess: () => undefined,
    state: 'open',
  };
  b.draining = true;
  const routes = {
    routes: [
      { name: 'users', group: { upstreams: [a, b] } },
      { name: 'idle', group: { upstreams: [] } },
    ],
  } as unknown as RouteTableService;
  const ipFilter = { blockedIpsTotal: 4 } as IpFilterService;
  const load = new GatewayLoad();
  load.inFlightSource = { activeRequests: 7 };
  return { stats: new TrafficStatsService(routes, ipFilter, load), a, b, load };
}

describe('TrafficStatsService', () => {
  it('should report an empty gateway with every configured route and upstream', () => {
    const { stats } = setup();
    const s = stats.snapshot();
    expect(s.totals.requests).toBe(0);
    expect(s.totals.blockedIps).toBe(4);
    expect(s.inFlight).toBe(7);
    expect(s.activeConnections).toBe(0);
    expect(s.rates).toEqual({ requestsPerSecond: 0, errorsPerSecond: 0 });
    expect(s.routes.map((r) => r.name)).toEqual(['users', 'idle']);
    expect(s.upstreams).toEqual([
      {
        route: 'users',
        url: 'http://10.0.0.1:8080/',
        healthy: true,
        ejected: false,
        draining: false,
        circuit: 'closed',
        inFlight: 0,
        requests: 0,
        failures: 0,
      },
      {
        route: 'users',
        url: 'http://10.0.0.2:8080/',
        healthy: false,
        ejected: false,
        draining: true,
        circuit: 'open',
        inFlight: 3,
        requests: 0,
        failures: 0,
      },
    ]);
    expect(Number.isNaN(Date.parse(s.time))).toBe(false);
  });

  it('should count requests, errors, bytes and latency per route and in total', () => {
    const { stats, a } = setup();
    const users = stats.forRoute('users');
    expect(stats.forRoute('users')).toBe(users);
    const now = performance.now();
    stats.recordRequest(users, 200, 2, 10, 100, now);
    stats.recordRequest(users, 502, 40, 0, 50, now);
    stats.recordRequest(undefined, 404, 0.2, 0, 80, now);
    stats.recordRequest(users, 429, 0.1, 0, 60, now);
    const up = stats.forUpstream('users', a.key);
    up.requests += 2;
    up.failures += 1;

    const s = stats.snapshot();
    expect(s.totals).toMatchObject({
      requests: 4,
      errors: 1,
      clientErrors: 2,
      bytesIn: 10,
      bytesOut: 290,
    });
    expect(s.rates.requestsPerSecond).toBeGreaterThan(0);
    expect(s.rates.errorsPerSecond).toBeGreaterThan(0);
    expect(s.latencyMs.max).toBe(40);
    const route = s.routes.find((r) => r.name === 'users')!;
    expect(route.requests).toBe(3);
    expect(route.errors).toBe(1);
    expect(route.latencyMs.max).toBe(40);
    expect(route.latencyMs.p50).toBeGreaterThan(0);
    expect(s.routes.find((r) => r.name === 'idle')!.requests).toBe(0);
    expect(s.upstreams[0]).toMatchObject({ requests: 2, failures: 1 });
  });

  it('should count open connections through GatewayLoad', () => {
    const { stats, load } = setup();
    const listeners: (() => void)[] = [];
    const socket = { once: (_e: string, fn: () => void) => listeners.push(fn) };
    load.onConnection(socket as never);
    load.onConnection(socket as never);
    expect(stats.snapshot().activeConnections).toBe(2);
    listeners[0]();
    expect(stats.snapshot().activeConnections).toBe(1);
  });

  it('should list the busiest routes in table order when bounded, and count the others', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const routes = {
      routes: names.map((name) => ({ name, group: { upstreams: [] } })),
    } as unknown as RouteTableService;
    const stats = new TrafficStatsService(
      routes,
      { blockedIpsTotal: 0 } as IpFilterService,
      new GatewayLoad(),
    );
    const traffic: Record<string, number> = { e: 5, b: 2, d: 9 };
    for (const [name, n] of Object.entries(traffic)) {
      for (let i = 0; i < n; i++) {
        stats.recordRequest(stats.forRoute(name), 200, 1, 0, 0, performance.now());
      }
    }
    const two = stats.snapshot(2);
    expect(two.routes.map((r) => r.name)).toEqual(['d', 'e']);
    expect(two.routesOmitted).toBe(3);
    // Room left over goes to idle routes, first ones first.
    expect(stats.snapshot(4).routes.map((r) => r.name)).toEqual(['a', 'b', 'd', 'e']);
    const all = stats.snapshot();
    expect(all.routes.map((r) => r.name)).toEqual(names);
    expect(all).not.toHaveProperty('routesOmitted');
    expect(stats.snapshot(5)).not.toHaveProperty('routesOmitted');
  });
});
