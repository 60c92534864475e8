import { z } from 'zod';
import { parseFailureStatuses } from '../env-parsers';
import { area, duration, integer, setting } from './setting';

export const RESILIENCE = area({
  section: 'resilience',
  title: 'Resilience',
  settings: {
    circuitBreakerMax: integer({
      env: 'CIRCUIT_BREAKER_MAX',
      key: 'circuit_breaker_max',
      description:
        'Consecutive exchange failures (connect error or timeout, reset, response timeout, malformed response) that open an upstream circuit breaker.',
      min: 1,
      default: 5,
    }),
    circuitBreakerFailureRate: integer({
      env: 'CIRCUIT_BREAKER_FAILURE_RATE',
      key: 'circuit_breaker_failure_rate',
      description:
        'Failures (failure statuses and exchange failures) as a percentage of the calls in the rolling window that open a breaker; 0 turns the rate rule off.',
      min: 0,
      max: 100,
      default: 50,
    }),
    circuitBreakerMinRequests: integer({
      env: 'CIRCUIT_BREAKER_MIN_REQUESTS',
      key: 'circuit_breaker_min_requests',
      description: 'Calls the rolling window must hold before its failure rate can open a breaker.',
      min: 1,
      default: 20,
    }),
    circuitBreakerWindowMs: duration({
      env: 'CIRCUIT_BREAKER_WINDOW',
      key: 'circuit_breaker_window',
      description: 'Length of the rolling window the failure rate is measured over.',
      default: '10s',
    }),
    failureStatuses: setting<number[]>({
      env: 'CIRCUIT_BREAKER_FAILURE_STATUSES',
      key: 'circuit_breaker_failure_statuses',
      description:
        'Upstream statuses counted as failures on every route (breaker, ejection, upstream_errors_total); routes and upstreams may add more with failure_statuses. `none` (an empty list in the file) counts exchange failures only.',
      type: 'list of statuses 400-599, or none',
      schema: z.array(
        z
          .int()
          .min(400, { error: 'expected an HTTP status 400-599' })
          .max(599, { error: 'expected an HTTP status 400-599' }),
      ),
      parse: (raw) => parseFailureStatuses(raw, { allowNone: true }),
      default: [502, 503, 504],
      shownDefault: [502, 503, 504],
      // An empty list is a choice (count exchange failures only), not an unset setting.
      fileText: (value) =>
        Array.isArray(value) && value.length === 0 ? 'none' : (value as number[]).join(','),
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
