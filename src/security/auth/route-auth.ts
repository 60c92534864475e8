import type { RouteConfig } from '../../config/gateway-config.types';
import { API_KEY_CHALLENGE, API_KEY_HEADER, BEARER_CHALLENGE } from './auth.constants';

/**
 * How a route authenticates, compiled once per route: which credentials it accepts (`auth:`,
 * both by default), what a refusal's `WWW-Authenticate` says, and which credential headers never
 * reach its upstream (`hide_credentials`). New methods (introspection, client certificates, OIDC
 * login) are new flags here, checked by `AuthService` in the order the flags are listed.
 */
export interface RouteAuth {
  /** `Authorization: Bearer <JWT>` is accepted. */
  readonly jwt: boolean;
  /** `X-API-Key` is accepted. */
  readonly apiKey: boolean;
  /** The challenge of a refusal without a bearer token. */
  readonly challenge: string;
  /** Credential headers removed before forwarding (lower-case); undefined for none. */
  readonly hidden: readonly string[] | undefined;
}

function routeAuth(jwt: boolean, apiKey: boolean, hide: boolean): RouteAuth {
  const hidden = [...(jwt ? ['authorization'] : []), ...(apiKey ? [API_KEY_HEADER] : [])];
  return Object.freeze({
    jwt,
    apiKey,
    challenge: jwt ? BEARER_CHALLENGE : API_KEY_CHALLENGE,
    hidden: hide ? Object.freeze(hidden) : undefined,
  });
}

/** Every combination, shared by all routes (a route's choice is one of these). */
const COMPILED = new Map<string, RouteAuth>();

/** Both methods, credentials forwarded: every route that says nothing about it. */
export const DEFAULT_ROUTE_AUTH = compileRouteAuth({});

export function compileRouteAuth(route: Pick<RouteConfig, 'auth' | 'hideCredentials'>): RouteAuth {
  const methods = route.auth ?? ['jwt', 'api_key'];
  const jwt = methods.includes('jwt');
  const apiKey = methods.includes('api_key');
  const hide = route.hideCredentials === true;
  const key = `${jwt}|${apiKey}|${hide}`;
  let compiled = COMPILED.get(key);
  if (compiled === undefined) {
    compiled = routeAuth(jwt, apiKey, hide);
    COMPILED.set(key, compiled);
  }
  return compiled;
}

/**
 * Removes a route's credential headers from an upstream request (`hide_credentials`, as Kong's
 * plugins do). `Authorization` goes only when it carries a bearer token: another scheme is not
 * the gateway's credential and may be meant for the upstream.
 */
export function hideCredentials(
  headers: Record<string, string | string[]>,
  hidden: readonly string[],
): void {
  for (const name of hidden) {
    const value = headers[name];
    if (value === undefined) {
      continue;
    }
    if (
      name === 'authorization' &&
      !(typeof value === 'string' && /^bearer(?:\s|$)/i.test(value))
    ) {
      continue;
    }
    delete headers[name];
  }
}
