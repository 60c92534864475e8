import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_VERSION } from '../common/version';
import { SystemSampler } from './system-metrics.sampler';
import type { SystemMetricsReport } from './system-metrics.types';
import { TrafficStatsService } from './traffic-stats.service';

/** How often host, process and traffic figures are sampled. */
export const SYSTEM_METRICS_INTERVAL_MS = 2000;
/** Samples kept for the sparklines: two minutes at the default interval. */
export const SYSTEM_METRICS_HISTORY = 60;
/** Routes listed per sample (the busiest beyond that): what a page or a terminal can show. */
export const SYSTEM_METRICS_MAX_ROUTES = 100;

type History = SystemMetricsReport['history'];
type Series = Exclude<keyof History, 'intervalMs'>;

/**
 * Samples host, process and traffic figures on an unref'd timer and keeps the result both as an
 * object (for the terminal dashboard) and pre-serialised (for `GET /api/system-metrics`), so a
 * call costs a property read instead of the ~3 s of CPU the Go gateway spent walking the
 * process table on every request (seed-spec 8.2).
 */
@Injectable()
export class SystemMetricsService implements OnModuleInit, OnApplicationShutdown {
  private sampler: SystemSampler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private latest: SystemMetricsReport | undefined;
  private latestJson = '';
  private readonly history: History = {
    intervalMs: SYSTEM_METRICS_INTERVAL_MS,
    requestsPerSecond: [],
    errorsPerSecond: [],
    p99Ms: [],
    hostCpuPercent: [],
    processCpuPercent: [],
  };

  constructor(private readonly traffic: TrafficStatsService) {}

  onModuleInit(): void {
    this.sampler = new SystemSampler();
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), SYSTEM_METRICS_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sampler?.stop();
  }

  /** The latest sample (taken at boot, then every interval). */
  get report(): SystemMetricsReport {
    if (!this.latest) {
      this.sampleNow();
    }
    return this.latest as SystemMetricsReport;
  }

  /** The latest sample as the JSON body of `/api/system-metrics`. */
  get json(): string {
    if (!this.latest) {
      this.sampleNow();
    }
    return this.latestJson;
  }

  /** Takes a sample now; the timer calls this, tests may too. */
  sampleNow(): void {
    this.sampler ??= new SystemSampler();
    const system = this.sampler.sample();
    const traffic = this.traffic.snapshot(SYSTEM_METRICS_MAX_ROUTES);
    this.push('requestsPerSecond', traffic.rates.requestsPerSecond);
    this.push('errorsPerSecond', traffic.rates.errorsPerSecond);
    this.push('p99Ms', traffic.latencyMs.p99);
    this.push('hostCpuPercent', system.host.cpuPercent);
    this.push('processCpuPercent', system.process.cpuPercent);
    this.seq++;
    this.latest = {
      sampledAt: new Date().toISOString(),
      sample: this.seq,
      intervalMs: SYSTEM_METRICS_INTERVAL_MS,
      gateway: { version: GATEWAY_VERSION },
      ...system,
      traffic,
      history: {
        intervalMs: this.history.intervalMs,
        requestsPerSecond: [...this.history.requestsPerSecond],
        errorsPerSecond: [...this.history.errorsPerSecond],
        p99Ms: [...this.history.p99Ms],
        hostCpuPercent: [...this.history.hostCpuPercent],
        processCpuPercent: [...this.history.processCpuPercent],
      },
    };
    this.latestJson = JSON.stringify(this.latest);
  }

  private push(series: Series, value: number): void {
    const ring = this.history[series];
    ring.push(value);
    if (ring.length > SYSTEM_METRICS_HISTORY) {
      ring.shift();
    }
  }
}
