import { RetryBudget } from './retry-budget';

function withActive(budget: RetryBudget, requests: number): RetryBudget {
  for (let i = 0; i < requests; i++) {
    budget.requestStarted();
  }
  return budget;
}

function acquireAll(budget: RetryBudget): number {
  let granted = 0;
  while (budget.tryAcquireRetry()) {
    granted++;
  }
  return granted;
}

describe('RetryBudget', () => {
  it('should allow 20% of 10 active requests, i.e. 2 retries, without a floor', () => {
    const budget = withActive(new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 0 }), 10);

    expect(acquireAll(budget)).toBe(2);
    expect(budget.retriesInFlight).toBe(2);
  });

  it('should allow 20% of 100 active requests with the defaults', () => {
    const budget = withActive(new RetryBudget(), 100);

    expect(acquireAll(budget)).toBe(20);
  });

  it('should still allow the floor of 3 retries at low traffic', () => {
    expect(acquireAll(withActive(new RetryBudget(), 0))).toBe(3);
    expect(acquireAll(withActive(new RetryBudget(), 1))).toBe(3);
    // 20% of 10 is 2, below the floor.
    expect(acquireAll(withActive(new RetryBudget(), 10))).toBe(3);
  });

  it('should round the share down: at most 20%, never more', () => {
    const budget = withActive(new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 0 }), 14);

    expect(budget.limit).toBe(2);
  });

  it('should hand a permit back when a retry finishes', () => {
    const budget = withActive(new RetryBudget({ minRetryConcurrency: 0 }), 10);
    acquireAll(budget);

    budget.retryFinished();

    expect(budget.retriesInFlight).toBe(1);
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
  });

  it('should shrink the budget as requests finish', () => {
    const budget = withActive(new RetryBudget({ minRetryConcurrency: 0 }), 10);
    expect(budget.tryAcquireRetry()).toBe(true);

    for (let i = 0; i < 5; i++) {
      budget.requestFinished();
    }

    expect(budget.active).toBe(5);
    expect(budget.limit).toBe(1);
    expect(budget.tryAcquireRetry()).toBe(false);
  });

  it('should allow only the floor with a 0% budget', () => {
    const budget = withActive(new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 3 }), 1_000);

    expect(acquireAll(budget)).toBe(3);
  });

  it('should allow one retry per request with a 100% budget', () => {
    const budget = withActive(new RetryBudget({ budgetPercent: 100, minRetryConcurrency: 0 }), 7);

    expect(acquireAll(budget)).toBe(7);
  });

  it('should never let counters go negative on a double release', () => {
    const budget = new RetryBudget();

    budget.requestFinished();
    budget.retryFinished();

    expect(budget.active).toBe(0);
    expect(budget.retriesInFlight).toBe(0);
  });

  it.each([
    [{ budgetPercent: -1 }, /budgetPercent/],
    [{ budgetPercent: 101 }, /budgetPercent/],
    [{ budgetPercent: Number.NaN }, /budgetPercent/],
    [{ minRetryConcurrency: -1 }, /minRetryConcurrency/],
    [{ minRetryConcurrency: 1.5 }, /minRetryConcurrency/],
  ])('should reject invalid options %j', (options, message) => {
    expect(() => new RetryBudget(options)).toThrow(message);
  });
});
