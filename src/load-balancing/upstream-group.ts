import { Logger } from '@nestjs/common';
import type { BalancingStrategy } from './strategies/balancing-strategy.interface';
import { PoolActivity, type Upstream } from './upstream';

/** Counts requests routed in panic, by the route they came by (`upstream_panic_total{route}`). */
export interface PanicCounter {
  inc(route: string): void;
}

const NOT_COUNTED: PanicCounter = { inc: () => undefined };

/**
 * A route's upstreams plus the strategy that chooses among them, and panic routing (Envoy's
 * healthy panic threshold): when breakers and ejections would leave no usable upstream, or fewer
 * than half of the upstreams active probes call up, a pool that keeps excluding upstreams on
 * passive signals only concentrates the load on the few left (or answers 503 with nothing
 * wrong but a run of 503s from the application). Then traffic is spread over every upstream the
 * probes call up (`isPanicCandidate`), and the state change is logged once each way. An upstream
 * the probes call down is never used, nor one whose breaker opened on consecutive exchange
 * failures.
 *
 * Routes with the same upstreams share one group, so the panic state is that of the servers, not
 * of one route; each request routed in panic is counted for the route it came by.
 */
export class UpstreamGroup {
  private readonly logger = new Logger('UpstreamGroup');
  /** True while the last pick was made in panic; read by logs and tests. */
  panicking = false;

  constructor(
    readonly upstreams: readonly Upstream[],
    private readonly strategy: BalancingStrategy,
    private readonly panics: PanicCounter = NOT_COUNTED,
  ) {
    const activity = new PoolActivity();
    for (const upstream of upstreams) {
      upstream.peers = upstreams;
      upstream.activity = activity;
    }
  }

  /**
   * The balancer's pick among usable upstreams, or among the panic candidates in panic. `route`
   * names the route the request came by, for the panic count and log.
   */
  pick(clientIp: string, route: string): Upstream | undefined {
    // One upstream is the common case; skip the strategy's bookkeeping for it.
    if (this.upstreams.length === 1) {
      const only = this.upstreams[0];
      if (only.countsAsUsable()) {
        if (this.panicking) {
          this.leavePanic(route, 1, 1);
        }
        return only;
      }
      if (!only.isPanicCandidate()) {
        return undefined;
      }
      this.enterPanic(route, 0, 1);
      return only;
    }
    let usable = 0;
    let up = 0;
    for (const u of this.upstreams) {
      if (u.healthy && !u.draining) {
        up++;
        if (u.countsAsUsable()) {
          usable++;
        }
      }
    }
    if (usable > 0 && usable * 2 >= up) {
      if (this.panicking) {
        this.leavePanic(route, usable, up);
      }
      return this.strategy.pick(this.upstreams, clientIp);
    }
    const picked = this.strategy.pick(this.upstreams, clientIp, true);
    if (picked !== undefined) {
      this.enterPanic(route, usable, up);
    }
    return picked;
  }

  /**
   * The upstream for one attempt, with its breaker permit taken: the pick, or on a retry an
   * upstream not tried yet when the pool has one. In panic a breaker that refuses a permit is
   * overridden (its outcome is still recorded; the breaker ignores it while open).
   */
  choose(clientIp: string, tried: readonly Upstream[], route: string): Upstream | undefined {
    let candidate = this.pick(clientIp, route);
    if (candidate === undefined) {
      return undefined;
    }
    const panic = this.panicking;
    if (tried.includes(candidate)) {
      candidate =
        this.upstreams.find(
          (u) => (panic ? u.isPanicCandidate() : u.isAvailable()) && !tried.includes(u),
        ) ?? candidate;
    }
    if (candidate.breaker === undefined || candidate.breaker.tryAcquire() || panic) {
      return candidate;
    }
    // The pick's breaker refused (its half-open trial is taken): any other available upstream.
    for (const u of this.upstreams) {
      if (
        u !== candidate &&
        u.isAvailable() &&
        (u.breaker === undefined || u.breaker.tryAcquire())
      ) {
        return u;
      }
    }
    return undefined;
  }

  /** Whether a request could be served now (normally or in panic): for readiness and `/health`. */
  canServe(): boolean {
    return this.upstreams.some((u) => u.isAvailable() || u.isPanicCandidate());
  }

  private enterPanic(route: string, usable: number, up: number): void {
    this.panics.inc(route);
    if (!this.panicking) {
      this.panicking = true;
      this.logger.warn(
        `route ${route} (upstreams ${this.keys()}): panic routing: ${usable} of ${up} probed-up ` +
          `upstream(s) usable (breakers open or ejected); spreading traffic over every probed-up ` +
          `upstream`,
      );
    }
  }

  private leavePanic(route: string, usable: number, up: number): void {
    this.panicking = false;
    this.logger.log(
      `route ${route} (upstreams ${this.keys()}): panic routing over: ${usable} of ${up} ` +
        `probed-up upstream(s) usable`,
    );
  }

  private keys(): string {
    return this.upstreams.map((u) => u.label).join(', ');
  }
}
