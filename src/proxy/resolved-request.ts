import type { GatewayRejection } from '../common/errors/gateway-rejection';
import type { CompiledRoute } from '../routing/compiled-route';
import type { RouteMatch } from '../routing/route-matcher';

/**
 * What the gateway works out about a request before any edge check: shared by plain requests
 * (which wrap it in an UpstreamExchange) and WebSocket upgrades.
 */
export interface ResolvedRequest {
  requestId: string;
  /** Normalised socket address. */
  peer: string;
  /** The peer is in TRUSTED_PROXIES. */
  peerTrusted: boolean;
  clientIp: string;
  /** The client used TLS (ours, or a trusted proxy's `X-Forwarded-Proto: https`). */
  tls: boolean;
  /**
   * The authority the client asked for, validated and normalised (`host[:port]`, see
   * normalizeAuthority): an absolute-form target's, else the Host header's. `''` for an HTTP/1.0
   * request without Host, or when the request was refused for its authority.
   */
  authority: string;
  /**
   * What `X-Forwarded-Host` says upstream: the authority, or a trusted proxy's own
   * `X-Forwarded-Host` (validated and normalised the same way). Part of the cache key.
   */
  forwardedHost: string;
  rawPath: string;
  query: string;
  /** Canonical path; `''` when the raw path was rejected. */
  path: string;
  match: RouteMatch<CompiledRoute> | undefined;
  /** Why the request cannot be routed (400/404); thrown after the IP checks. */
  routeRejection: GatewayRejection | undefined;
}
