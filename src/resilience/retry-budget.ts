export interface RetryBudgetOptions {
  /** `RETRY_BUDGET_PERCENT`: retries in flight allowed, as a percentage of active requests (0–100). @default 20 */
  budgetPercent?: number;
  /**
   * Retries always allowed in flight, whatever the traffic (Envoy's `min_retry_concurrency`), so a
   * quiet route can still fail over. @default 3
   */
  minRetryConcurrency?: number;
}

/**
 * Envoy's retry budget, per route: retries in flight may be at most `budgetPercent` of the
 * route's active requests, but never fewer than `minRetryConcurrency`. Unlike a fixed retry
 * count, a budget scales with traffic and stops retries from multiplying an outage into a storm:
 * when every upstream fails, at most 20% extra load is sent instead of RETRY_ATTEMPTS times it.
 *
 * Plain counters, synchronous, no allocation: Node runs one request callback at a time, so no
 * lock is needed.
 *
 * Usage: `requestStarted()` when a client request is admitted and `requestFinished()` when it
 * ends (once, however many attempts it made); before each retry, `tryAcquireRetry()` — taken
 * before the backoff wait, so waiting retries count — and `retryFinished()` when that retry
 * attempt ends or the client leaves during the wait.
 */
export class RetryBudget {
  readonly budgetPercent: number;
  readonly minRetryConcurrency: number;

  private activeRequests = 0;
  private retries = 0;

  constructor(options: RetryBudgetOptions = {}) {
    const { budgetPercent = 20, minRetryConcurrency = 3 } = options;
    if (!Number.isFinite(budgetPercent) || budgetPercent < 0 || budgetPercent > 100) {
      throw new RangeError(`budgetPercent must be between 0 and 100, got ${budgetPercent}`);
    }
    if (!Number.isInteger(minRetryConcurrency) || minRetryConcurrency < 0) {
      throw new RangeError(
        `minRetryConcurrency must be an integer >= 0, got ${minRetryConcurrency}`,
      );
    }
    this.budgetPercent = budgetPercent;
    this.minRetryConcurrency = minRetryConcurrency;
  }

  /** Client requests in progress on the route (each counted once, retries or not). */
  get active(): number {
    return this.activeRequests;
  }

  get retriesInFlight(): number {
    return this.retries;
  }

  /** Retries allowed in flight right now. */
  get limit(): number {
    // Floor: "at most 20%" — 12 active requests allow 2 retries, not 3.
    const share = Math.floor((this.activeRequests * this.budgetPercent) / 100);
    return Math.max(this.minRetryConcurrency, share);
  }

  requestStarted(): void {
    this.activeRequests++;
  }

  requestFinished(): void {
    // Clamped so a double release cannot shrink the budget for the life of the process.
    if (this.activeRequests > 0) {
      this.activeRequests--;
    }
  }

  /** Takes a retry permit if the budget allows one; release it with `retryFinished()`. */
  tryAcquireRetry(): boolean {
    if (this.retries >= this.limit) {
      return false;
    }
    this.retries++;
    return true;
  }

  retryFinished(): void {
    if (this.retries > 0) {
      this.retries--;
    }
  }
}
