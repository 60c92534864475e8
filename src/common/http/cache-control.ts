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
  /** Response: store only if the status code's semantics are understood; then no-store yields. */
  mustUnderstand: boolean;
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
  mustUnderstand: false,
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
      case 'must-understand':
        d.mustUnderstand = true;
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

/** A Structured Field bare item (RFC 8941 §3.3), as far as targeted fields need one. */
type BareItem = number | string | boolean | { token: string } | { bytes: string };
/** Thrown inside the parser; never escapes `parseTargetedCacheControl`. */
class SfError extends Error {}

/**
 * Parses an RFC 8941 Dictionary (RFC 8941 §4.2.2) into its members' values (inner lists and
 * parameters are checked for syntax, then dropped). Throws SfError on any syntax error.
 */
function parseSfDictionary(input: string): Map<string, BareItem | BareItem[]> {
  const out = new Map<string, BareItem | BareItem[]>();
  let i = 0;
  const peek = () => input[i];
  const ows = () => {
    while (input[i] === ' ' || input[i] === '\t') {
      i++;
    }
  };
  const key = (): string => {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(input.slice(i));
    if (m === null) {
      throw new SfError('key');
    }
    i += m[0].length;
    return m[0];
  };
  const bare = (): BareItem => {
    const c = peek();
    if (c === undefined) {
      throw new SfError('item');
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(input.slice(i));
      if (m === null || (m[2] !== undefined && m[1].length > 12)) {
        throw new SfError('number');
      }
      i += m[0].length;
      return Number(m[0]);
    }
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        const ch = input[i++];
        if (ch === undefined) {
          throw new SfError('string');
        }
        if (ch === '"') {
          return s;
        }
        if (ch === '\\') {
          const next = input[i++];
          if (next !== '"' && next !== '\\') {
            throw new SfError('escape');
          }
          s += next;
        } else if (ch < ' ' || ch > '~') {
          throw new SfError('string char');
        } else {
          s += ch;
        }
      }
    }
    if (c === '?') {
      const v = input[i + 1];
      if (v !== '0' && v !== '1') {
        throw new SfError('boolean');
      }
      i += 2;
      return v === '1';
    }
    if (c === ':') {
      const m = /^:([A-Za-z0-9+/=]*):/.exec(input.slice(i));
      if (m === null) {
        throw new SfError('bytes');
      }
      i += m[0].length;
      return { bytes: m[1] };
    }
    const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(input.slice(i));
    if (m === null) {
      throw new SfError('item');
    }
    i += m[0].length;
    return { token: m[0] };
  };
  const params = () => {
    while (peek() === ';') {
      i++;
      while (input[i] === ' ') {
        i++;
      }
      key();
      if (peek() === '=') {
        i++;
        bare();
      }
    }
  };
  const itemOrList = (): BareItem | BareItem[] => {
    if (peek() !== '(') {
      const v = bare();
      params();
      return v;
    }
    i++;
    const list: BareItem[] = [];
    for (;;) {
      while (input[i] === ' ') {
        i++;
      }
      if (peek() === ')') {
        i++;
        params();
        return list;
      }
      list.push(bare());
      params();
      const c = peek();
      if (c !== ' ' && c !== ')') {
        throw new SfError('inner list');
      }
    }
  };
  while (input[i] === ' ') {
    i++;
  }
  if (i === input.length) {
    throw new SfError('empty');
  }
  while (i < input.length) {
    const k = key();
    let value: BareItem | BareItem[] = true;
    if (peek() === '=') {
      i++;
      value = itemOrList();
    } else {
      params();
    }
    out.set(k, value);
    ows();
    if (i === input.length) {
      break;
    }
    if (peek() !== ',') {
      throw new SfError('separator');
    }
    i++;
    ows();
    if (i === input.length) {
      throw new SfError('trailing comma');
    }
  }
  return out;
}

const DELTA_DIRECTIVES = ['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error'];

/**
 * A targeted cache-control field (RFC 9213 §2.2: `CDN-Cache-Control` or the gateway's own),
 * parsed as a Structured Field Dictionary. Undefined when it is absent, empty or invalid (a
 * syntax error, or a freshness directive that is not a non-negative integer): the cache then
 * behaves as if the field were not there and uses `Cache-Control`.
 */
export function parseTargetedCacheControl(
  value: string | string[] | undefined,
): CacheDirectives | undefined {
  if (value === undefined) {
    return undefined;
  }
  const raw = Array.isArray(value) ? value.join(', ') : value;
  let dict: Map<string, BareItem | BareItem[]>;
  try {
    dict = parseSfDictionary(raw.trim());
  } catch (error) {
    if (error instanceof SfError) {
      return undefined;
    }
    throw error;
  }
  const d: CacheDirectives = { ...EMPTY };
  for (const name of DELTA_DIRECTIVES) {
    const v = dict.get(name);
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      return undefined;
    }
  }
  const delta = (name: string) => {
    const v = dict.get(name);
    return typeof v === 'number' ? Math.min(v, 2_147_483_648) : undefined;
  };
  const flag = (name: string) => dict.has(name) && dict.get(name) !== false;
  d.maxAge = delta('max-age');
  d.sMaxAge = delta('s-maxage');
  d.staleWhileRevalidate = delta('stale-while-revalidate');
  d.staleIfError = delta('stale-if-error');
  d.noStore = flag('no-store');
  d.noCache = flag('no-cache');
  d.private = flag('private');
  d.public = flag('public');
  d.mustRevalidate = flag('must-revalidate');
  d.proxyRevalidate = flag('proxy-revalidate');
  d.noTransform = flag('no-transform');
  d.mustUnderstand = flag('must-understand');
  return d;
}
