import { type Clock, monotonicClock } from '../common/clock';
import type { ExchangeOutcome } from './classify-outcome';
import { RollingWindow } from './rolling-window';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Why the breaker last opened:
 * - `consecutive`: `maxFailures` exchange failures in a row (connect error, timeout, reset): the
 *   upstream does not answer HTTP at all. Panic routing does not override this.
 * - `rate`: the failure rate over the rolling window (failure statuses included). Panic routing
 *   may still send traffic when a pool would otherwise have nothing usable.
 */
export type TripCause = 'consecutive' | 'rate';

export interface CircuitBreakerOptions {
  /** `CIRCUIT_BREAKER_MAX`: consecutive exchange failures that open the breaker (integer ≥ 1). @default 5 */
  maxFailures?: number;
  /** `CIRCUIT_BREAKER_TIMEOUT`: how long the breaker stays open before a trial (ms ≥ 0). @default 30000 */
  openMs?: number;
  /**
   * `CIRCUIT_BREAKER_FAILURE_RATE`: failures (failure statuses and exchange failures) as a
   * percentage of the calls in the window at which the breaker opens; 0 turns the rate off.
   * @default 50
   */
  failureRatePercent?: number;
  /** `CIRCUIT_BREAKER_MIN_REQUESTS`: calls the window must hold before the rate is judged. @default 20 */
  minRequests?: number;
  /** `CIRCUIT_BREAKER_WINDOW`: length of the rolling window (ms > 0). @default 10000 */
  windowMs?: number;
  /** Time source for the timers and the window; only differences are used. @default monotonicClock */
  clock?: Clock;
  /** Called synchronously on every transition, for metrics and logs. Must not throw. */
  onStateChange?: (from: CircuitState, to: CircuitState, cause: TripCause | undefined) => void;
}

/**
 * One upstream's circuit breaker. Closed, it opens when either
 * - the failure rate over a rolling window (Hystrix's `errorThresholdPercentage` over
 *   `requestVolumeThreshold` calls, resilience4j's time-based sliding window) reaches
 *   `failureRatePercent` with at least `minRequests` calls in the window: an upstream that answers
 *   one request in five with 503 keeps serving the other four; or
 * - `maxFailures` exchange failures come in a row (the Go gateway's `CIRCUIT_BREAKER_MAX`): an
 *   upstream that refuses every connection is cut off at once, whatever the traffic.
 * Open, it refuses requests for `openMs`, then turns half-open and admits exactly one trial; its
 * success closes the breaker, its failure opens it again with a fresh timer. A passed active
 * health probe (`onProbeSuccess`) ends the open period at once, so a restarted upstream is tried
 * again within one probe interval (Envoy's `successful_active_health_check_uneject_host`).
 *
 * Why a hand-written state machine rather than cockatiel or opossum: both wrap the call
 * (`execute(fn)` / `fire()`), allocating a promise and closures per request, while our exchange
 * is a callback-driven undici handler whose outcome is only known when the response ends. Here
 * the proxy asks `tryAcquire()` before dispatching and reports the outcome later: a few field
 * writes, no allocation, no lock. Nothing is held while the exchange runs, which is exactly what
 * the Go gateway got wrong (seed-spec D1: its mutex was held for the whole exchange, D2: one
 * breaker for every upstream, half-open admitting everything).
 *
 * The breaker does not know which request holds the half-open trial (permits are plain
 * booleans, to stay allocation-free). So outcomes from requests admitted while it was still
 * closed (or sent by panic routing), that end after it opened:
 * - while open: are ignored (the breaker has already decided; they must not extend the timer);
 * - while half-open: count as the trial's result (a success proves the upstream answers, a
 *   failure proves it does not), and a late neutral outcome frees the trial slot early. The
 *   worst case is one extra trial request, never a flood.
 *
 * Integration contract: every granted permit must be settled exactly once with `record`; a lost
 * settlement would leave a half-open breaker waiting for its trial until the next passed probe
 * (the route timeout bounds how long a real trial can take).
 */
export class CircuitBreaker {
  readonly maxFailures: number;
  readonly openMs: number;
  readonly failureRatePercent: number;
  readonly minRequests: number;
  /** Times the breaker opened, including re-opens after a failed trial (`circuit_breaker_trips_total`). */
  trips = 0;

  private current: CircuitState = 'closed';
  private cause: TripCause | undefined;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialOut = false;
  private readonly window: RollingWindow;
  private readonly clock: Clock;
  private readonly onStateChange:
    ((from: CircuitState, to: CircuitState, cause: TripCause | undefined) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    const {
      maxFailures = 5,
      openMs = 30_000,
      failureRatePercent = 50,
      minRequests = 20,
      windowMs = 10_000,
    } = options;
    if (!Number.isInteger(maxFailures) || maxFailures < 1) {
      throw new RangeError(`maxFailures must be an integer >= 1, got ${maxFailures}`);
    }
    if (!Number.isFinite(openMs) || openMs < 0) {
      throw new RangeError(`openMs must be a finite number >= 0, got ${openMs}`);
    }
    if (
      !Number.isFinite(failureRatePercent) ||
      failureRatePercent < 0 ||
      failureRatePercent > 100
    ) {
      throw new RangeError(`failureRatePercent must be within 0-100, got ${failureRatePercent}`);
    }
    if (!Number.isInteger(minRequests) || minRequests < 1) {
      throw new RangeError(`minRequests must be an integer >= 1, got ${minRequests}`);
    }
    this.maxFailures = maxFailures;
    this.openMs = openMs;
    this.failureRatePercent = failureRatePercent;
    this.minRequests = minRequests;
    this.window = new RollingWindow(windowMs);
    this.clock = options.clock ?? monotonicClock;
    this.onStateChange = options.onStateChange;
  }

  /**
   * The state as last decided. An open breaker whose timer has elapsed still reads `open` until
   * the next `tryAcquire` moves it to half-open: reading must never consume the trial.
   */
  get state(): CircuitState {
    return this.current;
  }

  /** Why it last opened; undefined while closed. */
  get tripCause(): TripCause | undefined {
    return this.current === 'closed' ? undefined : this.cause;
  }

  /** The current streak of exchange failures (kept while open, cleared when the breaker closes), for `/health`. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /**
   * Asks to send one request. Closed: always granted. Open: refused until `openMs` has elapsed,
   * then the breaker turns half-open and this call gets the single trial. Half-open: refused
   * while the trial is out. A granted permit must be settled (see the class comment).
   */
  tryAcquire(now: number = this.clock()): boolean {
    switch (this.current) {
      case 'closed':
        return true;
      case 'open':
        if (now - this.openedAt < this.openMs) {
          return false;
        }
        this.transition('half-open');
        this.trialOut = true;
        return true;
      case 'half-open':
        if (this.trialOut) {
          return false;
        }
        this.trialOut = true;
        return true;
    }
  }

  /**
   * Whether `tryAcquire` would grant a permit now, without changing anything. Balancers use it to
   * skip open breakers while choosing, then call `tryAcquire` on the one they chose.
   */
  isAvailable(now: number = this.clock()): boolean {
    switch (this.current) {
      case 'closed':
        return true;
      case 'open':
        return now - this.openedAt >= this.openMs;
      case 'half-open':
        return !this.trialOut;
    }
  }

  /**
   * Whether panic routing may send traffic here although the breaker refuses it: yes unless it
   * opened on consecutive exchange failures (the upstream does not answer at all, so sending
   * would only turn a fast 503 into a slow 502/504).
   */
  allowsPanic(): boolean {
    return this.current === 'closed' || this.cause !== 'consecutive';
  }

  /** Settles one attempt (see `classifyOutcome`). */
  record(outcome: ExchangeOutcome, now: number = this.clock()): void {
    switch (outcome) {
      case 'success':
        this.onSuccess(now);
        return;
      case 'failed-status':
        this.onFailure('rate', now);
        return;
      case 'failed-exchange':
        this.onFailure('consecutive', now);
        return;
      case 'neutral':
        // Neither resets nor extends anything (seed-spec D3); frees a half-open trial slot.
        if (this.current === 'half-open') {
          this.trialOut = false;
        }
        return;
    }
  }

  /**
   * An active health probe passed: an open breaker turns half-open at once, so the next request
   * tries the upstream instead of waiting out `openMs`. A breaker already half-open or closed is
   * left alone (the probe says the port answers, live traffic says more).
   */
  onProbeSuccess(): void {
    if (this.current === 'open') {
      this.trialOut = false;
      this.transition('half-open');
    }
  }

  /** Admin override: closes the breaker and forgets the streak and the window. `trips` stays. */
  reset(): void {
    this.consecutiveFailures = 0;
    this.trialOut = false;
    this.window.reset();
    if (this.current !== 'closed') {
      this.transition('closed');
    }
  }

  private onSuccess(now: number): void {
    switch (this.current) {
      case 'closed':
        this.consecutiveFailures = 0;
        this.window.record(false, now);
        return;
      case 'open':
        // A straggler admitted before the breaker opened: the open timer alone decides.
        return;
      case 'half-open':
        this.trialOut = false;
        this.consecutiveFailures = 0;
        this.window.reset();
        this.transition('closed');
        return;
    }
  }

  /**
   * `kind` says which rule the failure feeds: every failure counts in the rate; only exchange
   * failures (`consecutive`) extend the streak, and an answered failure status ends it (the
   * exchange itself worked).
   */
  private onFailure(kind: TripCause, now: number): void {
    switch (this.current) {
      case 'closed': {
        this.consecutiveFailures = kind === 'consecutive' ? this.consecutiveFailures + 1 : 0;
        this.window.record(true, now);
        if (this.consecutiveFailures >= this.maxFailures) {
          this.open('consecutive', now);
        } else if (this.rateExceeded(now)) {
          this.open('rate', now);
        }
        return;
      }
      case 'open':
        // Already open: a straggler's failure must not keep pushing the trial further away.
        return;
      case 'half-open':
        this.trialOut = false;
        this.open(kind, now);
        return;
    }
  }

  private rateExceeded(now: number): boolean {
    if (this.failureRatePercent === 0) {
      return false;
    }
    const total = this.window.total(now);
    return (
      total >= this.minRequests && this.window.failed(now) * 100 >= this.failureRatePercent * total
    );
  }

  private open(cause: TripCause, now: number): void {
    this.openedAt = now;
    this.cause = cause;
    this.trips++;
    this.window.reset();
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.onStateChange?.(from, to, to === 'closed' ? undefined : this.cause);
  }
}
