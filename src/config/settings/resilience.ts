import { area, duration, integer } from './setting';

export const RESILIENCE = area({
  section: 'resilience',
  title: 'Resilience',
  settings: {
    circuitBreakerMax: integer({
      env: 'CIRCUIT_BREAKER_MAX',
      key: 'circuit_breaker_max',
      description: 'Consecutive failures that open an upstream circuit breaker.',
      min: 1,
      default: 5,
    }),
    circuitBreakerTimeoutMs: duration({
      env: 'CIRCUIT_BREAKER_TIMEOUT',
      key: 'circuit_breaker_timeout',
      description: 'Delay before an open breaker lets a trial request through.',
      default: '30s',
    }),
    retryAttempts: integer({
      env: 'RETRY_ATTEMPTS',
      key: 'retry_attempts',
      description: 'Tries per request in all, the first one included; 1 disables retries.',
      min: 1,
      default: 3,
    }),
    retryBudgetPercent: integer({
      env: 'RETRY_BUDGET_PERCENT',
      key: 'retry_budget_percent',
      description:
        "Retries in flight on a route, as a percentage of the route's active requests (at least 3 are always allowed).",
      min: 0,
      max: 100,
      default: 20,
    }),
    retryBaseDelayMs: duration({
      env: 'RETRY_BACKOFF',
      key: 'retry_backoff',
      description: 'Ceiling of the first retry wait (full jitter), doubled per retry up to 2s.',
      default: '100ms',
    }),
    retryAfterCapMs: duration({
      env: 'RETRY_AFTER_CAP',
      key: 'retry_after_cap',
      description: 'Longest upstream Retry-After waited before retrying.',
      default: '5s',
    }),
  },
});
