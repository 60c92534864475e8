import * as os from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { SystemSample } from './system-metrics.types';

/** Where the sampler reads from; the defaults are Node's, tests substitute their own. */
export interface SamplerSources {
  cpus(): Pick<os.CpuInfo, 'times'>[];
  loadavg(): number[];
  totalmem(): number;
  freemem(): number;
  hostUptime(): number;
  cpuUsage(): NodeJS.CpuUsage;
  memoryUsage(): Pick<NodeJS.MemoryUsage, 'rss' | 'heapUsed' | 'heapTotal' | 'external'>;
  /** A cgroup limit in bytes, 0 or undefined when there is none. */
  constrainedMemory(): number | undefined;
  processUptime(): number;
  /** Monotonic milliseconds. */
  now(): number;
  eventLoopUtilization(
    current?: EventLoopUtilization,
    previous?: EventLoopUtilization,
  ): EventLoopUtilization;
  /** Event-loop delay histogram in nanoseconds; reset after each sample. */
  loopDelay: LoopDelayHistogram;
}

export interface LoopDelayHistogram {
  percentile(p: number): number;
  readonly max: number;
  readonly mean: number;
  readonly count?: number;
  enable(): boolean;
  disable(): boolean;
  reset(): void;
}

export function nodeSamplerSources(): SamplerSources {
  return {
    cpus: () => os.cpus(),
    loadavg: () => os.loadavg(),
    totalmem: () => os.totalmem(),
    freemem: () => os.freemem(),
    hostUptime: () => os.uptime(),
    cpuUsage: () => process.cpuUsage(),
    memoryUsage: () => process.memoryUsage(),
    constrainedMemory: () =>
      (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.(),
    processUptime: () => process.uptime(),
    now: () => performance.now(),
    eventLoopUtilization: (a, b) => performance.eventLoopUtilization(a, b),
    // 20 ms resolution: fine enough to see a blocked loop, cheap enough to leave on.
    loopDelay: monitorEventLoopDelay({ resolution: 20 }),
  };
}

interface CpuTotals {
  busy: number;
  total: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

/**
 * Measures host and process usage as deltas between consecutive `sample()` calls, which the
 * owner makes on a timer. One call reads a few kernel counters (tens of microseconds); nothing
 * here walks the process table or spawns anything.
 */
export class SystemSampler {
  private lastCpu: CpuTotals;
  private lastProcessCpu: NodeJS.CpuUsage;
  private lastAt: number;
  private lastElu: EventLoopUtilization;
  private readonly cores: number;

  constructor(private readonly src: SamplerSources = nodeSamplerSources()) {
    this.lastCpu = this.cpuTotals();
    this.lastProcessCpu = src.cpuUsage();
    this.lastAt = src.now();
    this.lastElu = src.eventLoopUtilization();
    this.cores = Math.max(1, src.cpus().length || os.availableParallelism());
    src.loopDelay.enable();
  }

  sample(): SystemSample {
    const src = this.src;
    const now = src.now();
    const elapsedMs = Math.max(1, now - this.lastAt);

    const cpu = this.cpuTotals();
    const dTotal = cpu.total - this.lastCpu.total;
    const hostCpu = dTotal > 0 ? ((cpu.busy - this.lastCpu.busy) / dTotal) * 100 : 0;

    const usage = src.cpuUsage();
    const processMicros =
      usage.user - this.lastProcessCpu.user + (usage.system - this.lastProcessCpu.system);
    const processCpu = (processMicros / 1000 / elapsedMs) * 100;

    const elu = src.eventLoopUtilization();
    const eluDelta = src.eventLoopUtilization(elu, this.lastElu);

    const h = src.loopDelay;
    const hasDelay = (h.count ?? 1) > 0 && Number.isFinite(h.mean) && h.max > 0;
    const ms = (ns: number): number => (hasDelay ? round2(ns / 1e6) : 0);
    const delayMs = {
      p50: ms(h.percentile(50)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      mean: ms(h.mean),
    };
    h.reset();

    this.lastCpu = cpu;
    this.lastProcessCpu = usage;
    this.lastAt = now;
    this.lastElu = elu;

    const total = src.totalmem();
    const free = Math.min(total, src.freemem());
    const mem = src.memoryUsage();
    const limit = src.constrainedMemory();
    const [l1 = 0, l5 = 0, l15 = 0] = src.loadavg();
    return {
      host: {
        cpuPercent: round1(clamp(hostCpu, 0, 100)),
        cores: this.cores,
        loadAverage: [round2(l1), round2(l5), round2(l15)],
        memory: {
          totalBytes: total,
          freeBytes: free,
          usedBytes: total - free,
          usedPercent: total > 0 ? round1(((total - free) / total) * 100) : 0,
        },
        uptimeSeconds: Math.floor(src.hostUptime()),
      },
      process: {
        cpuPercent: round1(clamp(processCpu, 0, 100 * this.cores)),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        // cgroup v2 reports "max" as a huge number: only a limit below physical memory is one.
        ...(limit !== undefined && limit > 0 && limit < total ? { memoryLimitBytes: limit } : {}),
        eventLoop: { delayMs, utilization: round2(clamp(eluDelta.utilization, 0, 1)) },
        uptimeSeconds: Math.floor(src.processUptime()),
        nodeVersion: process.version,
      },
    };
  }

  /** Stops the event-loop delay histogram (its timer would otherwise keep sampling). */
  stop(): void {
    this.src.loopDelay.disable();
  }

  private cpuTotals(): CpuTotals {
    let busy = 0;
    let total = 0;
    for (const { times } of this.src.cpus()) {
      const t = times.user + times.nice + times.sys + times.irq + times.idle;
      total += t;
      busy += t - times.idle;
    }
    return { busy, total };
  }
}
