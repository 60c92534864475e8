import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { HttpAdapterHost } from '@nestjs/core';
import pino from 'pino';
import type { GatewayConfig } from '../../config/gateway-config.types';
import type { SystemMetricsService } from '../system-metrics.service';
import type { SystemMetricsReport } from '../system-metrics.types';
import type { TrafficStatsService } from '../traffic-stats.service';
import type { TrafficSnapshot } from '../traffic-stats.types';
import { stripAnsi } from './ansi';
import { DASHBOARD_TITLE } from './dashboard-renderer';
import { DashboardService } from './dashboard.service';
import type { TerminalIO } from './terminal-dashboard';

const snapshot = (rps: number): TrafficSnapshot => ({
  time: '',
  uptimeSeconds: 1,
  totals: {
    requests: 7,
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
  rates: { requestsPerSecond: rps, errorsPerSecond: 0 },
  latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 },
  activeConnections: 1,
  inFlight: 0,
  routes: [{ name: 'api', requests: 7, errors: 0, latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 } }],
  upstreams: [],
});

function setup(over: { noDashboard?: boolean; pretty?: boolean; workers?: number } = {}) {
  const written: string[] = [];
  const logger = pino(
    { base: undefined, formatters: { level: (label: string) => ({ level: label }) } },
    new Writable({
      write(c: Buffer, _e, cb) {
        written.push(c.toString());
        cb();
      },
    }),
  );
  const config = {
    noDashboard: over.noDashboard ?? false,
    log: { pretty: over.pretty ?? true },
    server: { workers: over.workers ?? 1 },
    loadBalancing: { algorithm: 'round-robin' },
  } as unknown as GatewayConfig;
  let rps = 1;
  const traffic = { snapshot: () => snapshot(rps++) } as unknown as TrafficStatsService;
  const report = {
    host: {
      cpuPercent: 5,
      cores: 2,
      loadAverage: [0, 0, 0],
      memory: { totalBytes: 1, freeBytes: 0, usedBytes: 1, usedPercent: 100 },
      uptimeSeconds: 1,
    },
    process: {
      cpuPercent: 1,
      rssBytes: 1,
      heapUsedBytes: 1,
      heapTotalBytes: 1,
      externalBytes: 0,
      eventLoop: { delayMs: { p50: 0, p99: 0, max: 0, mean: 0 }, utilization: 0 },
      uptimeSeconds: 1,
      nodeVersion: 'v20',
    },
  } as unknown as SystemMetricsReport;
  const system = { report } as unknown as SystemMetricsService;
  const service = new DashboardService(
    config,
    logger,
    traffic,
    system,
    {} as unknown as HttpAdapterHost,
  );
  const out = Object.assign(new EventEmitter(), {
    text: '',
    columns: 100,
    rows: 30,
    write(s: string) {
      out.text += s;
      return true;
    },
  });
  const io: TerminalIO = { stdout: out, kill: () => undefined, onExit: () => () => undefined };
  return { service, logger, written, out, io };
}

describe('DashboardService', () => {
  it('should want a terminal, NO_DASHBOARD unset and a single process', () => {
    const tty = process.stdout.isTTY === true;
    expect(setup().service.wanted).toBe(tty);
    expect(setup({ noDashboard: true }).service.wanted).toBe(false);
    expect(setup({ pretty: false }).service.wanted).toBe(false);
    expect(setup({ workers: 4 }).service.wanted).toBe(false);
  });

  it('should build views from the traffic snapshot and the latest system sample', () => {
    const { service } = setup();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(10_000);
    service.view();
    // A redraw within the same second (a resize) adds no point.
    clock.mockReturnValue(10_100);
    service.view();
    clock.mockReturnValue(11_000);
    const v = service.view();
    clock.mockRestore();
    expect(v.traffic.routes[0].name).toBe('api');
    expect(v.system?.host.cpuPercent).toBe(5);
    expect(v.algorithm).toBe('round-robin');
    // One req/s value per view: the sparkline is time-based.
    expect(v.rpsHistory).toEqual([1, 3]);
  });

  it('should divert logs while running and give them back, with its signal hooks, on stop', () => {
    const { service, logger, written, out, io } = setup();
    const sigint = process.listenerCount('SIGINT');
    service.start('http://127.0.0.1:1', io);
    expect(service.isRunning).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(sigint + 1);
    expect(stripAnsi(out.text)).toContain(DASHBOARD_TITLE);
    logger.info('hidden');
    logger.warn('shown in the pane');
    expect(written).toEqual([]);
    service.stop();
    expect(service.isRunning).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(sigint);
    expect(written.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'shown in the pane',
      'terminal dashboard closed; lines below warn written while it was up were not shown',
    ]);
    logger.info('back');
    expect(written).toHaveLength(3);
  });
});
