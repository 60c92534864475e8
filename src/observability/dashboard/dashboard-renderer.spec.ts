import type { SystemSample } from '../system-metrics.types';
import type { TrafficSnapshot, UpstreamTraffic } from '../traffic-stats.types';
import { stripAnsi, visibleLength } from './ansi';
import {
  DASHBOARD_TITLE,
  fmtDuration,
  renderDashboard,
  sparkline,
  type DashboardView,
} from './dashboard-renderer';

const latency = (p50: number, p99: number) => ({ p50, p90: (p50 + p99) / 2, p99, max: p99 * 2 });

function upstream(over: Partial<UpstreamTraffic> = {}): UpstreamTraffic {
  return {
    route: 'users',
    url: 'http://10.0.0.1:3000',
    healthy: true,
    ejected: false,
    draining: false,
    circuit: 'closed',
    inFlight: 0,
    requests: 10,
    failures: 0,
    ...over,
  };
}

function snapshot(over: Partial<TrafficSnapshot> = {}): TrafficSnapshot {
  return {
    time: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 3725,
    totals: {
      requests: 12345,
      errors: 3,
      clientErrors: 12,
      rateLimited: 4,
      blockedIps: 2,
      cacheHits: 75,
      cacheMisses: 25,
      retries: 7,
      bytesIn: 1000,
      bytesOut: 2000,
    },
    rates: { requestsPerSecond: 120.5, errorsPerSecond: 0.25 },
    latencyMs: latency(1.5, 42),
    activeConnections: 9,
    inFlight: 3,
    routes: [
      { name: 'users', requests: 12000, errors: 3, latencyMs: latency(1.2, 40) },
      { name: 'billing', requests: 345, errors: 0, latencyMs: latency(3, 9) },
    ],
    upstreams: [
      upstream(),
      upstream({ url: 'http://10.0.0.2:3000', healthy: false, circuit: 'open', failures: 5 }),
      upstream({ route: 'billing', url: 'http://10.0.0.3:7000', circuit: 'half-open' }),
    ],
    ...over,
  };
}

const system: SystemSample = {
  host: {
    cpuPercent: 72.5,
    cores: 2,
    loadAverage: [1.5, 1.25, 1],
    memory: {
      totalBytes: 8 * 2 ** 30,
      freeBytes: 2 * 2 ** 30,
      usedBytes: 6 * 2 ** 30,
      usedPercent: 75,
    },
    uptimeSeconds: 100,
  },
  process: {
    cpuPercent: 12.5,
    rssBytes: 80 * 2 ** 20,
    heapUsedBytes: 40 * 2 ** 20,
    heapTotalBytes: 60 * 2 ** 20,
    externalBytes: 0,
    eventLoop: { delayMs: { p50: 20, p99: 21.5, max: 30, mean: 20 }, utilization: 0.03 },
    uptimeSeconds: 3725,
    nodeVersion: 'v20.0.0',
  },
};

function view(over: Partial<DashboardView> = {}): DashboardView {
  return {
    version: '1.2.3',
    url: 'http://127.0.0.1:9777',
    algorithm: 'least-conn',
    now: new Date(2026, 0, 1, 12, 34, 56),
    traffic: snapshot(),
    system,
    rpsHistory: [0, 10, 20, 40, 80, 40],
    refreshMs: 1000,
    logs: [],
    hiddenLogLines: 0,
    ...over,
  };
}

const plain = (v: DashboardView, columns = 120, rows = 40): string =>
  renderDashboard(v, { columns, rows }, false).join('\n');

describe('renderDashboard', () => {
  it('should show the title, totals, rates, connections, blocked IPs and latency', () => {
    const out = plain(view());
    expect(out).toContain(DASHBOARD_TITLE);
    expect(out).toContain('v1.2.3');
    expect(out).toContain('http://127.0.0.1:9777');
    expect(out).toContain('up 1h02m');
    expect(out).toContain('algo least-conn');
    expect(out).toMatch(/total 12,345/);
    expect(out).toMatch(/req\/s 121 /);
    expect(out).toMatch(/active 9/);
    expect(out).toMatch(/in flight 3/);
    expect(out).toMatch(/blocked IPs 2/);
    expect(out).toMatch(/cache hit 75%/);
    expect(out).toMatch(/p99 42\.0ms/);
    expect(out).toMatch(/429 4/);
  });

  it('should show host and process figures with bars', () => {
    const out = plain(view());
    expect(out).toMatch(/cpu\s+73%\s+█{9}░{3}/);
    expect(out).toMatch(/load 1\.50 1\.25 1\.00/);
    expect(out).toContain('6.0 GiB/8.0 GiB');
    expect(out).toMatch(/rss 80\.0 MiB/);
    expect(out).toMatch(/loop p99 21\.5ms/);
    expect(plain(view({ system: undefined }))).toContain('sampling…');
  });

  it('should list one row per route and per upstream with health and circuit state', () => {
    const lines = renderDashboard(view(), { columns: 120, rows: 40 }, false);
    const row = (needle: string) => lines.find((l) => l.includes(needle)) ?? '';
    expect(row('users ')).toMatch(/^users\s+12,000\s+3\s+0\.0%/);
    expect(row('billing ')).toMatch(/^billing\s+345\s+0\s+0%/);
    expect(row('10.0.0.1')).toMatch(
      /http:\/\/10\.0\.0\.1:3000\s+users\s+● up\s+closed\s+0\s+10\s+0/,
    );
    expect(row('10.0.0.2')).toMatch(/○ down\s+open\s+0\s+10\s+5/);
    expect(row('10.0.0.3')).toMatch(/billing\s+● up\s+half-open/);
  });

  it('should mark ejected and draining upstreams', () => {
    const out = plain(
      view({
        traffic: snapshot({
          upstreams: [upstream({ ejected: true }), upstream({ url: 'http://d:1', draining: true })],
        }),
      }),
    );
    expect(out).toContain('○ ejected');
    expect(out).toContain('◐ draining');
  });

  it('should draw a time-based sparkline of req/s', () => {
    expect(sparkline([0, 1, 2, 4, 8], 10)).toBe('▁▁▂▄█');
    expect(sparkline([0, 0], 10)).toBe('▁▁');
    expect(sparkline([1, 2, 3, 4], 2)).toBe('▆█');
    expect(plain(view())).toContain('▁▁▂▄█▄');
    expect(plain(view())).toContain('last 6s, peak 80.0');
  });

  it('should never exceed the terminal size, whatever the number of routes', () => {
    const routes = Array.from({ length: 50 }, (_, i) => ({
      name: `route-${i}`,
      requests: i,
      errors: 0,
      latencyMs: latency(1, 2),
    }));
    const ups = Array.from({ length: 50 }, (_, i) => upstream({ url: `http://h${i}:80` }));
    const logs = Array.from({ length: 20 }, (_, i) => ({
      time: '12:00:00',
      level: 'warn',
      msg: `w${i}`,
    }));
    for (const [columns, rows] of [
      [80, 24],
      [40, 12],
      [200, 60],
      [20, 3],
    ]) {
      const lines = renderDashboard(
        view({ traffic: snapshot({ routes, upstreams: ups }), logs }),
        { columns, rows },
        true,
      );
      expect(lines.length).toBeLessThanOrEqual(rows);
      for (const line of lines) {
        expect(visibleLength(stripAnsi(line))).toBeLessThanOrEqual(Math.max(20, columns));
      }
      // The footer with the keys is always the last line.
      expect(stripAnsi(lines[lines.length - 1])).toMatch(/^ q /);
    }
    const out = plain(view({ traffic: snapshot({ routes, upstreams: ups }), logs }), 80, 40);
    expect(out).toMatch(/… \d+ more routes/);
    expect(out).toMatch(/… \d+ more upstreams/);
    expect(out).toContain('w19');
  });

  it('should count the routes a bounded snapshot left out in the "more" row', () => {
    const routes = [{ name: 'busy', requests: 9, errors: 0, latencyMs: latency(1, 2) }];
    const out = plain(view({ traffic: snapshot({ routes, routesOmitted: 19_999 }) }), 80, 40);
    expect(out).toContain('busy');
    expect(out).toContain('… 19,999 more routes');
    for (const [columns, rows] of [
      [80, 24],
      [20, 3],
    ]) {
      const lines = renderDashboard(
        view({ traffic: snapshot({ routes, routesOmitted: 19_999 }) }),
        { columns, rows },
        true,
      );
      expect(lines.length).toBeLessThanOrEqual(rows);
    }
  });

  it('should show diverted warnings and how many lower-level lines were held back', () => {
    const out = plain(
      view({
        logs: [{ time: '12:00:01', level: 'error', msg: 'upstream down' }],
        hiddenLogLines: 1234,
      }),
    );
    expect(out).toContain('RECENT WARNINGS');
    expect(out).toContain('1,234 info/debug lines not shown');
    expect(out).toMatch(/12:00:01 ERROR upstream down/);
  });

  it('should neutralise control characters from route names and log messages', () => {
    const out = renderDashboard(
      view({
        traffic: snapshot({
          routes: [{ name: 'evil\x1b[2Jname', requests: 1, errors: 0, latencyMs: latency(1, 1) }],
        }),
        logs: [{ time: '12:00:00', level: 'warn', msg: 'bad \x1b]0;title\x07 input' }],
      }),
      { columns: 120, rows: 40 },
      true,
    ).join('\n');
    expect(out).toContain('evil?[2Jname');
    expect(out).toContain('bad ?]0;title? input');
    expect(out).not.toContain('\x1b[2J');
    expect(out).not.toContain('\x07');
  });

  it('should colour states only when asked', () => {
    const colored = renderDashboard(view(), { columns: 120, rows: 40 }, true).join('\n');
    expect(colored).toContain('\x1b[31mopen');
    expect(colored).toContain('\x1b[32m● up');
    expect(plain(view())).not.toContain('\x1b[');
  });

  it('should format uptimes compactly', () => {
    expect(fmtDuration(59)).toBe('0m59s');
    expect(fmtDuration(3725)).toBe('1h02m');
    expect(fmtDuration(90000)).toBe('1d1h');
  });
});
