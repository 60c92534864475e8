import {
  SystemSampler,
  type LoopDelayHistogram,
  type SamplerSources,
} from './system-metrics.sampler';

function cpu(user: number, sys: number, idle: number) {
  return { times: { user, nice: 0, sys, irq: 0, idle } };
}

/** Hand-driven sources: each test moves the counters and then samples. */
function fakeSources() {
  const state = {
    cpus: [cpu(0, 0, 0), cpu(0, 0, 0)],
    now: 0,
    processCpu: { user: 0, system: 0 },
    elu: { idle: 0, active: 0, utilization: 0 },
    delay: { p50: 0, p99: 0, max: 0, mean: NaN, count: 0, resets: 0, enabled: false },
    free: 6e9,
    limit: undefined as number | undefined,
  };
  const loopDelay: LoopDelayHistogram = {
    percentile: (p) => (p === 50 ? state.delay.p50 : state.delay.p99),
    get max() {
      return state.delay.max;
    },
    get mean() {
      return state.delay.mean;
    },
    get count() {
      return state.delay.count;
    },
    enable: () => (state.delay.enabled = true),
    disable: () => !(state.delay.enabled = false),
    reset: () => {
      state.delay.resets++;
    },
  };
  const sources: SamplerSources = {
    cpus: () => state.cpus,
    loadavg: () => [0.5, 0.25, 0.125],
    totalmem: () => 8e9,
    freemem: () => state.free,
    hostUptime: () => 1234.9,
    cpuUsage: () => ({ ...state.processCpu }),
    memoryUsage: () => ({ rss: 100, heapUsed: 10, heapTotal: 20, external: 5 }),
    constrainedMemory: () => state.limit,
    processUptime: () => 42.7,
    now: () => state.now,
    eventLoopUtilization: (current, previous) => {
      if (!current) {
        return { ...state.elu };
      }
      const idle = current.idle - (previous?.idle ?? 0);
      const active = current.active - (previous?.active ?? 0);
      return { idle, active, utilization: active / (idle + active || 1) };
    },
    loopDelay,
  };
  return { state, sources };
}

describe('SystemSampler', () => {
  it('should report host CPU from the busy share of the os.cpus() deltas', () => {
    const { state, sources } = fakeSources();
    const sampler = new SystemSampler(sources);
    // Core 0: 300 busy of 400; core 1: 100 busy of 400 -> 400/800 = 50%.
    state.cpus = [cpu(200, 100, 100), cpu(50, 50, 300)];
    state.now = 1000;
    expect(sampler.sample().host.cpuPercent).toBe(50);
    // Next interval: only idle time passes.
    state.cpus = [cpu(200, 100, 500), cpu(50, 50, 700)];
    state.now = 2000;
    expect(sampler.sample().host.cpuPercent).toBe(0);
  });

  it('should report process CPU as a share of one core over wall time', () => {
    const { state, sources } = fakeSources();
    const sampler = new SystemSampler(sources);
    state.now = 2000;
    // 500 ms user + 250 ms system over 2 s of wall time = 37.5% of a core.
    state.processCpu = { user: 500_000, system: 250_000 };
    expect(sampler.sample().process.cpuPercent).toBe(37.5);
  });

  it('should report memory, load average and uptimes as read', () => {
    const { state, sources } = fakeSources();
    state.free = 2e9;
    const s = new SystemSampler(sources).sample();
    expect(s.host.memory).toEqual({
      totalBytes: 8e9,
      freeBytes: 2e9,
      usedBytes: 6e9,
      usedPercent: 75,
    });
    expect(s.host.loadAverage).toEqual([0.5, 0.25, 0.13]);
    expect(s.host.cores).toBe(2);
    expect(s.host.uptimeSeconds).toBe(1234);
    expect(s.process.uptimeSeconds).toBe(42);
    expect(s.process).toMatchObject({ rssBytes: 100, heapUsedBytes: 10, heapTotalBytes: 20 });
    expect(s.process.nodeVersion).toBe(process.version);
  });

  it('should report a cgroup memory limit only when it is below physical memory', () => {
    const { state, sources } = fakeSources();
    const sampler = new SystemSampler(sources);
    state.limit = 2 ** 62;
    expect(sampler.sample().process.memoryLimitBytes).toBeUndefined();
    state.limit = 1e9;
    expect(sampler.sample().process.memoryLimitBytes).toBe(1e9);
  });

  it('should report event-loop delay in ms and utilisation since the last sample, then reset', () => {
    const { state, sources } = fakeSources();
    const sampler = new SystemSampler(sources);
    expect(state.delay.enabled).toBe(true);
    state.delay = { ...state.delay, p50: 21e6, p99: 35.5e6, max: 40e6, mean: 22e6, count: 9 };
    state.elu = { idle: 750, active: 250, utilization: 0.25 };
    const s = sampler.sample();
    expect(s.process.eventLoop).toEqual({
      delayMs: { p50: 21, p99: 35.5, max: 40, mean: 22 },
      utilization: 0.25,
    });
    expect(state.delay.resets).toBe(1);
    sampler.stop();
    expect(state.delay.enabled).toBe(false);
  });

  it('should report zeros, not NaN, before any delay was recorded', () => {
    const { sources } = fakeSources();
    const s = new SystemSampler(sources).sample();
    expect(s.process.eventLoop.delayMs).toEqual({ p50: 0, p99: 0, max: 0, mean: 0 });
    expect(JSON.stringify(s)).not.toContain('null');
  });

  it('should sample the real process without throwing and within sane bounds', () => {
    const sampler = new SystemSampler();
    const s = sampler.sample();
    sampler.stop();
    expect(s.host.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(s.host.cpuPercent).toBeLessThanOrEqual(100);
    expect(s.host.memory.totalBytes).toBeGreaterThan(0);
    expect(s.process.rssBytes).toBeGreaterThan(0);
  });
});
