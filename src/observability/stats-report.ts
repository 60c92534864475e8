import type { GatewayConfig } from '../config/gateway-config.types';
import type { CompiledRoute } from '../routing/compiled-route';
import type { CircuitState, TrafficSnapshot } from './traffic-stats.types';

const SEVERITY: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The `GET /stats` body: the Go gateway's fields (`caching_enabled`, `circuit_breaker_state`,
 * `compression_enabled`, `load_balancing_algo`, `routes_count`) plus `circuit_breakers` (state per
 * upstream URL) and the traffic snapshot, all in the Go gateway's snake_case with sorted keys,
 * as its `encoding/json` map output had them.
 */
export function buildStatsReport(
  config: GatewayConfig,
  routes: readonly CompiledRoute[],
  snapshot: TrafficSnapshot,
  version: string,
): Record<string, unknown> {
  let worst: CircuitState = 'closed';
  const breakers: Record<string, CircuitState> = {};
  for (const u of snapshot.upstreams) {
    const prior = breakers[u.url];
    if (prior === undefined || SEVERITY[u.circuit] > SEVERITY[prior]) {
      breakers[u.url] = u.circuit;
    }
    if (SEVERITY[u.circuit] > SEVERITY[worst]) {
      worst = u.circuit;
    }
  }
  const { time, ...traffic } = snapshot;
  return goJson({
    ...traffic,
    timestamp: time,
    version,
    cachingEnabled: config.cache.enabled,
    compressionEnabled: config.cache.compression,
    loadBalancingAlgo: config.loadBalancing.algorithm,
    routesCount: routes.length,
    circuitBreakerState: worst,
    circuitBreakers: breakers,
  }) as Record<string, unknown>;
}

/** camelCase keys to snake_case, keys sorted at every level (upstream URLs are left as they are). */
function goJson(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => goJson(v));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => [keepKeys ? k : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v, k] as const,
  );
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, v, original] of entries) {
    out[k] = goJson(v, original === 'circuitBreakers');
  }
  return out;
}
