/**
 * What the gateway reports about its own traffic, for `/stats`, the `/monitor` page and the
 * terminal dashboard. Produced by `TrafficStatsService.snapshot()` from counters the proxy updates
 * as requests finish, so reading it costs microseconds and never walks request history.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface LatencySummary {
  /** Milliseconds, over the last minute; 0 when there was no traffic. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface RouteTraffic {
  name: string;
  requests: number;
  /** Responses with status >= 500 (gateway or upstream). */
  errors: number;
  latencyMs: LatencySummary;
}

export interface UpstreamTraffic {
  route: string;
  /** The upstream's origin URL as configured (no credentials). */
  url: string;
  healthy: boolean;
  ejected: boolean;
  draining: boolean;
  circuit: CircuitState;
  inFlight: number;
  requests: number;
  failures: number;
}

export interface TrafficSnapshot {
  /** ISO time of the snapshot. */
  time: string;
  uptimeSeconds: number;
  totals: {
    requests: number;
    /** status >= 500 */
    errors: number;
    /** 400 <= status < 500 */
    clientErrors: number;
    rateLimited: number;
    blockedIps: number;
    cacheHits: number;
    cacheMisses: number;
    retries: number;
    bytesIn: number;
    bytesOut: number;
  };
  /** Per-second rates averaged over the last 10 s. */
  rates: { requestsPerSecond: number; errorsPerSecond: number };
  latencyMs: LatencySummary;
  /** Open client connections and proxied requests in progress. */
  activeConnections: number;
  inFlight: number;
  routes: RouteTraffic[];
  upstreams: UpstreamTraffic[];
  /** Routes left out of `routes` (and their upstreams) when the snapshot was bounded. */
  routesOmitted?: number;
}
