import type { Dispatcher } from 'undici';

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
  /** Written by the health checker; read on every pick. */
  healthy = true;

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

  /** Eligible for new requests (health now; breakers and ejection join here later). */
  isAvailable(): boolean {
    return this.healthy;
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
