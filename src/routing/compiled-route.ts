import type { RouteCacheSettings } from '../cache/route-cache';
import type { RouteConfig } from '../config/gateway-config.types';
import type { UpstreamGroup } from '../load-balancing/upstream-group';
import type { RetryBudget } from '../resilience/retry-budget';
import type { RouteAuth } from '../security/auth/route-auth';
import type { SecurityHeaderSet } from '../security/headers/security-headers';

/** A configured route with everything the hot path needs resolved ahead of time. */
export interface CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly stripPrefix: boolean;
  readonly preserveHost: boolean;
  readonly timeoutMs: number;
  /** Per-route body limit in bytes; undefined means the gateway default (`MAX_BODY_SIZE`). */
  readonly maxBodyBytes: number | undefined;
  readonly group: UpstreamGroup;
  /** Caps retries in flight at a share of the route's active requests (Envoy's retry budget). */
  readonly retryBudget: RetryBudget;
  /** Response cache settings; undefined when this route does not cache (or caching is off). */
  readonly cache: RouteCacheSettings | undefined;
  /** Credentials the route accepts, and which never reach its upstream. */
  readonly auth: RouteAuth;
  /** Security headers proxied answers are filled in with (route choices over the defaults). */
  readonly securityHeaders: SecurityHeaderSet;
}
