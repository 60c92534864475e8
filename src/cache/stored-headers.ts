import type { HeaderFill } from '../common/http/response-hook';
import { fillSecurityHeaders } from '../security/headers/security-headers';
import { addVaryAcceptEncoding, isCompressibleType } from '../compression/compression';
import { weakenEtag } from '../compression/compression-hook';
import { parseCacheControl } from '../common/http/cache-control';
import { getHeader, removeHeader } from '../common/http/flat-headers';
import { HOP_BY_HOP } from '../common/http/hop-by-hop';
import { listsHeader } from '../common/http/header-list';

/**
 * Never stored: hop-by-hop headers (RFC 9110 §7.6.1, the set the proxy strips) and the ones the
 * gateway writes per response.
 */
const NOT_STORED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'x-request-id',
  'age',
  'x-cache',
  'cache-status',
]);

/** Headers a 304 must not overwrite in a stored response (RFC 9111 §3.2). */
const KEPT_ON_UPDATE = new Set(['content-length', 'content-encoding', 'content-range']);

/** Upstream header list (undici Buffers or strings) as storable flat string pairs. */
export function storedHeaders(raw: readonly (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    const value = raw[i + 1].toString('latin1');
    if (lower === 'connection') {
      for (const token of value.split(',')) {
        (listed ??= new Set()).add(token.trim().toLowerCase());
      }
      continue;
    }
    if (!NOT_STORED.has(lower)) {
      out.push(name, value);
    }
  }
  if (listed) {
    for (const name of listed) {
      removeHeader(out, name);
    }
  }
  return out;
}

/** The stored headers updated with those of a 304 (RFC 9111 §3.2). */
export function updateHeaders(stored: readonly string[], fresh: readonly string[]): string[] {
  const replaced = new Set<string>();
  for (let i = 0; i < fresh.length; i += 2) {
    const lower = fresh[i].toLowerCase();
    if (!KEPT_ON_UPDATE.has(lower)) {
      replaced.add(lower);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < stored.length; i += 2) {
    if (!replaced.has(stored[i].toLowerCase())) {
      out.push(stored[i], stored[i + 1]);
    }
  }
  for (let i = 0; i < fresh.length; i += 2) {
    if (replaced.has(fresh[i].toLowerCase())) {
      out.push(fresh[i], fresh[i + 1]);
    }
  }
  return out;
}

/** What a served copy of an entry looks like: full, 304, or compressed with a coding. */
export type ViewKind = '' | '304' | 'br' | 'gzip';

/**
 * Builds the header list a stored entry is served with (before Age, X-Cache, Cache-Status and
 * X-Request-Id, which change per response). Built once per entry and kind on memory hits.
 */
export function buildView(
  headers: readonly string[],
  kind: ViewKind,
  varyOnEncoding: boolean,
  security: HeaderFill,
  tls: boolean,
): string[] {
  const out = headers.slice();
  // The exact length of the bytes served is added per response (identity or compressed).
  removeHeader(out, 'content-length');
  if (kind === '304') {
    removeHeader(out, 'content-range');
  }
  if (varyOnEncoding) {
    addVaryAcceptEncoding(out);
  }
  if (kind === 'br' || kind === 'gzip') {
    removeHeader(out, 'accept-ranges');
    weakenEtag(out);
    out.push('content-encoding', kind);
  }
  let present: Set<string> | undefined;
  for (let i = 0; i < out.length; i += 2) {
    const lower = out[i].toLowerCase();
    if (security.names.has(lower)) {
      (present ??= new Set()).add(lower);
    }
  }
  fillSecurityHeaders(out, present, tls ? security.tls : security.plain);
  return out;
}

/** Lower-case names of a view's headers, computed once per view (views are built once per entry). */
const lowerNamesOf = new WeakMap<readonly string[], string[]>();

function lowerNames(view: readonly string[]): string[] {
  let names = lowerNamesOf.get(view);
  if (names === undefined) {
    names = [];
    for (let i = 0; i < view.length; i += 2) {
      names.push(view[i].toLowerCase());
    }
    lowerNamesOf.set(view, names);
  }
  return names;
}

/**
 * Per-request headers decided at the edge (CORS, RateLimit; lower-case names) over a view:
 * same-name headers are replaced, Vary is merged (as filterResponseHeaders does for proxied
 * responses). Returns a new array the caller may extend.
 */
export function mergeExtra(view: readonly string[], extra: readonly string[]): string[] {
  const names = lowerNames(view);
  const out: string[] = [];
  let vary: string | undefined;
  for (let i = 0; i < view.length; i += 2) {
    const lower = names[i >> 1];
    if (listsHeader(extra, lower)) {
      if (lower === 'vary') {
        vary = vary === undefined ? view[i + 1] : `${vary}, ${view[i + 1]}`;
      }
      continue;
    }
    out.push(view[i], view[i + 1]);
  }
  for (let i = 0; i < extra.length; i += 2) {
    if (vary !== undefined && extra[i] === 'vary') {
      out.push('vary', `${vary}, ${extra[i + 1]}`);
    } else {
      out.push(extra[i], extra[i + 1]);
    }
  }
  return out;
}

/** An identity, compressible, transformable stored body: the gateway may compress it when serving. */
export function isEntryCompressible(headers: readonly string[]): boolean {
  const encoding = getHeader(headers, 'content-encoding');
  return (
    (encoding === undefined || encoding.trim().toLowerCase() === 'identity') &&
    !parseCacheControl(getHeader(headers, 'cache-control')).noTransform &&
    isCompressibleType(getHeader(headers, 'content-type'))
  );
}
