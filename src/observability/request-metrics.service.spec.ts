import type { IncomingMessage } from 'node:http';
import { register } from 'prom-client';
import type { Dispatcher } from 'undici';
import { Upstream } from '../load-balancing/upstream';
import type { CompiledRoute } from '../routing/compiled-route';
import type { RouteTableService } from '../routing/route-table.service';
import type { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { GatewayLoad } from './metrics/gateway-load';
import { gatewayMetricFamilies } from './metrics/gateway-metrics';
import { RequestMetricsService } from './request-metrics.service';
import { TrafficStatsService } from './traffic-stats.service';

let seq = 0;

function setup() {
  const name = `r${++seq}`;
  const upstream = new Upstream(`http://10.1.0.${seq}:80`, 1, {} as Dispatcher);
  const route = { name, group: { upstreams: [upstream] } } as unknown as CompiledRoute;
  const table = { routes: [route] } as unknown as RouteTableService;
  const ipFilter = { blockedIpsTotal: 0 } as IpFilterService;
  const load = new GatewayLoad();
  const stats = new TrafficStatsService(table, ipFilter, load);
  const metrics = new RequestMetricsService(stats, table, ipFilter, load);
  metrics.onModuleInit();
  return { name, route, upstream, stats, metrics };
}

const exchange = (route: CompiledRoute | undefined, method = 'GET', extra = {}) => ({
  req: { method } as IncomingMessage,
  route,
  bytesIn: 0,
  bytesOut: 0,
  ...extra,
});

async function value(metric: string, labels: Record<string, string>): Promise<number> {
  const m = await register.getSingleMetric(metric)!.get();
  return m.values
    .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('RequestMetricsService', () => {
  it('should count a finished request by method, route and status, with its duration', async () => {
    const { name, route, metrics, stats } = setup();
    metrics.exchangeFinished(exchange(route, 'GET', { bytesIn: 3, bytesOut: 7 }), 200, 12);
    metrics.exchangeFinished(exchange(route, 'GET'), 200, 4);
    metrics.exchangeFinished(exchange(route, 'POST'), 503, 40);
    expect(
      await value('http_requests_total', { endpoint: name, method: 'GET', status: '200' }),
    ).toBe(2);
    expect(
      await value('http_requests_total', { endpoint: name, method: 'POST', status: '503' }),
    ).toBe(1);
    const duration = await register.getSingleMetric('http_request_duration_seconds')!.get();
    const count = duration.values.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'http_request_duration_seconds_count' &&
        v.labels.endpoint === name &&
        v.labels.method === 'GET',
    );
    expect(count?.value).toBe(2);
    const le10ms = duration.values.find(
      (v) => v.labels.endpoint === name && v.labels.method === 'GET' && v.labels.le === 0.01,
    );
    // 4 ms is in the 10 ms bucket, 12 ms is not.
    expect(le10ms?.value).toBe(1);
    expect(await value('http_request_bytes_total', { route: name })).toBe(3);
    expect(await value('http_response_bytes_total', { route: name })).toBe(7);
    expect(stats.snapshot().totals).toMatchObject({ requests: 3, errors: 1, bytesOut: 7 });
  });

  it("should create each configured route's series at 0 on start", async () => {
    const { name } = setup();
    const bytes = await register.getSingleMetric('http_response_bytes_total')!.get();
    expect(bytes.values.find((v) => v.labels.route === name)?.value).toBe(0);
  });

  it('should fold methods outside the standard set into OTHER', async () => {
    const { name, route, metrics } = setup();
    metrics.exchangeFinished(exchange(route, 'PROPFIND'), 200, 1);
    metrics.exchangeFinished(exchange(route, 'get'), 200, 1);
    metrics.exchangeFinished(exchange(route, 'DELETE'), 204, 1);
    expect(await value('http_requests_total', { endpoint: name, method: 'OTHER' })).toBe(2);
    expect(await value('http_requests_total', { endpoint: name, method: 'DELETE' })).toBe(1);
  });

  it('should label requests without a route "unmatched" and create no series per path', () => {
    const { metrics } = setup();
    const f = gatewayMetricFamilies();
    metrics.exchangeFinished(exchange(undefined), 404, 0.1);
    const before = f.requests.size;
    for (let i = 0; i < 100; i++) {
      metrics.exchangeFinished(exchange(undefined), 404, 0.1);
    }
    expect(f.requests.size).toBe(before);
  });

  it('should give a reloaded route of the same name the same series, and a new name its own', async () => {
    const { name, route, metrics } = setup();
    const reloaded = { ...route };
    const renamed = { ...route, name: `${name}-v2` } as CompiledRoute;
    metrics.exchangeFinished(exchange(route), 200, 1);
    metrics.exchangeFinished(exchange(reloaded), 200, 1);
    metrics.exchangeFinished(exchange(renamed), 200, 1);
    expect(await value('http_requests_total', { endpoint: name })).toBe(2);
    expect(await value('http_requests_total', { endpoint: `${name}-v2` })).toBe(1);
  });

  it('should record attempts: latency, failures by kind, per-upstream counts', async () => {
    const { name, route, upstream, metrics, stats } = setup();
    metrics.attemptEnded({ route, status: 200, error: undefined }, upstream, 5, 'success');
    metrics.attemptEnded(
      { route, status: 0, error: 'ECONNREFUSED' },
      upstream,
      1,
      'failed-exchange',
    );
    metrics.attemptEnded({ route, status: 503, error: undefined }, upstream, 2, 'failed-status');
    // Client gone before any answer: counted as an attempt, but no latency and no error.
    metrics.attemptEnded({ route, status: 0, error: undefined }, upstream, 9, 'neutral');
    const labels = { route: name, upstream: upstream.key };
    expect(await value('upstream_errors_total', { ...labels, kind: 'connect' })).toBe(1);
    expect(await value('upstream_errors_total', { ...labels, kind: '5xx' })).toBe(1);
    const hist = await register.getSingleMetric('upstream_request_duration_seconds')!.get();
    const count = hist.values.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'upstream_request_duration_seconds_count' &&
        v.labels.route === name,
    );
    expect(count?.value).toBe(3);
    expect(stats.snapshot().upstreams[0]).toMatchObject({ requests: 4, failures: 2 });
  });

  it('should count retries, 429s by policy and cache verdicts', async () => {
    const { name, route, metrics, stats } = setup();
    metrics.retried(route);
    metrics.rateLimited(route, 'default');
    metrics.rateLimited(route, 'flood');
    metrics.rateLimited(undefined, 'flood');
    metrics.exchangeFinished(exchange(route, 'GET', { cacheStatus: 'HIT' }), 200, 1);
    metrics.exchangeFinished(exchange(route, 'GET', { cacheStatus: 'STALE' }), 200, 1);
    metrics.exchangeFinished(exchange(route, 'GET', { cacheStatus: 'MISS' }), 200, 1);
    metrics.exchangeFinished(exchange(route, 'GET', { cacheStatus: 'BYPASS' }), 200, 1);
    expect(await value('upstream_retries_total', { route: name })).toBe(1);
    expect(await value('rate_limited_total', { route: name, policy: 'flood' })).toBe(1);
    expect(await value('rate_limited_total', { route: name, policy: 'default' })).toBe(1);
    expect(stats.snapshot().totals).toMatchObject({
      retries: 1,
      rateLimited: 3,
      cacheHits: 2,
      cacheMisses: 1,
    });
  });

  it('should count upgrades without putting a WebSocket lifetime into the latency', async () => {
    const { name, route, metrics, stats } = setup();
    metrics.upgradeFinished(route, 'GET', 101, 60_000, 10, 20);
    metrics.upgradeFinished(route, 'GET', 0, 5, 0, 0);
    expect(await value('http_requests_total', { endpoint: name, status: '101' })).toBe(1);
    expect(await value('http_requests_total', { endpoint: name, status: '499' })).toBe(1);
    const s = stats.snapshot();
    expect(s.latencyMs.max).toBeLessThan(60_000);
    expect(s.totals.bytesIn).toBe(10);
  });

  it('should read upstream_in_flight and active_connections at scrape time', async () => {
    const { upstream, metrics } = setup();
    upstream.inFlight = 4;
    expect(await value('upstream_in_flight', { upstream: upstream.key })).toBe(4);
    metrics.onApplicationShutdown();
    expect(await value('upstream_in_flight', { upstream: upstream.key })).toBe(0);
  });
});
