import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Dispatcher } from 'undici';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { OutlierDetector } from '../load-balancing/outlier-detector';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import { createStrategy } from '../load-balancing/strategies/create-strategy';
import { Upstream } from '../load-balancing/upstream';
import { UpstreamGroup } from '../load-balancing/upstream-group';
import type { CompiledRoute } from '../routing/compiled-route';
import type { RouteTableService } from '../routing/route-table.service';
import {
  UPSTREAM_HEALTH_CHECK_INTERVAL,
  UpstreamHealthCheckService,
} from './upstream-health-check.service';
import { probeKey, type ProbeSpec } from './upstream-prober';

/** A prober whose probes stay pending until the test settles them. */
class ScriptedProber {
  readonly calls: string[] = [];
  private readonly pending = new Map<string, { resolve(): void; reject(e: Error): void }[]>();
  /** Outcome for keys answered immediately; keys not listed stay pending. */
  readonly immediate = new Map<string, 'pass' | 'fail'>();
  running = 0;
  maxRunning = 0;

  probe(spec: ProbeSpec): Promise<void> {
    const key = probeKey(spec);
    this.calls.push(key);
    const outcome = this.immediate.get(key);
    if (outcome === 'pass') {
      return Promise.resolve();
    }
    if (outcome === 'fail') {
      return Promise.reject(new Error('connect ECONNREFUSED'));
    }
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise<void>((resolve, reject) => {
      const list = this.pending.get(key) ?? [];
      list.push({ resolve, reject });
      this.pending.set(key, list);
    }).finally(() => this.running--);
  }

  settle(key: string, ok: boolean): void {
    for (const p of this.pending.get(key) ?? []) {
      if (ok) {
        p.resolve();
      } else {
        p.reject(new Error('timeout'));
      }
    }
    this.pending.delete(key);
  }
}

function route(name: string, urls: string[], healthPath?: string): CompiledRoute {
  const ups = urls.map((u) => new Upstream(u, 1, {} as Dispatcher));
  return {
    name,
    config: { name, host: '', prefix: `/${name}`, requireAuth: false, healthPath } as RouteConfig,
    stripPrefix: false,
    preserveHost: false,
    timeoutMs: 1000,
    maxBodyBytes: undefined,
    group: new UpstreamGroup(ups, createStrategy('round-robin')),
  } as CompiledRoute;
}

const config = {
  loadBalancing: {
    healthCheckIntervalMs: 10_000,
    healthCheckTimeoutMs: 2_000,
    healthCheckFails: 2,
    healthCheckPasses: 2,
  },
} as GatewayConfig;

describe('UpstreamHealthCheckService', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  let routes: CompiledRoute[];
  let prober: ScriptedProber;
  let scheduler: SchedulerRegistry;
  let gauge: { set: jest.Mock };
  let outliers: OutlierDetector;
  let now = 0;
  let service: UpstreamHealthCheckService;
  let replaced: (() => void) | undefined;

  const build = (): UpstreamHealthCheckService => {
    const table = {
      get routes() {
        return routes;
      },
      onReplace(listener: () => void) {
        replaced = listener;
        return () => (replaced = undefined);
      },
    } as unknown as RouteTableService;
    service = new UpstreamHealthCheckService(config, table, prober, scheduler, outliers, gauge);
    return service;
  };

  beforeEach(() => {
    prober = new ScriptedProber();
    scheduler = new SchedulerRegistry();
    gauge = { set: jest.fn() };
    outliers = new OutlierDetector(
      { consecutiveFailures: 1, baseEjectionMs: 1000 },
      () => now,
      () => undefined,
    );
    routes = [route('a', ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'])];
  });

  afterEach(() => service?.onModuleDestroy());

  it('should mark an upstream down only after HEALTH_CHECK_FAILS consecutive failures', async () => {
    const svc = build();
    const [u1] = routes[0].group.upstreams;
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');

    await svc.runChecks();
    expect(u1.healthy).toBe(true);

    await svc.runChecks();
    expect(u1.healthy).toBe(false);
    expect(gauge.set).toHaveBeenCalledWith({ backend: 'http://10.0.0.1:8080/' }, 0);
  });

  it('should mark it up again only after HEALTH_CHECK_PASSES consecutive successes', async () => {
    const svc = build();
    const [u1] = routes[0].group.upstreams;
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    await svc.runChecks();
    await svc.runChecks();

    prober.immediate.set('tcp://10.0.0.1:8080', 'pass');
    await svc.runChecks();
    expect(u1.healthy).toBe(false);
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    await svc.runChecks();
    prober.immediate.set('tcp://10.0.0.1:8080', 'pass');
    await svc.runChecks();
    expect(u1.healthy).toBe(false);
    await svc.runChecks();

    expect(u1.healthy).toBe(true);
    expect(gauge.set).toHaveBeenCalledWith({ backend: 'http://10.0.0.1:8080/' }, 1);
  });

  it('should never overlap probes of one upstream (a hanging one is skipped)', async () => {
    const svc = build();
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');

    const first = svc.runChecks();
    await new Promise((r) => setImmediate(r));
    await svc.runChecks();
    await svc.runChecks();

    expect(prober.calls.filter((k) => k === 'tcp://10.0.0.1:8080')).toHaveLength(1);
    expect(prober.calls.filter((k) => k === 'tcp://10.0.0.2:8080')).toHaveLength(3);

    prober.settle('tcp://10.0.0.1:8080', true);
    await first;
    const next = svc.runChecks();
    expect(prober.calls.filter((k) => k === 'tcp://10.0.0.1:8080')).toHaveLength(2);
    prober.settle('tcp://10.0.0.1:8080', true);
    await next;
  });

  it('should probe all upstreams concurrently', async () => {
    routes = [route('a', ['http://10.0.0.1', 'http://10.0.0.2', 'http://10.0.0.3'])];
    const svc = build();

    const tick = svc.runChecks();
    expect(prober.maxRunning).toBe(3);
    for (const k of ['tcp://10.0.0.1:80', 'tcp://10.0.0.2:80', 'tcp://10.0.0.3:80']) {
      prober.settle(k, true);
    }
    await tick;
  });

  it('should probe an upstream shared by several routes once and update every copy', async () => {
    routes = [
      route('a', ['http://10.0.0.1:8080/a']),
      route('b', ['http://10.0.0.1:8080/b', 'http://10.0.0.9:8080']),
      route('c', ['http://10.0.0.1:8080/c'], '/healthz'),
    ];
    const svc = build();
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    prober.immediate.set('tcp://10.0.0.9:8080', 'pass');
    prober.immediate.set('GET http://10.0.0.1:8080/c/healthz', 'pass');

    expect(svc.probeCount).toBe(3);
    await svc.runChecks();
    await svc.runChecks();

    expect(prober.calls).toHaveLength(6);
    expect(routes[0].group.upstreams[0].healthy).toBe(false);
    expect(routes[1].group.upstreams[0].healthy).toBe(false);
    expect(routes[1].group.upstreams[1].healthy).toBe(true);
    expect(routes[2].group.upstreams[0].healthy).toBe(true);
  });

  it('should register its interval and probe right away at startup', () => {
    const svc = build();
    prober.immediate.set('tcp://10.0.0.1:8080', 'pass');
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');

    svc.onApplicationBootstrap();

    expect(scheduler.getIntervals()).toEqual([UPSTREAM_HEALTH_CHECK_INTERVAL]);
    expect(prober.calls).toHaveLength(2);
    // A new table (admin API, reload) is probed at once, not one interval later.
    routes = [route('b', ['http://10.0.0.3:8080'])];
    prober.immediate.set('tcp://10.0.0.3:8080', 'pass');
    replaced?.();
    expect(prober.calls).toContain('tcp://10.0.0.3:8080');
    svc.onModuleDestroy();
    expect(replaced).toBeUndefined();
    expect(scheduler.getIntervals()).toEqual([]);
  });

  it('should publish 0 for an ejected backend and 1 when it returns', () => {
    build();
    const [u1, u2] = routes[0].group.upstreams;
    expect(service.probeCount).toBe(2);

    outliers.recordOutcome(u1, 'failed-exchange');
    expect(gauge.set).toHaveBeenLastCalledWith({ backend: u1.key }, 0);
    now += 1000;
    outliers.sweep();
    expect(gauge.set).toHaveBeenLastCalledWith({ backend: u1.key }, 1);
    expect(u2.ejected).toBe(false);
  });

  it('should end an ejection and half-open a breaker as soon as a probe passes', async () => {
    const svc = build();
    const [u1] = routes[0].group.upstreams;
    const breaker = new CircuitBreaker({ maxFailures: 1, openMs: 60_000, clock: () => now });
    u1.breaker = breaker;
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');
    prober.immediate.set('tcp://10.0.0.1:8080', 'pass');
    await svc.runChecks();

    outliers.recordOutcome(u1, 'failed-exchange');
    breaker.record('failed-exchange');
    expect([u1.ejected, breaker.state, u1.isAvailable()]).toEqual([true, 'open', false]);
    gauge.set.mockClear();

    await svc.runChecks();

    // Long before the 1 s ejection and the 60 s breaker timers.
    expect([u1.ejected, breaker.state, u1.isAvailable()]).toEqual([false, 'half-open', true]);
    expect(gauge.set).toHaveBeenCalledWith({ backend: u1.key }, 1);
    expect(gauge.set).not.toHaveBeenCalledWith({ backend: u1.key }, 0);
  });

  it('should not revive an upstream on a passed probe while it is still down', async () => {
    const svc = build();
    const [u1] = routes[0].group.upstreams;
    const breaker = new CircuitBreaker({ maxFailures: 1, openMs: 60_000, clock: () => now });
    u1.breaker = breaker;
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    await svc.runChecks();
    await svc.runChecks();
    expect(u1.healthy).toBe(false);
    breaker.record('failed-exchange');

    // HEALTH_CHECK_PASSES is 2 here: one passed probe does not bring it up yet.
    prober.immediate.set('tcp://10.0.0.1:8080', 'pass');
    await svc.runChecks();
    expect([u1.healthy, breaker.state]).toEqual([false, 'open']);
    await svc.runChecks();
    expect([u1.healthy, breaker.state]).toEqual([true, 'half-open']);
  });

  it('should keep probe state across a route table reload', async () => {
    const svc = build();
    prober.immediate.set('tcp://10.0.0.1:8080', 'fail');
    prober.immediate.set('tcp://10.0.0.2:8080', 'pass');
    await svc.runChecks();
    await svc.runChecks();

    routes = [route('a', ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'])];
    expect(svc.probeCount).toBe(2);

    expect(routes[0].group.upstreams[0].healthy).toBe(false);
  });
});
