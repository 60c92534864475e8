import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GatewayErrorCode } from '../common/errors/gateway-error';
import type { HookedExchange, ResponseHook } from '../common/http/response-hook';
import type { RouteCacheSettings } from './route-cache';

/** What the cache reads of the route a request matched. */
export interface CacheRoute {
  readonly name: string;
  /** The route timeout; also bounds how long a coalesced request waits for its leader. */
  readonly timeoutMs: number;
  /** Undefined when the route does not cache. */
  readonly cache: RouteCacheSettings | undefined;
}

/**
 * One admitted request as the cache sees it: the request, the ways to answer it, and the hook
 * through which the cache follows the upstream response. Implemented by the proxy's exchange;
 * the cache owns this contract so that it never depends on the proxy.
 */
export interface CacheExchange extends HookedExchange {
  readonly req: IncomingMessage;
  /** The matched route; always set on a request that reached the cache. */
  readonly route: CacheRoute | undefined;
  /** Canonical request path and raw query, as the cache key uses them. */
  readonly path: string;
  readonly query: string;
  /** The validated `host[:port]` the client asked for (normalizeAuthority), as keyed. */
  readonly authority: string;
  /** What `X-Forwarded-Host` says upstream: the authority, or a trusted proxy's own. */
  readonly forwardedHost: string;
  /**
   * Identity (Principal.key, never a key's label) of the principal the gateway authenticated
   * without a credential header the cache already treats as one (API key), if any.
   */
  readonly principalKey: string | undefined;
  readonly hasBody: boolean;
  /** The client is gone or the request was answered: nothing more to do for it. */
  readonly isClosed: boolean;
  /** Set by the cache to follow the upstream response (store, revalidate, compress). */
  hook: ResponseHook | undefined;
  /** Extra upstream request headers; the cache adds its conditionals when revalidating. */
  upstreamHeaders: Record<string, string> | undefined;
  /** Answers with a gateway error. */
  fail(code: GatewayErrorCode, headers?: readonly string[], message?: string): void;
}

/** What the cache needs from whoever sends requests upstream (implemented by ProxyService). */
export interface CacheHost<E extends CacheExchange = CacheExchange> {
  /**
   * Cache-key fields for request headers the upstream gets beyond the URI (forwarding headers a
   * trusted proxy or the operator lets through): `''` for none; undefined when the answer must
   * not be cached at all.
   */
  cacheKeyFields(exchange: E): string | undefined;
  /** Sends the admitted request upstream (the cache missed, or will revalidate). */
  proceed(exchange: E): void;
  /**
   * A GET to the route's upstream for a background refresh (stale-while-revalidate), with the
   * client's headers minus its own conditionals, plus `extra`. No client waits on it.
   */
  fetchInBackground(exchange: E, extra: Record<string, string>): Promise<Dispatcher.ResponseData>;
}
