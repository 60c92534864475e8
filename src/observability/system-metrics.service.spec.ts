import {
  SYSTEM_METRICS_HISTORY,
  SYSTEM_METRICS_INTERVAL_MS,
  SystemMetricsService,
} from './system-metrics.service';
import type { SystemMetricsReport } from './system-metrics.types';
import type { TrafficStatsService } from './traffic-stats.service';
import type { TrafficSnapshot } from './traffic-stats.types';

function fakeTraffic() {
  let n = 0;
  const snapshots: number[] = [];
  const traffic = {
    snapshot: (): TrafficSnapshot => {
      n++;
      snapshots.push(n);
      return {
        time: '',
        uptimeSeconds: n,
        totals: {
          requests: n,
          errors: 0,
          clientErrors: 0,
          rateLimited: 0,
          blockedIps: 0,
          cacheHits: 0,
          cacheMisses: 0,
          retries: 0,
          bytesIn: 0,
          bytesOut: 0,
        },
        rates: { requestsPerSecond: n, errorsPerSecond: n / 10 },
        latencyMs: { p50: 1, p90: 2, p99: n, max: 4 },
        activeConnections: 0,
        inFlight: 0,
        routes: [],
        upstreams: [],
      };
    },
  } as unknown as TrafficStatsService;
  return { traffic, snapshots };
}

describe('SystemMetricsService', () => {
  it('should sample once at init and then only on its timer, serving the same JSON between', () => {
    jest.useFakeTimers();
    const { traffic, snapshots } = fakeTraffic();
    const service = new SystemMetricsService(traffic);
    try {
      service.onModuleInit();
      expect(snapshots).toHaveLength(1);
      const first = service.json;
      for (let i = 0; i < 100; i++) {
        expect(service.json).toBe(first);
        expect(service.report.sample).toBe(1);
      }
      expect(snapshots).toHaveLength(1);
      jest.advanceTimersByTime(SYSTEM_METRICS_INTERVAL_MS);
      expect(snapshots).toHaveLength(2);
      expect(service.report.sample).toBe(2);
      expect(JSON.parse(service.json)).toEqual(service.report);
    } finally {
      service.onApplicationShutdown();
      jest.useRealTimers();
    }
    expect(jest.getTimerCount()).toBe(0);
  });

  it('should keep a bounded history per series, oldest first', () => {
    const { traffic } = fakeTraffic();
    const service = new SystemMetricsService(traffic);
    for (let i = 0; i < SYSTEM_METRICS_HISTORY + 10; i++) {
      service.sampleNow();
    }
    const report: SystemMetricsReport = service.report;
    service.onApplicationShutdown();
    expect(report.history.requestsPerSecond).toHaveLength(SYSTEM_METRICS_HISTORY);
    expect(report.history.requestsPerSecond[0]).toBe(11);
    expect(report.history.requestsPerSecond.at(-1)).toBe(SYSTEM_METRICS_HISTORY + 10);
    expect(report.history.p99Ms.at(-1)).toBe(SYSTEM_METRICS_HISTORY + 10);
    expect(report.history.hostCpuPercent).toHaveLength(SYSTEM_METRICS_HISTORY);
    expect(report.traffic.totals.requests).toBe(SYSTEM_METRICS_HISTORY + 10);
    expect(report.intervalMs).toBe(SYSTEM_METRICS_INTERVAL_MS);
  });
});
