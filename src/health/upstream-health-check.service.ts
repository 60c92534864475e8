import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig } from '../config/gateway-config.types';
import { OutlierDetector } from '../load-balancing/outlier-detector';
import type { Upstream } from '../load-balancing/upstream';
import type { UpstreamGroup } from '../load-balancing/upstream-group';
import { BACKEND_HEALTH_STATUS } from '../observability/metrics.constants';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService } from '../routing/route-table.service';
import { probeKey, probeSpecFor, UpstreamProber, type ProbeSpec } from './upstream-prober';

/** Name of the interval in `SchedulerRegistry`. */
export const UPSTREAM_HEALTH_CHECK_INTERVAL = 'upstream-health-check';

/** One distinct probe and everything it decides. */
interface ProbeTarget {
  readonly key: string;
  readonly spec: ProbeSpec;
  /** Every `Upstream` object (one per upstream group) this probe writes `healthy` into. */
  upstreams: Upstream[];
  running: boolean;
  up: boolean;
  fails: number;
  passes: number;
}

/** Only the part of prom-client's `Gauge` the service uses (tests pass a stub). */
export type BackendHealthGauge = Pick<Gauge<'backend'>, 'set'>;

/**
 * Active health checks. Every `HEALTH_CHECK_INTERVAL` (first run at startup, not one interval
 * later: D6) it probes each distinct upstream once, all of them concurrently, and writes
 * `Upstream.healthy` after `HEALTH_CHECK_FAILS` consecutive failures / `HEALTH_CHECK_PASSES`
 * consecutive successes.
 *
 * - De-duplication: every upstream group has its own `Upstream` objects, but two groups pointing
 *   at the same host:port (TCP) or the same health URL share one probe and its result.
 * - No overlap: a probe still running when the next tick comes (a hanging upstream) is not
 *   started again; that tick skips it.
 * - `backend_health_status{backend}` is set after every probe and whenever the outlier detector
 *   ejects or returns an upstream: 1 when every group's copy of that backend is up and not ejected.
 *
 * Named so it does not clash with terminus's own `HealthCheckService`.
 *
 * @publicApi
 */
@Injectable()
export class UpstreamHealthCheckService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(UpstreamHealthCheckService.name);
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly failsToDown: number;
  private readonly passesToUp: number;
  private targets = new Map<string, ProbeTarget>();
  private byBackend = new Map<string, Upstream[]>();
  private builtFrom: readonly CompiledRoute[] | undefined;
  private readonly stopping = new AbortController();
  private stopFollowing: (() => void) | undefined;

  constructor(
    @InjectGatewayConfig() config: GatewayConfig,
    private readonly routes: RouteTableService,
    private readonly prober: UpstreamProber,
    private readonly scheduler: SchedulerRegistry,
    private readonly outliers: OutlierDetector,
    @InjectMetric(BACKEND_HEALTH_STATUS) private readonly gauge: BackendHealthGauge,
  ) {
    this.intervalMs = config.loadBalancing.healthCheckIntervalMs;
    this.timeoutMs = config.loadBalancing.healthCheckTimeoutMs;
    this.failsToDown = config.loadBalancing.healthCheckFails;
    this.passesToUp = config.loadBalancing.healthCheckPasses;
    this.outliers.onChange((upstream) => this.publish(upstream.label));
  }

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.runChecks(), this.intervalMs);
    this.scheduler.addInterval(UPSTREAM_HEALTH_CHECK_INTERVAL, timer);
    void this.runChecks();
    // A new table (admin API, reload): known probe state is copied onto the new upstreams and
    // new upstreams are probed at once.
    this.stopFollowing = this.routes.onReplace(() => void this.runChecks());
  }

  onModuleDestroy(): void {
    this.stopFollowing?.();
    if (this.scheduler.doesExist('interval', UPSTREAM_HEALTH_CHECK_INTERVAL)) {
      this.scheduler.deleteInterval(UPSTREAM_HEALTH_CHECK_INTERVAL);
    }
    this.stopping.abort();
  }

  /** Number of distinct probes per tick (after de-duplication). */
  get probeCount(): number {
    this.refresh();
    return this.targets.size;
  }

  /**
   * One tick: starts every probe that is not still running, concurrently. Resolves when the
   * probes started by this tick have finished (the interval does not wait for it).
   */
  async runChecks(): Promise<void> {
    if (this.stopping.signal.aborted) {
      return;
    }
    this.refresh();
    const started: Promise<void>[] = [];
    for (const target of this.targets.values()) {
      if (target.running) {
        this.logger.debug(`probe ${target.key} still running; skipping this tick`);
        continue;
      }
      started.push(this.probe(target));
    }
    await Promise.all(started);
  }

  private async probe(target: ProbeTarget): Promise<void> {
    target.running = true;
    let error: unknown;
    try {
      await this.prober.probe(target.spec, this.timeoutMs, this.stopping.signal);
    } catch (err) {
      error = err ?? new Error('probe failed');
    } finally {
      target.running = false;
    }
    if (this.stopping.signal.aborted) {
      return;
    }
    this.record(target, error);
  }

  private record(target: ProbeTarget, error: unknown): void {
    if (error === undefined) {
      target.fails = 0;
      target.passes++;
      if (!target.up && target.passes >= this.passesToUp) {
        target.up = true;
        this.logger.log(`upstream ${target.key} is up (${target.passes} passed probe(s))`);
      }
    } else {
      target.passes = 0;
      target.fails++;
      const reason = error instanceof Error ? error.message : 'probe failed';
      if (target.up && target.fails >= this.failsToDown) {
        target.up = false;
        this.logger.warn(
          `upstream ${target.key} is down (${target.fails} failed probes; last: ${reason})`,
        );
      } else {
        this.logger.debug(`probe ${target.key} failed: ${reason}`);
      }
    }
    const backends = new Set<string>();
    // A passed probe of an upstream that is up is fresh proof it answers: an ejection ends and
    // an open breaker turns half-open now, instead of after their own timers (30 s by default),
    // so a restarted upstream takes traffic again within one interval.
    const revive = error === undefined && target.up;
    for (const upstream of target.upstreams) {
      upstream.healthy = target.up;
      backends.add(upstream.label);
      if (revive) {
        this.outliers.onProbeSuccess(upstream);
        upstream.breaker?.onProbeSuccess();
      }
    }
    for (const backend of backends) {
      this.publish(backend);
    }
  }

  private publish(backend: string): void {
    const copies = this.byBackend.get(backend);
    if (!copies) {
      return;
    }
    const usable = copies.every((u) => u.healthy && !u.ejected);
    this.gauge.set({ backend }, usable ? 1 : 0);
  }

  /** Rebuilds the probe list when the route table was replaced, keeping known probe state. */
  private refresh(): void {
    const routes = this.routes.routes;
    if (routes === this.builtFrom) {
      return;
    }
    const targets = new Map<string, ProbeTarget>();
    const byBackend = new Map<string, Upstream[]>();
    // Routes with the same upstreams and health path share one group: visit it once.
    const seen = new Set<UpstreamGroup>();
    for (const route of routes) {
      if (seen.has(route.group)) {
        continue;
      }
      seen.add(route.group);
      for (const upstream of route.group.upstreams) {
        const spec = probeSpecFor(upstream, route.config.healthPath);
        const key = probeKey(spec);
        let target = targets.get(key);
        if (!target) {
          // Reuse the object: a probe still running writes its result into the new upstreams.
          target = this.targets.get(key) ?? {
            key,
            spec,
            upstreams: [],
            running: false,
            up: true,
            fails: 0,
            passes: 0,
          };
          target.upstreams = [];
          targets.set(key, target);
        }
        target.upstreams.push(upstream);
        upstream.healthy = target.up;
        // By label: the gauge's `backend` label never shows a URL's query (it may hold a key).
        const copies = byBackend.get(upstream.label);
        if (copies) {
          copies.push(upstream);
        } else {
          byBackend.set(upstream.label, [upstream]);
        }
      }
    }
    this.targets = targets;
    this.byBackend = byBackend;
    this.builtFrom = routes;
  }
}
