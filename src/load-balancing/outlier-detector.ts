import { Logger } from '@nestjs/common';
import { monotonicClock, type Clock } from '../common/clock';
import { isFailure, type ExchangeOutcome } from '../resilience/classify-outcome';
import type { Upstream } from './upstream';

export interface OutlierDetectorOptions {
  /**
   * Consecutive failures that eject an upstream; 0 turns passive ejection off.
   * @default 5
   */
  consecutiveFailures: number;
  /** First ejection period; doubles on every repeated ejection. @default 30000 */
  baseEjectionMs: number;
  /** Longest ejection period. @default 10 × baseEjectionMs */
  maxEjectionMs?: number;
  /** Share of a route's upstreams that may be ejected at once, 0–100 (Envoy's `max_ejection_percent`). @default 50 */
  maxEjectionPercent?: number;
}

/** Called whenever an upstream is ejected or returns, so gauges and logs can follow. */
export type EjectionListener = (upstream: Upstream, ejected: boolean) => void;

interface OutlierState {
  /** Consecutive failures since the last success (or since the last ejection). */
  failures: number;
  /** Ejections in a row; sets the next period (base × 2^(level-1)). Decays while well-behaved. */
  level: number;
  /** Clock time the current ejection ends; 0 when not ejected. */
  ejectedUntil: number;
  /** Clock time the upstream last came back; used to decay `level`. */
  returnedAt: number;
  /** Came back from an ejection and has not succeeded since: one failure re-ejects it. */
  probation: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Passive health (outlier detection, after Envoy's `consecutive_5xx`): the proxy reports each
 * exchange's outcome and an upstream that fails `consecutiveFailures` times in a row is ejected
 * for a back-off period. Active probes alone leave a dead upstream in rotation for up to
 * `HEALTH_CHECK_INTERVAL × HEALTH_CHECK_FAILS` (D6).
 *
 * - Period: `base × 2^(level-1)`, capped at `maxEjectionMs` (default 10 × base): 30 s, 60 s,
 *   120 s, 240 s, 300 s, 300 s... `level` drops by one for every `base` the upstream spends back
 *   in rotation without being ejected, so an upstream that recovered for good starts again at 30 s.
 * - Probation: an upstream that comes back is re-ejected by its first failure until it has served
 *   one success (like a breaker's half-open), instead of hurting `consecutiveFailures` more requests.
 * - Cap: at most `maxEjectionPercent` (50 %) of a route's upstreams are ejected at once, rounded
 *   down, so a route with one upstream is never ejected (its breaker handles that case) and an
 *   outage of every upstream cannot empty a pool that could still serve some requests.
 *
 * Outcomes are `classifyOutcome`'s, the same verdicts the breaker and `upstream_errors_total`
 * get: exchange failures and failure statuses (502, 503, 504 by default) count; any other
 * response is a success; `neutral` = nothing learned (the client went away, the request was
 * refused before it was sent).
 *
 * A passed active probe ends an ejection at once (Envoy's
 * `successful_active_health_check_uneject_host`): the probe has just shown the upstream answers,
 * and probation re-ejects it on its first failure if live traffic says otherwise.
 *
 * Ejection state is per `Upstream` object, i.e. per upstream group: the cap is a per-pool
 * property; routes with the same upstreams share a group and so learn from each other's traffic,
 * while two groups that name one backend (different weights, algorithm, health path or failure
 * statuses) each learn from their own.
 *
 * @publicApi
 */
export class OutlierDetector {
  private readonly logger = new Logger(OutlierDetector.name);
  private readonly states = new WeakMap<Upstream, OutlierState>();
  /** Upstreams with a live un-eject timer, so `dispose()` can clear them. */
  private readonly timed = new Set<Upstream>();
  private readonly listeners: EjectionListener[] = [];
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxPercent: number;

  constructor(
    options: OutlierDetectorOptions,
    private readonly clock: Clock = monotonicClock,
    /** Schedules the return of an ejected upstream; tests pass a no-op and call `sweep()`. */
    private readonly schedule: (fn: () => void, ms: number) => NodeJS.Timeout | undefined = (
      fn,
      ms,
    ) => setTimeout(fn, ms).unref(),
  ) {
    this.threshold = options.consecutiveFailures;
    this.baseMs = options.baseEjectionMs;
    this.maxMs = options.maxEjectionMs ?? options.baseEjectionMs * 10;
    this.maxPercent = options.maxEjectionPercent ?? 50;
  }

  get enabled(): boolean {
    return this.threshold > 0;
  }

  onChange(listener: EjectionListener): void {
    this.listeners.push(listener);
  }

  /**
   * Records one proxied exchange with `upstream`. Call it once per attempt, when the outcome is
   * known (response head received, or the attempt failed). Cheap: a WeakMap lookup and a counter.
   */
  recordOutcome(upstream: Upstream, outcome: ExchangeOutcome): void {
    if (!this.enabled || outcome === 'neutral') {
      return;
    }
    const state = this.stateOf(upstream);
    if (!isFailure(outcome)) {
      state.failures = 0;
      state.probation = false;
      return;
    }
    if (upstream.ejected) {
      // Requests that were already in flight when it was ejected: nothing more to learn.
      return;
    }
    state.failures++;
    if (state.probation || state.failures >= this.threshold) {
      this.tryEject(upstream, state);
    }
  }

  /**
   * Ejects `upstream` now, whatever its failure count (the stall detector's verdict), within the
   * same cap and back-off as failures. @returns whether it is ejected afterwards.
   */
  eject(upstream: Upstream, reason: string): boolean {
    if (!this.enabled || upstream.ejected) {
      return upstream.ejected;
    }
    this.tryEject(upstream, this.stateOf(upstream), reason);
    return upstream.ejected;
  }

  /** An active probe of `upstream` passed: an ejection ends now, on probation. */
  onProbeSuccess(upstream: Upstream): void {
    const state = this.states.get(upstream);
    if (state && state.ejectedUntil > 0) {
      this.restore(upstream, state, this.clock(), 'an active probe passed');
    }
  }

  /** Clock time the upstream's current ejection ends, or undefined when it is not ejected. */
  ejectedUntil(upstream: Upstream): number | undefined {
    const state = this.states.get(upstream);
    return state && state.ejectedUntil > 0 ? state.ejectedUntil : undefined;
  }

  /** Returns every upstream whose ejection has expired. The timers call it; tests call it directly. */
  sweep(upstreams?: Iterable<Upstream>): void {
    const now = this.clock();
    for (const upstream of upstreams ?? [...this.timed]) {
      const state = this.states.get(upstream);
      if (state && state.ejectedUntil > 0 && now >= state.ejectedUntil) {
        this.restore(upstream, state, now);
      }
    }
  }

  /** Clears pending timers (shutdown). */
  dispose(): void {
    for (const upstream of this.timed) {
      const timer = this.states.get(upstream)?.timer;
      if (timer) {
        clearTimeout(timer);
      }
    }
    this.timed.clear();
  }

  private tryEject(upstream: Upstream, state: OutlierState, reason?: string): void {
    const peers = upstream.peers;
    const allowed = Math.floor((peers.length * this.maxPercent) / 100);
    let ejected = 0;
    for (const peer of peers) {
      if (peer.ejected) {
        ejected++;
      }
    }
    if (ejected + 1 > allowed) {
      // Keep counting: it is ejected as soon as a peer returns and frees a slot.
      return;
    }
    const now = this.clock();
    if (state.level > 0 && state.returnedAt > 0) {
      state.level = Math.max(0, state.level - Math.floor((now - state.returnedAt) / this.baseMs));
    }
    state.level++;
    const period = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(state.level - 1, 30));
    state.ejectedUntil = now + period;
    state.failures = 0;
    state.probation = false;
    upstream.ejected = true;
    this.logger.warn(
      `upstream ${upstream.label} ejected for ${period} ms (ejection #${state.level} in a row` +
        `${reason === undefined ? '' : `: ${reason}`})`,
    );
    state.timer = this.schedule(() => this.expire(upstream), period);
    this.timed.add(upstream);
    this.emit(upstream, true);
  }

  /**
   * The ejection timer fired. Node timers may fire a millisecond before the monotonic clock
   * says the period is over; a plain `sweep` would then leave the upstream ejected for good, so
   * a short remainder is re-armed instead of dropped.
   */
  private expire(upstream: Upstream): void {
    const state = this.states.get(upstream);
    if (!state || state.ejectedUntil === 0) {
      return;
    }
    const now = this.clock();
    const remaining = state.ejectedUntil - now;
    if (remaining <= 0) {
      this.restore(upstream, state, now);
    } else {
      state.timer = this.schedule(() => this.expire(upstream), Math.ceil(remaining));
    }
  }

  private restore(upstream: Upstream, state: OutlierState, now: number, why?: string): void {
    if (state.timer) {
      clearTimeout(state.timer);
    }
    state.timer = undefined;
    this.timed.delete(upstream);
    state.ejectedUntil = 0;
    state.returnedAt = now;
    state.failures = 0;
    state.probation = true;
    upstream.ejected = false;
    this.logger.log(
      `upstream ${upstream.label} back in rotation after ejection${why === undefined ? '' : ` (${why})`}`,
    );
    this.emit(upstream, false);
  }

  private emit(upstream: Upstream, ejected: boolean): void {
    for (const listener of this.listeners) {
      listener(upstream, ejected);
    }
  }

  private stateOf(upstream: Upstream): OutlierState {
    let state = this.states.get(upstream);
    if (!state) {
      state = {
        failures: 0,
        level: 0,
        ejectedUntil: 0,
        returnedAt: 0,
        probation: false,
        timer: undefined,
      };
      this.states.set(upstream, state);
    }
    return state;
  }
}
