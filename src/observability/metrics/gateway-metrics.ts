import {
  ACTIVE_CONNECTIONS,
  BLOCKED_IPS,
  HTTP_REQUEST_BYTES,
  HTTP_REQUEST_DURATION,
  HTTP_REQUESTS,
  HTTP_RESPONSE_BYTES,
  LOG_LINES_DROPPED,
  RATE_LIMITED,
  UPSTREAM_ERRORS,
  UPSTREAM_IN_FLIGHT,
  UPSTREAM_PANIC,
  UPSTREAM_REQUEST_DURATION,
  UPSTREAM_RETRIES,
} from '../metrics.constants';
import { CallbackFamily, CounterFamily, HistogramFamily, registerFamily } from './metric-families';

/** The Go gateway's buckets (prometheus.DefBuckets), so its dashboards' quantiles still work. */
const GO_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Upstream attempts on a LAN are often under 5 ms: finer buckets at the low end. */
const UPSTREAM_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** The proxy's metric families, one set per process (prom-client's default registry is global). */
export interface GatewayMetricFamilies {
  requests: CounterFamily;
  duration: HistogramFamily;
  requestBytes: CounterFamily;
  responseBytes: CounterFamily;
  upstreamDuration: HistogramFamily;
  upstreamErrors: CounterFamily;
  upstreamPanics: CounterFamily;
  retries: CounterFamily;
  rateLimited: CounterFamily;
  activeConnections: CallbackFamily;
  blockedIps: CallbackFamily;
  upstreamInFlight: CallbackFamily;
  logLinesDropped: CallbackFamily;
}

let families: GatewayMetricFamilies | undefined;

export function gatewayMetricFamilies(): GatewayMetricFamilies {
  families ??= {
    requests: registerFamily(
      new CounterFamily(HTTP_REQUESTS, 'Proxied requests by method, route and status.', [
        'method',
        'endpoint',
        'status',
      ]),
    ),
    duration: registerFamily(
      new HistogramFamily(
        HTTP_REQUEST_DURATION,
        'Time from request received to response complete, by method and route.',
        ['method', 'endpoint'],
        GO_DEFAULT_BUCKETS,
      ),
    ),
    requestBytes: registerFamily(
      new CounterFamily(HTTP_REQUEST_BYTES, 'Request body bytes sent upstream, by route.', [
        'route',
      ]),
    ),
    responseBytes: registerFamily(
      new CounterFamily(HTTP_RESPONSE_BYTES, 'Response body bytes sent to clients, by route.', [
        'route',
      ]),
    ),
    upstreamDuration: registerFamily(
      new HistogramFamily(
        UPSTREAM_REQUEST_DURATION,
        'One upstream attempt, from dispatch to the end of its response, by route and upstream.',
        ['route', 'upstream'],
        UPSTREAM_BUCKETS,
      ),
    ),
    upstreamErrors: registerFamily(
      new CounterFamily(
        UPSTREAM_ERRORS,
        'Failed upstream attempts by route, upstream and kind (connect, connect_timeout, timeout, reset, bad_response, stalled, 5xx, 4xx, other).',
        ['route', 'upstream', 'kind'],
      ),
    ),
    upstreamPanics: registerFamily(
      new CounterFamily(
        UPSTREAM_PANIC,
        'Requests routed in panic (too few usable upstreams: spread over every upstream probed up), by route.',
        ['route'],
      ),
    ),
    retries: registerFamily(
      new CounterFamily(UPSTREAM_RETRIES, 'Upstream retries started, by route.', ['route']),
    ),
    rateLimited: registerFamily(
      new CounterFamily(
        RATE_LIMITED,
        'Requests refused with 429, by route and limit policy (default, route, api-key, flood).',
        ['route', 'policy'],
      ),
    ),
    activeConnections: registerFamily(
      new CallbackFamily(ACTIVE_CONNECTIONS, 'Open client connections.', 'gauge', []),
    ),
    blockedIps: registerFamily(
      new CallbackFamily(
        BLOCKED_IPS,
        'Clients blocked for flooding (DDOS_THRESHOLD) by this replica.',
        'counter',
        [],
      ),
    ),
    upstreamInFlight: registerFamily(
      new CallbackFamily(UPSTREAM_IN_FLIGHT, 'Upstream attempts in progress.', 'gauge', [
        'upstream',
      ]),
    ),
    logLinesDropped: registerFamily(
      new CallbackFamily(
        LOG_LINES_DROPPED,
        'Log lines dropped because their output (stdout, or the ACCESS_LOG_FILE) could not keep up.',
        'counter',
        ['destination'],
      ),
    ),
  };
  return families;
}
