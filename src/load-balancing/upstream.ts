import type { Dispatcher } from 'undici';

/** Circuit states shown in `/health` (`circuit_state`) and summarised as `circuit_breaker`. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * What `Upstream.isAvailable()` asks a per-upstream circuit breaker. `isAvailable()` runs on
 * every pick, for every candidate, so it must be cheap and free of side effects (do not claim the
 * half-open trial slot here; claim it when the request is actually sent).
 */
export interface UpstreamBreakerHook {
  isAvailable(): boolean;
  readonly state: CircuitState;
}

/**
 * One upstream target of a route, parsed once at boot. Mutable counters live here so the
 * balancer, health checks and metrics read one object instead of looking things up per request.
 */
export class Upstream {
  readonly origin: string;
  /** Path part of the target URL (`''` when none), joined in front of forwarded paths. */
  readonly basePath: string;
  /** Query part of the target URL without `?`, merged before the client's query. */
  readonly baseQuery: string;
  /** `Host` header value for this upstream (host[:port] as written in the URL). */
  readonly hostHeader: string;
  /** Stable identity (normalised URL) for hashing, logs and metrics labels. */
  readonly key: string;
  readonly hashSeed: number;

  inFlight = 0;
  /** Active health: written by `UpstreamHealthCheckService` (probe thresholds); read on every pick. */
  healthy = true;
  /** Passive health: written by `OutlierDetector` while the upstream is ejected. */
  ejected = false;
  /** Admin drain: no new requests are picked for it; requests in flight finish. */
  draining = false;
  /** Set by the resilience module: this upstream's circuit breaker. */
  breaker: UpstreamBreakerHook | undefined = undefined;
  /**
   * The upstreams of the same route (this one included), set by `UpstreamGroup`. The outlier
   * detector's "never eject more than half a pool" cap is computed over it.
   */
  peers: readonly Upstream[] = [this];

  constructor(
    url: string,
    readonly weight: number,
    readonly dispatcher: Dispatcher,
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname === '/' && !url.endsWith('/') ? '' : parsed.pathname;
    this.baseQuery = parsed.search.length > 1 ? parsed.search.slice(1) : '';
    this.hostHeader = parsed.host;
    this.key = parsed.href;
    this.hashSeed = hash32(this.key);
  }

  /**
   * Eligible for new requests: probed healthy, not ejected, not drained, and its breaker (if any)
   * lets traffic through.
   */
  isAvailable(): boolean {
    return (
      this.healthy &&
      !this.ejected &&
      !this.draining &&
      (this.breaker === undefined || this.breaker.isAvailable())
    );
  }
}

/** FNV-1a, 32-bit: cheap, allocation-free, good enough to spread keys for rendezvous hashing. */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
