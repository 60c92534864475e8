import type { CircuitState, Upstream } from '../load-balancing/upstream';
import type { CompiledRoute } from '../routing/compiled-route';

export interface BackendReport {
  url: string;
  /** Active health (probes). */
  alive: boolean;
  /** Requests in flight. */
  connections: number;
  weight: number;
  /** Passive health: ejected after consecutive live-traffic failures. */
  ejected: boolean;
  /** Drained by an operator (admin API): no new requests, in-flight ones finish. */
  draining: boolean;
  /** Present once the upstream has a circuit breaker. */
  circuit_state?: CircuitState;
}

export interface HealthReport {
  /**
   * `healthy` when every route has a usable upstream, `degraded` when some route has none,
   * `shutting_down` once shutdown has started (then answered with 503).
   */
  status: 'healthy' | 'degraded' | 'shutting_down';
  timestamp: string;
  version: string;
  /** Worst breaker state over all upstreams (`closed` without breakers), as the Go gateway's single value. */
  circuit_breaker: CircuitState;
  routes: {
    name: string;
    host: string;
    prefix: string;
    strip_prefix: boolean;
    require_auth: boolean;
    backends: BackendReport[];
  }[];
  /** The Go gateway's flat list, one entry per distinct upstream URL. */
  backends: BackendReport[];
}

const SEVERITY: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The `GET /health` body, in the Go gateway's shape plus `name`, `host`, `ejected` and
 * `circuit_state`. Built only from in-memory state: it never waits on proxied traffic (D1).
 */
export function buildHealthReport(
  routes: readonly CompiledRoute[],
  version: string,
  shuttingDown = false,
  now = new Date(),
): HealthReport {
  let circuit: CircuitState = 'closed';
  let degraded = false;
  const flat = new Map<string, BackendReport>();
  const routeReports = routes.map((r) => {
    const backends = r.group.upstreams.map((u) => {
      const report = backendReport(u);
      if (report.circuit_state && SEVERITY[report.circuit_state] > SEVERITY[circuit]) {
        circuit = report.circuit_state;
      }
      if (!flat.has(report.url)) {
        flat.set(report.url, report);
      }
      return report;
    });
    if (!r.group.upstreams.some((u) => u.isAvailable())) {
      degraded = true;
    }
    return {
      name: r.name,
      host: r.config.host || '*',
      prefix: r.config.prefix,
      strip_prefix: r.stripPrefix,
      require_auth: r.config.requireAuth,
      backends,
    };
  });
  return {
    status: shuttingDown ? 'shutting_down' : degraded ? 'degraded' : 'healthy',
    timestamp: now.toISOString(),
    version,
    circuit_breaker: circuit,
    routes: routeReports,
    backends: [...flat.values()],
  };
}

function backendReport(u: Upstream): BackendReport {
  const report: BackendReport = {
    url: u.label,
    alive: u.healthy,
    connections: u.inFlight,
    weight: u.weight,
    ejected: u.ejected,
    draining: u.draining,
  };
  if (u.breaker) {
    report.circuit_state = u.breaker.state;
  }
  return report;
}
