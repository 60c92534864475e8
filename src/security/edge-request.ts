import type { IncomingMessage } from 'node:http';
import type { GatewayRejection } from '../common/errors/gateway-rejection';
import type { CompiledRoute } from '../routing/compiled-route';

/**
 * What the edge checks read and write for one request. The proxy's per-request exchange
 * implements it; the security module depends on this shape, not on the proxy.
 */
export interface EdgeRequest {
  readonly req: IncomingMessage;
  readonly clientIp: string;
  readonly path: string;
  readonly route: CompiledRoute | undefined;
  routeRejection: GatewayRejection | undefined;
  /** Who authenticated, for the access log: the key's label or the JWT `sub`. */
  principalId: string | undefined;
  /** Who authenticated, for cache variants and rate-limit buckets (Principal.key). */
  principalKey: string | undefined;
  responseHeaders: string[] | undefined;
  /** The CORS policy judged the request's Origin: the upstream's `Access-Control-*` are dropped. */
  dropUpstreamCors: boolean;
  upstreamHeaders: Record<string, string> | undefined;
  error: string | undefined;
}

/** Appends flat header pairs to the request's response headers. */
export function addResponseHeaders(edge: EdgeRequest, headers: readonly string[]): void {
  if (headers.length === 0) {
    return;
  }
  if (edge.responseHeaders) {
    edge.responseHeaders.push(...headers);
  } else {
    edge.responseHeaders = [...headers];
  }
}
