import type { AccessLogField } from '../config/gateway-config.types';
import type { AccessRecord } from './access-log.service';

/** Printable ASCII without `"` and `\`: such a string is its own JSON form between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A string's JSON form without the surrounding quotes (the line's constant parts carry them):
 * usually the string itself, so nothing is allocated for it.
 */
function escaped(value: string): string {
  return PLAIN.test(value) ? value : JSON.stringify(value).slice(1, -1);
}

let lastMs = 0;
let lastIso = '';
/** The minute `lastIso` falls in (epoch ms) and its ISO text up to the seconds. */
let minuteStart = -1;
let minutePrefix = '';

/** `00`…`59`, and `.000Z`…`.999Z`. */
const SECONDS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const MILLIS_Z = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z`);

/**
 * The time as `Date#toISOString` writes it, formatted once per millisecond (lines of the same
 * millisecond share it), and from the minute's prefix and two table lookups rather than a Date:
 * toISOString took ~2 µs here, paid by every line at moderate rates.
 */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    const into = ms - minuteStart;
    if (into < 0 || into >= 60_000) {
      minuteStart = ms - (ms % 60_000);
      // 'YYYY-MM-DDTHH:MM:' (fixed width from year 0 to 9999).
      minutePrefix = new Date(minuteStart).toISOString().slice(0, 17);
    }
    const inMinute = ms - minuteStart;
    const second = Math.floor(inMinute / 1000);
    lastIso = minutePrefix + SECONDS[second] + MILLIS_Z[inMinute - second * 1000];
  }
  return lastIso;
}

function isoNow(): string {
  return isoTime(Date.now());
}

/** A finite number, or null (JSON has no NaN or Infinity). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** `.001`…`.999` as String() ends a number with those thousandths (trailing zeros dropped). */
const THOUSANDTHS = Array.from({ length: 1000 }, (_, i) =>
  i === 0 ? '' : `.${String(i).padStart(3, '0')}`.replace(/0+$/, ''),
);

/**
 * A duration in ms with at most 3 decimals, exactly as String() writes it, from integers: V8
 * turns a double into text with its shortest-representation algorithm unless the same number
 * was just converted (a small cache), and every request brings new durations. Paired in place,
 * the two durations written by String() cost ~5% of the full pipeline's CPU.
 */
export function msNumber(ms: number): string {
  if (!(ms >= 0 && ms < 1e9)) {
    return jsonNumber(ms);
  }
  const thousandths = Math.round(ms * 1000);
  const whole = Math.floor(thousandths / 1000);
  return String(whole) + THOUSANDTHS[thousandths - whole * 1000];
}

/** Writes one access-log line (with its `\n`). `bindings`: the logger's own fields, see below. */
export type AccessLineFormatter = (
  level: 'info' | 'warn',
  bindings: string,
  record: AccessRecord,
) => string;

/** What a redacted query parameter's value becomes. */
export const REDACTED = '[REDACTED]';

/**
 * The access-line writer for a field set (`ACCESS_LOG_FIELDS`) and the query parameters whose
 * values are masked (`ACCESS_LOG_REDACT_PARAMS`, in `query` and in the query of `referer`).
 *
 * The line is the same JSON pino would write for the record (level, time, the logger's bindings,
 * the chosen fields in a fixed order, undefined ones left out as JSON.stringify does, then msg),
 * built by hand: JSON.stringify of the record plus a Date per line cost ~5% of proxy CPU in the
 * bench profile. Each field is written out directly behind a flag fixed here (a loop over a field
 * table reading the record by computed keys cost 25–35% more per line, `node
 * bench/access-log-micro.js`). Client-controlled strings (path, query, host, user agent,
 * referer, principal, errors) are escaped, so they cannot forge lines.
 *
 * `bindings` are the logger's own fields as pino serialises them (`,"pid":123` in a cluster
 * worker; empty otherwise).
 */
export function accessLineFormatter(
  fields: readonly AccessLogField[],
  redactParams: readonly string[],
): AccessLineFormatter {
  const on = new Set(fields);
  const requestId = on.has('requestId');
  const method = on.has('method');
  const host = on.has('host');
  const path = on.has('path');
  const query = on.has('query');
  const route = on.has('route');
  const upstream = on.has('upstream');
  const status = on.has('status');
  const durationMs = on.has('durationMs');
  const upstreamLatencyMs = on.has('upstreamLatencyMs');
  const attempts = on.has('attempts');
  const cacheStatus = on.has('cacheStatus');
  const bytesIn = on.has('bytesIn');
  const bytesOut = on.has('bytesOut');
  const clientIp = on.has('clientIp');
  const userAgent = on.has('userAgent');
  const referer = on.has('referer');
  const principal = on.has('principal');
  const error = on.has('error');
  const traceId = on.has('traceId');
  const redact = queryRedactor(redactParams);

  return (level, bindings, r) => {
    let line = '{"level":"' + level + '","time":"' + isoNow() + '"' + bindings;
    if (requestId) {
      line += ',"requestId":"' + escaped(r.requestId) + '"';
    }
    if (method && r.method !== undefined) {
      line += ',"method":"' + escaped(r.method) + '"';
    }
    if (host && r.host !== undefined) {
      line += ',"host":"' + escaped(r.host) + '"';
    }
    if (path && r.path !== undefined) {
      line += ',"path":"' + escaped(r.path) + '"';
    }
    if (query && r.query !== undefined && r.query !== '') {
      line += ',"query":"' + escaped(redact(r.query)) + '"';
    }
    if (route && r.route !== undefined) {
      line += ',"route":"' + escaped(r.route) + '"';
    }
    if (upstream && r.upstream !== undefined) {
      line += ',"upstream":"' + escaped(r.upstream) + '"';
    }
    if (status) {
      line += ',"status":' + jsonNumber(r.status);
    }
    if (durationMs) {
      line += ',"durationMs":' + msNumber(r.durationMs);
    }
    if (upstreamLatencyMs && r.upstreamLatencyMs !== undefined) {
      line += ',"upstreamLatencyMs":' + msNumber(r.upstreamLatencyMs);
    }
    if (attempts) {
      line += ',"attempts":' + jsonNumber(r.attempts);
    }
    if (cacheStatus && r.cacheStatus !== undefined) {
      line += ',"cacheStatus":"' + escaped(r.cacheStatus) + '"';
    }
    if (bytesIn) {
      line += ',"bytesIn":' + jsonNumber(r.bytesIn);
    }
    if (bytesOut) {
      line += ',"bytesOut":' + jsonNumber(r.bytesOut);
    }
    if (clientIp) {
      line += ',"clientIp":"' + escaped(r.clientIp) + '"';
    }
    if (userAgent && r.userAgent !== undefined) {
      line += ',"userAgent":"' + escaped(r.userAgent) + '"';
    }
    if (referer && r.referer !== undefined) {
      line += ',"referer":"' + escaped(redactUrl(r.referer, redact)) + '"';
    }
    if (principal && r.principal !== undefined) {
      line += ',"principal":"' + escaped(r.principal) + '"';
    }
    if (error && r.error !== undefined) {
      line += ',"error":"' + escaped(r.error) + '"';
    }
    if (traceId && r.traceId !== undefined) {
      line += ',"traceId":"' + escaped(r.traceId) + '"';
    }
    return line + ',"msg":"request completed"}\n';
  };
}

const IDENTITY = (query: string): string => query;

/**
 * Masks the values of the named query parameters. Names compare case-insensitively after
 * percent-decoding (`to%6Ben` is the `token` an upstream decodes), bracketed names count by their
 * parts, and `;` separates parameters as `&` does, since some frameworks split on it. A query without such a parameter is returned
 * as it is, with nothing allocated.
 */
export function queryRedactor(names: readonly string[]): (query: string) => string {
  if (names.length === 0) {
    return IDENTITY;
  }
  const masked = new Set(names.map((n) => n.toLowerCase()));
  return (query) => {
    let out: string | undefined;
    let copied = 0;
    let start = 0;
    while (start < query.length) {
      let end = start;
      while (end < query.length) {
        const c = query.charCodeAt(end);
        if (c === 38 /* & */ || c === 59 /* ; */) {
          break;
        }
        end++;
      }
      const eq = query.indexOf('=', start);
      if (eq !== -1 && eq < end - 1 && isMasked(query.slice(start, eq), masked)) {
        out = (out ?? '') + query.slice(copied, eq + 1) + REDACTED;
        copied = end;
      }
      start = end + 1;
    }
    return out === undefined ? query : out + query.slice(copied);
  };
}

/**
 * Whether a parameter name, as the upstream reads it (`+` is a space, percent-escapes decoded),
 * is masked; a bracketed name (`user[password]`, `token[]`, as PHP and Rails nest them) is when
 * any of its parts is.
 */
function isMasked(raw: string, masked: ReadonlySet<string>): boolean {
  let name = raw;
  if (name.indexOf('%') !== -1 || name.indexOf('+') !== -1) {
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: no upstream decodes it to a masked name either.
    }
  }
  name = name.toLowerCase();
  if (masked.has(name)) {
    return true;
  }
  if (name.indexOf('[') === -1) {
    return false;
  }
  return name.split(/[[\]]+/).some((part) => part !== '' && masked.has(part));
}

/** A URL (the Referer) with its query's named parameters masked; the fragment is kept as is. */
function redactUrl(url: string, redact: (query: string) => string): string {
  const q = url.indexOf('?');
  if (q === -1 || redact === IDENTITY) {
    return url;
  }
  const hash = url.indexOf('#', q);
  const end = hash === -1 ? url.length : hash;
  const query = url.slice(q + 1, end);
  const masked = redact(query);
  return masked === query ? url : url.slice(0, q + 1) + masked + url.slice(end);
}
