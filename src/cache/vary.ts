import type { IncomingMessage } from 'node:http';
import type { CacheEntry } from './cache-entry';

/**
 * Normalisation of the request fields a response varies on (RFC 9111 §4.1: a cache "MAY
 * normalize" selecting header fields "to a more canonical form"), so requests that mean the same
 * thing share one stored variant, as Varnish does for Accept-Encoding and Traffic Server does
 * for Accept-Language alternates.
 */

/**
 * A field value with its repeated lines already joined by `, `: optional whitespace around
 * list commas and at either end removed, inner runs of whitespace collapsed (RFC 9110 §5.3 and
 * §5.6.1 make `1,2`, `1, 2` and ` 1 , 2 ` one list).
 */
export function normaliseList(joined: string): string {
  return joined
    .trim()
    .replace(/[ \t]*,[ \t]*/g, ',')
    .replace(/[ \t]+/g, ' ');
}

/**
 * `Accept-Language` (RFC 9110 §12.5.4) without case, order or whitespace differences: ranges
 * lower-cased, grouped by q-value (highest first), each group sorted. Equally weighted ranges
 * have no order of preference, so `en, de` and `De , EN` select the same representation.
 */
export function normaliseAcceptLanguage(joined: string): string {
  const ranges: { range: string; q: number }[] = [];
  for (const member of joined.split(',')) {
    const [rawRange, ...params] = member.split(';');
    const range = rawRange.trim().toLowerCase();
    if (range === '') {
      continue;
    }
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (m !== null && Number.isFinite(Number(m[1]))) {
        q = Math.min(1, Math.max(0, Number(m[1])));
      }
    }
    ranges.push({ range, q });
  }
  ranges.sort((a, b) => b.q - a.q || (a.range < b.range ? -1 : a.range > b.range ? 1 : 0));
  return ranges.map((r) => (r.q === 1 ? r.range : `${r.range};q=${r.q}`)).join(',');
}

/**
 * The stored language a request may be given (RFC 9110 §12.5.4, RFC 4647 basic filtering): one
 * of `available` (lower-case `Content-Language` tags of stored variants) matched by a range of
 * the request's most preferred group (highest q-value above 0). Only that group: a stored
 * language the client likes less than another one could be what the origin would pick instead.
 */
export function selectLanguage(
  acceptLanguage: string,
  available: readonly string[],
): string | undefined {
  const normal = normaliseAcceptLanguage(acceptLanguage);
  if (normal === '') {
    return undefined;
  }
  const top: string[] = [];
  let topQ: string | undefined;
  for (const member of normal.split(',')) {
    const semi = member.indexOf(';');
    const q = semi === -1 ? '1' : member.slice(semi + 3);
    if (q === '0' || (topQ !== undefined && q !== topQ)) {
      break;
    }
    topQ = q;
    top.push(semi === -1 ? member : member.slice(0, semi));
  }
  return [...available]
    .sort()
    .find((tag) =>
      top.some((range) => range === '*' || range === tag || tag.startsWith(`${range}-`)),
    );
}

/** The single language tag of a response's `Content-Language`, lower-cased, if it has one. */
export function contentLanguageOf(headers: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() === 'content-language') {
      if (value !== undefined) {
        return undefined;
      }
      value = headers[i + 1].trim().toLowerCase();
    }
  }
  return value === undefined || value === '' || value.includes(',') ? undefined : value;
}

/** The normal form of one selecting field's value (repeated lines joined by `, `). */
export function normaliseSelecting(lowerName: string, joined: string): string {
  return lowerName === 'accept-language' ? normaliseAcceptLanguage(joined) : normaliseList(joined);
}

/** The request's values of the `vary` fields it carries (pseudo-fields such as `:principal` aside). */
export function selectingFields(
  vary: readonly string[],
  req: IncomingMessage,
): [string, string][] | undefined {
  let out: [string, string][] | undefined;
  for (const name of vary) {
    const raw = name.startsWith(':') ? undefined : req.headers[name];
    if (raw !== undefined) {
      (out ??= []).push([name, Array.isArray(raw) ? raw.join(', ') : raw]);
    }
  }
  return out;
}

/**
 * Upstream request headers of a conditional request validating `entry` (RFC 9111 §4.3.1): its
 * validators. Decided by the gateway, they replace whatever the client sent.
 */
export function conditionalHeaders(
  entry: Pick<CacheEntry, 'etag' | 'lastModified'>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (entry.etag !== undefined) {
    headers['if-none-match'] = entry.etag;
  }
  if (entry.lastModified !== undefined) {
    headers['if-modified-since'] = entry.lastModified;
  }
  return headers;
}

/**
 * Makes a request about to validate `entry` carry the stored request's selecting fields in
 * place of this client's spelling of them (RFC 9111 §4.3.1), so the upstream compares them with
 * the variant that is stored. They replace the client's own fields, never the upstream
 * request's: the gateway's request-header rules (fields it strips, drops or sets itself) apply
 * to them as to anything a client sends, so a response varying on `X-Forwarded-Host` cannot
 * carry a client's value of it upstream.
 */
export function useStoredSelecting(
  req: IncomingMessage,
  entry: Pick<CacheEntry, 'selecting'>,
): void {
  for (const [name, value] of entry.selecting ?? []) {
    if (req.headers[name] !== undefined) {
      req.headers[name] = value;
    }
  }
}
