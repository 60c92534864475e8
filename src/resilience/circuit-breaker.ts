import { type Clock, monotonicClock } from '../common/clock';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** `CIRCUIT_BREAKER_MAX`: consecutive failures that open the breaker (integer ≥ 1). @default 5 */
  maxFailures?: number;
  /** `CIRCUIT_BREAKER_TIMEOUT`: how long the breaker stays open before a trial (ms ≥ 0). @default 30000 */
  openMs?: number;
  /** Time source for the open timer; only differences are used. @default monotonicClock */
  clock?: Clock;
  /** Called synchronously on every transition, for metrics and logs. Must not throw. */
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
}

/**
 * One upstream's circuit breaker: closed → open after `maxFailures` consecutive failures →
 * half-open once `openMs` has elapsed → exactly one trial request; its success closes the
 * breaker, its failure opens it again with a fresh timer.
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
 * closed, that end after it opened:
 * - while open: are ignored (the breaker has already decided; they must not extend the timer);
 * - while half-open: count as the trial's result (a success proves the upstream answers, a
 *   failure proves it does not), and a late `onNeutral` frees the trial slot early. The worst
 *   case is one extra trial request, never a flood.
 *
 * Integration contract: every granted permit must be settled exactly once with `onSuccess`,
 * `onFailure` or `onNeutral`; a lost settlement would leave a half-open breaker waiting for its
 * trial forever (the route timeout bounds how long a real trial can take).
 */
export class CircuitBreaker {
  readonly maxFailures: number;
  readonly openMs: number;
  /** Times the breaker opened, including re-opens after a failed trial (`circuit_breaker_trips_total`). */
  trips = 0;

  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialOut = false;
  private readonly clock: Clock;
  private readonly onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    const { maxFailures = 5, openMs = 30_000 } = options;
    if (!Number.isInteger(maxFailures) || maxFailures < 1) {
      throw new RangeError(`maxFailures must be an integer >= 1, got ${maxFailures}`);
    }
    if (!Number.isFinite(openMs) || openMs < 0) {
      throw new RangeError(`openMs must be a finite number >= 0, got ${openMs}`);
    }
    this.maxFailures = maxFailures;
    this.openMs = openMs;
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

  /** The current failure streak (kept while open, cleared when the breaker closes), for `/health`. */
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

  /** The upstream answered acceptably: the failure streak ends; a half-open breaker closes. */
  onSuccess(): void {
    switch (this.current) {
      case 'closed':
        this.consecutiveFailures = 0;
        return;
      case 'open':
        // A straggler admitted before the breaker opened: the open timer alone decides.
        return;
      case 'half-open':
        this.trialOut = false;
        this.consecutiveFailures = 0;
        this.transition('closed');
        return;
    }
  }

  /**
   * The upstream failed (connect error, reset, timeout, 5xx). The `maxFailures`-th consecutive
   * failure opens a closed breaker; any failure re-opens a half-open one and restarts the timer.
   */
  onFailure(now: number = this.clock()): void {
    switch (this.current) {
      case 'closed':
        this.consecutiveFailures++;
        if (this.consecutiveFailures >= this.maxFailures) {
          this.open(now);
        }
        return;
      case 'open':
        // Already open: a straggler's failure must not keep pushing the trial further away.
        return;
      case 'half-open':
        this.trialOut = false;
        this.open(now);
        return;
    }
  }

  /**
   * The exchange ended without saying anything about the upstream (the client went away, the
   * gateway itself aborted it): neither resets nor extends the failure streak (seed-spec D3), and
   * hands a half-open trial slot to the next request.
   */
  onNeutral(): void {
    if (this.current === 'half-open') {
      this.trialOut = false;
    }
  }

  /** Admin override: closes the breaker and forgets the streak. `trips` is a counter and stays. */
  reset(): void {
    this.consecutiveFailures = 0;
    this.trialOut = false;
    if (this.current !== 'closed') {
      this.transition('closed');
    }
  }

  private open(now: number): void {
    this.openedAt = now;
    this.trips++;
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.onStateChange?.(from, to);
  }
}
