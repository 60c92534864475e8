import type { IncomingMessage } from 'node:http';
import { normalizeAuthority } from '../common/http/normalize-host';
import { negotiateEncoding } from '../compression/compression';
import { VARIANT_SEPARATOR } from './memory-store';
import { normaliseSelecting, selectLanguage } from './vary';

/**
 * Marks an Accept-Language key part that names the stored Content-Language it selected, rather
 * than the request's normalised preferences.
 */
export const LANGUAGE_KEY = '\u0003lang:';

function languageKey(
  name: string,
  joined: string,
  languages: readonly string[] | undefined,
): string | undefined {
  if (name !== 'accept-language' || languages === undefined || languages.length === 0) {
    return undefined;
  }
  const selected = selectLanguage(joined, languages);
  return selected === undefined ? undefined : LANGUAGE_KEY + selected;
}

/**
 * Primary cache key (RFC 9111 §4.1): the request URI, then what else the upstream's answer
 * depends on. Method-independent: HEAD is answered from the GET entry.
 *
 * The URI is built from validated parts whose separators cannot occur inside them: the scheme,
 * the authority as normalizeAuthority returned it (no `/`, `?`, `@`, space), the canonical path
 * (no `?`) and the query as sent. A space ends it: no request target and no validated authority
 * contains one. The context follows as `<tag><length>:<value>` fields, so no value can end early
 * or run into the next: the route (`routeKeyPart`), and the forwarded host when a trusted proxy
 * named another than the authority (it is what the upstream builds its links from).
 */
export function primaryKey(
  tls: boolean,
  authority: string,
  path: string,
  query: string,
  routePart: string,
  forwardedHost: string = authority,
): string {
  const uri = `${tls ? 'https' : 'http'}://${authority}${path}${query === '' ? '' : `?${query}`}`;
  return forwardedHost === authority
    ? uri + routePart
    : `${uri}${routePart} h${forwardedHost.length}:${forwardedHost}`;
}

/** The route's field of its primary keys, built once per route. */
export function routeKeyPart(routeName: string): string {
  return ` r${routeName.length}:${routeName}`;
}

/** The URI a primary key starts with (everything before its first space). */
export function uriOf(primary: string): string {
  const space = primary.indexOf(' ');
  return space === -1 ? primary : primary.slice(0, space);
}

const ABSENT = '\u0001';

/**
 * Pseudo selecting header of entries stored for a request the gateway authenticated by API key
 * (or a JWT outside `Authorization`): like Kong's proxy-cache, each consumer gets its own
 * variant, so one consumer's answer never reaches another, while the URL (purge, invalidation)
 * still covers them all.
 */
export const PRINCIPAL_VARY = ':principal';
const PRINCIPAL = Symbol('gateway.cache-principal');
type ScopedRequest = IncomingMessage & { [PRINCIPAL]?: string };

export function scopeToPrincipal(req: IncomingMessage, principal: string): void {
  (req as ScopedRequest)[PRINCIPAL] = principal;
}

export function isPrincipalScoped(req: IncomingMessage): boolean {
  return (req as ScopedRequest)[PRINCIPAL] !== undefined;
}

/** `vary` plus the principal pseudo-header (sorted first, as `:` sorts before letters). */
export function withPrincipalVary(vary: string[]): string[] {
  return vary.includes(PRINCIPAL_VARY) ? vary : [PRINCIPAL_VARY, ...vary];
}

/**
 * Normalised request values of the headers a response varies on (RFC 9111 §4.1): each field in
 * its normal form (normaliseSelecting), and Accept-Encoding reduced to the coding the gateway
 * would pick (`identity` when none), so the hundreds of browser spellings of "gzip, br" share one
 * variant (as Varnish does).
 */
export function secondaryKey(
  vary: readonly string[],
  req: IncomingMessage,
  /** Content-Languages stored for this URL: Accept-Language picks one of them when it can. */
  languages?: readonly string[],
): string {
  const headers = req.headers;
  let key = '';
  for (let i = 0; i < vary.length; i++) {
    const name = vary[i];
    const raw = name === PRINCIPAL_VARY ? (req as ScopedRequest)[PRINCIPAL] : headers[name];
    let value: string;
    if (raw === undefined) {
      value = ABSENT;
    } else {
      const joined = Array.isArray(raw) ? raw.join(', ') : raw;
      // Accept-Encoding was already reduced to the coding sent upstream (HttpCacheService).
      value =
        name === 'accept-encoding'
          ? (negotiateEncoding(joined) ?? 'identity')
          : (languageKey(name, joined, languages) ?? normaliseSelecting(name, joined));
    }
    key += i === 0 ? value : `\u0002${value}`;
  }
  // The separator between primary and secondary keys must not occur inside a value.
  return key.replaceAll(VARIANT_SEPARATOR, ' ');
}

/**
 * Where a purge or an invalidation applies: an absolute URL names one scheme and host; a path
 * (`/a/b?x`) applies on every host and scheme. Returns the primary-key form and a matcher.
 */
export interface KeyTarget {
  /** Absolute: the exact primary key (or key prefix). Path-only: undefined. */
  absolute: string | undefined;
  /** The path + query part to compare on every host. */
  pathPart: string;
}

export function parseTarget(url: string): KeyTarget | undefined {
  if (url.startsWith('/')) {
    return { absolute: undefined, pathPart: url };
  }
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return undefined;
    }
    const tls = u.protocol === 'https:';
    const authority = normalizeAuthority(u.host, tls ? 443 : 80);
    if (authority === undefined) {
      return undefined;
    }
    const pathPart = `${u.pathname}${u.search}`;
    return {
      absolute: uriOf(primaryKey(tls, authority, u.pathname, u.search.slice(1), '')),
      pathPart,
    };
  } catch {
    return undefined;
  }
}

/** The `/path?query` part of a primary key. */
export function pathPartOf(primary: string): string {
  const uri = uriOf(primary);
  const slash = uri.indexOf('/', uri.indexOf('://') + 3);
  return slash === -1 ? '/' : uri.slice(slash);
}
