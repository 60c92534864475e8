/** The `Cache-Control` directives a shared cache acts on (RFC 9111 §5.2), parsed once. */
export interface CacheDirectives {
  maxAge?: number;
  sMaxAge?: number;
  noStore: boolean;
  /** Unqualified or with field names: both mean "revalidate every time" for this cache. */
  noCache: boolean;
  private: boolean;
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  noTransform: boolean;
  onlyIfCached: boolean;
  /** Request: accept a response stale by at most this many seconds (Infinity when bare). */
  maxStale?: number;
  minFresh?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
}

const EMPTY: CacheDirectives = Object.freeze({
  noStore: false,
  noCache: false,
  private: false,
  public: false,
  mustRevalidate: false,
  proxyRevalidate: false,
  noTransform: false,
  onlyIfCached: false,
});

/** Delta-seconds (RFC 9111 §1.2.2): digits only; overflow saturates at 2^31. */
function deltaSeconds(value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const unquoted =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (!/^\d+$/.test(unquoted)) {
    return undefined;
  }
  return Math.min(Number(unquoted), 2_147_483_648);
}

/**
 * Parses one or more `Cache-Control` field values. Unknown directives are ignored; a directive
 * whose argument is invalid is treated as absent, except `max-age`/`s-maxage`, which then mean
 * "already stale" (RFC 9111 §4.2.1: an invalid freshness value must be treated as stale).
 */
export function parseCacheControl(value: string | string[] | undefined): CacheDirectives {
  if (value === undefined || value === '') {
    return EMPTY;
  }
  const raw = Array.isArray(value) ? value.join(',') : value;
  const d: CacheDirectives = { ...EMPTY };
  for (const part of splitDirectives(raw)) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    const arg = eq === -1 ? undefined : part.slice(eq + 1).trim();
    switch (name) {
      case 'max-age':
        // A repeated directive is invalid; the lower value is the safe reading.
        d.maxAge = Math.min(d.maxAge ?? Infinity, deltaSeconds(arg) ?? 0);
        break;
      case 's-maxage':
        d.sMaxAge = Math.min(d.sMaxAge ?? Infinity, deltaSeconds(arg) ?? 0);
        break;
      case 'no-store':
        d.noStore = true;
        break;
      case 'no-cache':
        d.noCache = true;
        break;
      case 'private':
        d.private = true;
        break;
      case 'public':
        d.public = true;
        break;
      case 'must-revalidate':
        d.mustRevalidate = true;
        break;
      case 'proxy-revalidate':
        d.proxyRevalidate = true;
        break;
      case 'no-transform':
        d.noTransform = true;
        break;
      case 'only-if-cached':
        d.onlyIfCached = true;
        break;
      case 'max-stale':
        d.maxStale = arg === undefined ? Infinity : deltaSeconds(arg);
        break;
      case 'min-fresh':
        d.minFresh = deltaSeconds(arg);
        break;
      case 'stale-while-revalidate':
        d.staleWhileRevalidate = deltaSeconds(arg);
        break;
      case 'stale-if-error':
        d.staleIfError = deltaSeconds(arg);
        break;
      default:
        break;
    }
  }
  return d;
}

/** Splits on commas outside quoted strings (`no-cache="set-cookie, foo"` is one directive). */
function splitDirectives(raw: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 34 /* " */) {
      quoted = !quoted;
    } else if (c === 44 /* , */ && !quoted) {
      parts.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(raw.slice(start));
  return parts.filter((p) => p.trim() !== '');
}
