import type { TrafficSnapshot } from './traffic-stats.types';

/**
 * Host and process figures, measured in the background by `SystemMetricsSampler`. Deliberately
 * free of anything that identifies the machine or the process beyond the Node version: no host
 * name, PID, command line, environment or file paths (the Go gateway published full command lines
 * of the top 20 processes, seed-spec D20).
 */
export interface HostMetrics {
  /** Busy share of all cores since the previous sample, 0–100. */
  cpuPercent: number;
  cores: number;
  /** 1, 5 and 15 minute load averages (real ones, not the Go gateway's fake). */
  loadAverage: [number, number, number];
  memory: {
    totalBytes: number;
    /** What the kernel reports as available (MemAvailable on Linux). */
    freeBytes: number;
    usedBytes: number;
    usedPercent: number;
  };
  uptimeSeconds: number;
}

export interface ProcessMetrics {
  /** CPU time used since the previous sample as a share of one core (top's convention), 0–100×cores. */
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** A cgroup memory limit, when the process runs under one; else undefined. */
  memoryLimitBytes?: number;
  eventLoop: {
    /** Event-loop delay percentiles since the previous sample, in milliseconds. */
    delayMs: { p50: number; p99: number; max: number; mean: number };
    /** Share of time the loop was busy since the previous sample, 0–1. */
    utilization: number;
  };
  uptimeSeconds: number;
  nodeVersion: string;
}

/** One background measurement of host and process. */
export interface SystemSample {
  host: HostMetrics;
  process: ProcessMetrics;
}

/** The body of `GET /api/system-metrics`. */
export interface SystemMetricsReport extends SystemSample {
  /** ISO time the sample was taken (identical across calls until the next sample). */
  sampledAt: string;
  /** Sequence number of the sample, starting at 1. */
  sample: number;
  intervalMs: number;
  gateway: { version: string };
  traffic: TrafficSnapshot;
  /** The last samples, oldest first, one per interval, for sparklines. */
  history: {
    intervalMs: number;
    requestsPerSecond: number[];
    errorsPerSecond: number[];
    p99Ms: number[];
    hostCpuPercent: number[];
    processCpuPercent: number[];
  };
}
