import type { Dispatcher } from 'undici';
import {
  DEFAULT_FAILURE_STATUSES,
  failureStatusSet,
  type FailureStatuses,
} from '../resilience/classify-outcome';

/** Circuit states shown in `/health` (`circuit_state`) and summarised as `circuit_breaker`. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * What `Upstream.isAvailable()` asks a per-upstream circuit breaker. `isAvailable()` runs on
 * every pick, for every candidate, so it must be cheap and free of side effects (do not claim the
 * half-open trial slot here; claim it when the request is actually sent).
 */
export interface UpstreamBreakerHook {
  isAvailable(): boolean;
  /** Claims a permit (the half-open trial included) for a request about to be sent. */
  tryAcquire(): boolean;
  /** An active probe passed: an open breaker goes half-open at once. */
  onProbeSuccess(): void;
  /** Whether panic routing may still send here while it refuses (see `CircuitBreaker.allowsPanic`). */
  allowsPanic(): boolean;
  readonly state: CircuitState;
}

/**
 * One attempt waiting for its response head on an upstream, linked into that upstream's wait
 * list (oldest first) without any allocation. `UpstreamExchange` implements it.
 */
export interface WaitingAttempt {
  /** performance.now() when the attempt was dispatched. */
  waitStartedAt: number;
  waitPrev: WaitingAttempt | undefined;
  waitNext: WaitingAttempt | undefined;
  /** The upstream whose list holds it; undefined when not waiting. */
  waitingOn: Upstream | undefined;
  /**
   * The stall detector gave up on this upstream: move the attempt elsewhere if that is safe
   * (idempotent, body not consumed, attempts and time left); otherwise keep waiting.
   * @returns whether the attempt is being moved.
   */
  stalled(): boolean;
}

/**
 * What a pool learned from its recent answers, for the stall detector: when the last few
 * answered attempts started, and the slowest answer of the last one to two minutes.
 */
export class PoolActivity {
  private static readonly RING = 8;
  /** Two-minute-ish memory of the slowest answer: the current and the previous minute. */
  private static readonly SLOT_MS = 60_000;
  private readonly starts = new Float64Array(PoolActivity.RING);
  private next = 0;
  private slowestNow = 0;
  private slowestBefore = 0;
  private slotStartedAt = 0;

  /** An attempt that started at `startedAt` got its response head at `now`. */
  answered(startedAt: number, now: number): void {
    this.starts[this.next] = startedAt;
    this.next = (this.next + 1) % PoolActivity.RING;
    this.rotate(now);
    const took = now - startedAt;
    if (took > this.slowestNow) {
      this.slowestNow = took;
    }
  }

  /** How many of the last answered attempts (at most 8) started after `t`. */
  answeredStartedAfter(t: number): number {
    let n = 0;
    for (let i = 0; i < PoolActivity.RING; i++) {
      if (this.starts[i] > t) {
        n++;
      }
    }
    return n;
  }

  /** The slowest time to a response head over the last one to two minutes. */
  slowestMs(now: number): number {
    this.rotate(now);
    return Math.max(this.slowestNow, this.slowestBefore);
  }

  private rotate(now: number): void {
    const elapsed = now - this.slotStartedAt;
    if (elapsed >= PoolActivity.SLOT_MS) {
      this.slowestBefore = elapsed >= 2 * PoolActivity.SLOT_MS ? 0 : this.slowestNow;
      this.slowestNow = 0;
      this.slotStartedAt = now;
    }
  }
}

/**
 * One upstream target of a route, parsed once at boot. Mutable counters live here so the
 * balancer, health checks and metrics read one object instead of looking things up per request.
 */
export class Upstream {
  readonly origin: string;
  /** Path part of the target URL (`''` when none), joined in front of forwarded paths. */
  readonly basePath: string;
  /** Query part of the target URL without `?`, merged before the client's query. */
  readonly baseQuery: string;
  /** `Host` header value for this upstream (host[:port] as written in the URL). */
  readonly hostHeader: string;
  /**
   * Stable identity (the normalised URL, query included) for hashing, breakers and drains. It
   * may carry a secret (`?key=…`): never show it outside the admin API, which masks it.
   */
  readonly key: string;
  /**
   * Scheme, host, port and path only: what health, stats, metrics labels, logs, traces and the
   * dashboards show.
   */
  readonly label: string;
  readonly hashSeed: number;

  inFlight = 0;
  /** Active health: written by `UpstreamHealthCheckService` (probe thresholds); read on every pick. */
  healthy = true;
  /** Passive health: written by `OutlierDetector` while the upstream is ejected. */
  ejected = false;
  /** Admin drain: no new requests are picked for it; requests in flight finish. */
  draining = false;
  /** Set by the resilience module: this upstream's circuit breaker. */
  breaker: UpstreamBreakerHook | undefined = undefined;
  /**
   * Statuses of this upstream that count as failures on this route: the default list plus the
   * route's and the upstream's own `failure_statuses`. Set when the route is compiled.
   */
  failureStatuses: FailureStatuses = failureStatusSet(DEFAULT_FAILURE_STATUSES);
  /**
   * The upstreams of the same route (this one included), set by `UpstreamGroup`. The outlier
   * detector's "never eject more than half a pool" cap is computed over it.
   */
  peers: readonly Upstream[] = [this];
  /** The pool's recent answers, shared by its upstreams (set by `UpstreamGroup`). */
  activity = new PoolActivity();

  /** Oldest and newest attempt waiting for a response head here. */
  waitHead: WaitingAttempt | undefined = undefined;
  private waitTail: WaitingAttempt | undefined = undefined;
  /** performance.now() of the last response head from this upstream (0: none yet). */
  lastAnswerAt = 0;
  /** Set by the stall detector when it acted, so one quiet period is handled once. */
  stallHandledAt = 0;

  constructor(
    url: string,
    readonly weight: number,
    readonly dispatcher: Dispatcher,
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname === '/' && !url.endsWith('/') ? '' : parsed.pathname;
    this.baseQuery = parsed.search.length > 1 ? parsed.search.slice(1) : '';
    this.hostHeader = parsed.host;
    this.key = parsed.href;
    this.label = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    this.hashSeed = hash32(this.key);
  }

  /**
   * Eligible for new requests: probed healthy, not ejected, not drained, and its breaker (if any)
   * lets traffic through.
   */
  isAvailable(): boolean {
    return (
      this.healthy &&
      !this.ejected &&
      !this.draining &&
      (this.breaker === undefined || this.breaker.isAvailable())
    );
  }

  /**
   * Counts toward the panic threshold: available, and not merely admitting a trial after a
   * failure-rate trip (a breaker half-open since a passed probe is not a recovery yet, and
   * counting it would flip the pool out of panic and back at every probe).
   */
  countsAsUsable(): boolean {
    return (
      this.isAvailable() &&
      (this.breaker === undefined || this.breaker.state === 'closed' || !this.breaker.allowsPanic())
    );
  }

  /**
   * Eligible while its pool is in panic: probed healthy and not drained. Ejection and a breaker
   * opened by the failure rate are passive signals panic routing overrides; a breaker opened by
   * consecutive exchange failures is not overridden (the upstream is not answering at all).
   */
  isPanicCandidate(): boolean {
    return (
      this.healthy &&
      !this.draining &&
      (this.breaker === undefined || this.breaker.allowsPanic() || this.breaker.isAvailable())
    );
  }

  /** `attempt` was dispatched here and waits for its response head. */
  attemptWaiting(attempt: WaitingAttempt, now: number): void {
    attempt.waitStartedAt = now;
    attempt.waitingOn = this;
    attempt.waitNext = undefined;
    attempt.waitPrev = this.waitTail;
    if (this.waitTail === undefined) {
      this.waitHead = attempt;
    } else {
      this.waitTail.waitNext = attempt;
    }
    this.waitTail = attempt;
  }

  /** `attempt` got its response head at `now`: proof of life, and a sample for the pool. */
  attemptAnswered(attempt: WaitingAttempt, now: number): void {
    if (attempt.waitingOn !== this) {
      return;
    }
    this.lastAnswerAt = now;
    this.activity.answered(attempt.waitStartedAt, now);
    this.unlink(attempt);
  }

  /** `attempt` ended without an answer (error, abort): it no longer waits here. */
  attemptSettled(attempt: WaitingAttempt): void {
    if (attempt.waitingOn === this) {
      this.unlink(attempt);
    }
  }

  private unlink(attempt: WaitingAttempt): void {
    const { waitPrev, waitNext } = attempt;
    if (waitPrev === undefined) {
      this.waitHead = waitNext;
    } else {
      waitPrev.waitNext = waitNext;
    }
    if (waitNext === undefined) {
      this.waitTail = waitPrev;
    } else {
      waitNext.waitPrev = waitPrev;
    }
    attempt.waitPrev = undefined;
    attempt.waitNext = undefined;
    attempt.waitingOn = undefined;
  }
}

/** FNV-1a, 32-bit: cheap, allocation-free, good enough to spread keys for rendezvous hashing. */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
