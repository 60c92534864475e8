/** Prometheus metric names, shared by their providers, the recorder and `@InjectMetric()` call sites. */

/** Gauge `backend_health_status{backend}`: 1 while the upstream is usable (probed up, not ejected), else 0. */
export const BACKEND_HEALTH_STATUS = 'backend_health_status';

/** Counter `circuit_breaker_trips_total{backend}`: times an upstream's breaker opened. */
export const CIRCUIT_BREAKER_TRIPS = 'circuit_breaker_trips_total';

/** Counter `http_requests_total{method,endpoint,status}` (Go name; `endpoint` is the route name). */
export const HTTP_REQUESTS = 'http_requests_total';

/** Histogram `http_request_duration_seconds{method,endpoint}` (Go name and buckets). */
export const HTTP_REQUEST_DURATION = 'http_request_duration_seconds';

/** Gauge `active_connections`: open client connections. */
export const ACTIVE_CONNECTIONS = 'active_connections';

/** Counter `blocked_ips_total`: flood blocks triggered by this replica. */
export const BLOCKED_IPS = 'blocked_ips_total';

/** Histogram `upstream_request_duration_seconds{route,upstream}`: one attempt, start to end of response. */
export const UPSTREAM_REQUEST_DURATION = 'upstream_request_duration_seconds';

/** Counter `upstream_errors_total{route,upstream,kind}`: failed attempts by cause. */
export const UPSTREAM_ERRORS = 'upstream_errors_total';

/** Counter `upstream_panic_total{route}`: requests routed in panic (too few usable upstreams). */
export const UPSTREAM_PANIC = 'upstream_panic_total';

/** Counter `upstream_retries_total{route}`: retries started. */
export const UPSTREAM_RETRIES = 'upstream_retries_total';

/** Counter `rate_limited_total{route,policy}`: requests refused with 429 by a limit. */
export const RATE_LIMITED = 'rate_limited_total';

/** Counter `http_request_bytes_total{route}`: request body bytes sent upstream. */
export const HTTP_REQUEST_BYTES = 'http_request_bytes_total';

/** Counter `http_response_bytes_total{route}`: response body bytes sent to clients. */
export const HTTP_RESPONSE_BYTES = 'http_response_bytes_total';

/** Gauge `upstream_in_flight{upstream}`: attempts in progress per upstream. */
export const UPSTREAM_IN_FLIGHT = 'upstream_in_flight';

/** Counter `log_lines_dropped_total{destination}`: log lines dropped because stdout or the access-log file could not keep up. */
export const LOG_LINES_DROPPED = 'log_lines_dropped_total';

/** `endpoint`/`route` label of requests that matched no route (400, 404). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Route tables up to this size get every route's series at 0 from boot, so `rate()` has its
 * first sample; a larger table gets a route's series on its first request (20,000 routes would
 * be tens of thousands of idle series, in memory and in every scrape).
 */
export const EAGER_ROUTE_SERIES_MAX_ROUTES = 1000;

/**
 * Every metric name the gateway itself defines (prom-client's default process and Node.js
 * metrics come on top). The Grafana dashboard test checks its queries against the live registry.
 */
export const GATEWAY_METRIC_NAMES: readonly string[] = [
  HTTP_REQUESTS,
  HTTP_REQUEST_DURATION,
  ACTIVE_CONNECTIONS,
  BACKEND_HEALTH_STATUS,
  CIRCUIT_BREAKER_TRIPS,
  BLOCKED_IPS,
  UPSTREAM_REQUEST_DURATION,
  UPSTREAM_ERRORS,
  UPSTREAM_PANIC,
  UPSTREAM_RETRIES,
  RATE_LIMITED,
  HTTP_REQUEST_BYTES,
  HTTP_RESPONSE_BYTES,
  UPSTREAM_IN_FLIGHT,
  LOG_LINES_DROPPED,
];
