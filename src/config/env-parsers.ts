/**
 * String → value parsers for environment variables. Each throws an `Error` whose message describes
 * the value; the caller prefixes the variable or field name, so messages stay one line each.
 */
import { editDistance } from '../common/edit-distance';
import { normalizeHost } from '../common/http/normalize-host';
import { BlockList, isIP } from 'node:net';
import {
  ACCESS_LOG_FIELDS,
  LOAD_BALANCING_ALGORITHMS,
  LOG_LEVELS,
  type AccessLogField,
  type LoadBalancingAlgorithm,
  type LogLevel,
} from './gateway-config.types';
import { maskUrl } from '../common/http/url-display';

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Go `strconv.ParseBool`: exactly the spellings `1 t T TRUE true True 0 f F FALSE false False`.
 * `yes`/`on` are rejected rather than guessed, as Go rejected them too (it then silently used the
 * default; we report it).
 */
export function parseGoBool(raw: string): boolean {
  const value = raw.trim();
  if (GO_TRUE.has(value)) {
    return true;
  }
  if (GO_FALSE.has(value)) {
    return false;
  }
  throw new Error(`invalid boolean ${JSON.stringify(raw)} (expected true or false)`);
}

/** A base-10 safe integer with an optional sign, like Go `strconv.Atoi`; no `1e3`, `0x10`, `5.0`. */
export function parseStrictInt(raw: string): number {
  const value = raw.trim();
  const n = Number(value);
  if (!/^[-+]?[0-9]+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new Error(`invalid integer ${JSON.stringify(raw)}`);
  }
  return n;
}

export function parsePort(raw: string): number {
  const value = raw.trim();
  const port = Number(value);
  if (!/^[0-9]+$/.test(value) || port > 65535) {
    throw new Error(`invalid port ${JSON.stringify(raw)} (expected 0-65535)`);
  }
  return port;
}

export interface ListenAddress {
  host: string;
  port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/**
 * A listen address as Go's `http.Server.Addr` spells it (`:9777`, `0.0.0.0:9777`, `[::]:9777`,
 * `127.0.0.1:0`), plus a bare port (`9777`), which made the Go gateway exit 1 (D26).
 */
export function parseListenAddress(raw: string, defaultHost = '0.0.0.0'): ListenAddress {
  const value = raw.trim();
  if (/^[0-9]+$/.test(value)) {
    return { host: defaultHost, port: parsePort(value) };
  }
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') {
      throw new Error(`invalid address ${JSON.stringify(raw)} (expected "[ipv6]:port")`);
    }
    host = value.slice(1, close);
    portText = value.slice(close + 2);
    if (isIP(host) !== 6) {
      throw new Error(
        `invalid address ${JSON.stringify(raw)} (${JSON.stringify(host)} is not IPv6)`,
      );
    }
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) {
      throw new Error(`invalid address ${JSON.stringify(raw)} (missing port, e.g. ":9777")`);
    }
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) {
      throw new Error(
        `invalid address ${JSON.stringify(raw)} (write IPv6 hosts in brackets, e.g. "[::]:9777")`,
      );
    }
    if (host !== '' && isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new Error(`invalid address ${JSON.stringify(raw)} (bad host ${JSON.stringify(host)})`);
    }
  }
  if (portText === '') {
    throw new Error(`invalid address ${JSON.stringify(raw)} (missing port, e.g. ":9777")`);
  }
  return { host: host === '' ? defaultHost : host, port: parsePort(portText) };
}

/**
 * Splits on commas and any whitespace and drops empty items, like the Go gateway's `splitList`
 * (used for `ROUTE_<NAME>_TARGETS`/`WEIGHTS`), so `"a, b"`, `"a b"` and multi-line values all work.
 */
export function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((item) => item !== '');
}

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A list of header names, lower-cased; `none` is the empty list. */
export function parseHeaderNames(raw: string): string[] {
  const names = splitList(raw);
  if (names.length === 1 && names[0].toLowerCase() === 'none') {
    return [];
  }
  for (const name of names) {
    if (!HEADER_TOKEN.test(name)) {
      throw new Error(`invalid header name ${JSON.stringify(name)}`);
    }
  }
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

/**
 * `CIRCUIT_BREAKER_FAILURE_STATUSES` / `failure_statuses`: HTTP statuses 400-599 that count as an
 * upstream failure, comma or space separated; `none` (where allowed) is the empty list. 1xx-3xx
 * are refused: a status the client is meant to act on cannot be the server's failure.
 */
export function parseFailureStatuses(raw: string, options: { allowNone: boolean }): number[] {
  if (options.allowNone && raw.trim().toLowerCase() === 'none') {
    return [];
  }
  const statuses: number[] = [];
  for (const item of splitList(raw)) {
    const status = /^[0-9]{3}$/.test(item) ? Number(item) : NaN;
    if (!(status >= 400 && status <= 599)) {
      throw new Error(
        `invalid status ${JSON.stringify(item)} (expected HTTP statuses 400-599${options.allowNone ? ', or none' : ''})`,
      );
    }
    if (!statuses.includes(status)) {
      statuses.push(status);
    }
  }
  if (statuses.length === 0) {
    throw new Error(`no status given${options.allowNone ? ' (write none for no status)' : ''}`);
  }
  return statuses;
}

/**
 * An IP address or CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`). Returned trimmed, unchanged
 * otherwise, so logs show what the operator wrote.
 */
export function parseIpOrCidr(raw: string): string {
  const value = raw.trim();
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) {
    throw new Error(`invalid IP address or CIDR ${JSON.stringify(raw)}`);
  }
  if (slash >= 0) {
    const prefixText = value.slice(slash + 1);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = Number(prefixText);
    if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > maxPrefix) {
      throw new Error(
        `invalid CIDR ${JSON.stringify(raw)} (prefix length must be 0-${maxPrefix} for IPv${family})`,
      );
    }
    // The consumers build node:net BlockLists; make sure Node accepts exactly this input.
    new BlockList().addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return value;
}

/**
 * A route's `host` as written: a host name, an IP, or `*.example.com`, optionally with a port
 * (ignored for matching, as in requests), normalised like request Host headers. Anything else is
 * refused with what to write instead: a URL (`https://billing.example.com` would otherwise become
 * the host `https`), a path, credentials, spaces or a port outside 1-65535.
 *
 * @throws Error saying what is wrong with the value
 */
export function parseHostPattern(raw: string): string {
  const value = raw.trim();
  const quoted = JSON.stringify(raw);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(value);
  if (scheme !== null) {
    const rest = scheme[2].replace(/^[^@/]*@/, '');
    const host = rest.split(/[/?#]/)[0];
    throw new Error(
      `${quoted} is a URL; write the host alone${host === '' ? '' : `: ${JSON.stringify(host)}`} (the path goes in prefix)`,
    );
  }
  if (/\s/.test(value)) {
    throw new Error(`${quoted} contains spaces`);
  }
  if (value.includes('@')) {
    throw new Error(`${quoted} contains credentials ("@"); write the host alone`);
  }
  const pathAt = value.search(/[/?#]/);
  if (pathAt >= 0) {
    throw new Error(
      `${quoted} has a path; write the host alone${pathAt > 0 ? `: ${JSON.stringify(value.slice(0, pathAt))}` : ''} (the path goes in prefix)`,
    );
  }
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(value)?.[1];
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) {
    throw new Error(`${quoted} has an invalid port ${JSON.stringify(port)}`);
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new Error(`${quoted}: port must be 1-65535, got ${port}`);
  }
  const host = normalizeHostPattern(value);
  if (!isValidHostPattern(host)) {
    throw new Error(
      `invalid host pattern ${quoted} (expected a host name, an IP or "*.example.com")`,
    );
  }
  return host;
}

/**
 * A route host pattern, normalised like request Host headers (src/common/http/normalize-host.ts);
 * `*` alone means any host, like an empty pattern.
 */
export function normalizeHostPattern(raw: string): string {
  const host = normalizeHost(raw);
  return host === '*' ? '' : host;
}

/**
 * Whether a normalised host pattern can ever match: `''`, an IP, a hostname or `*.` + hostname.
 * `*example.com` (no dot) is refused; Go classed it as exact yet matched it as a suffix.
 */
export function isValidHostPattern(host: string): boolean {
  if (host === '' || isIP(host) !== 0) {
    return true;
  }
  return HOSTNAME.test(host.startsWith('*.') ? host.slice(2) : host);
}

/**
 * Go `normalizeUpstream`: trim, add `http://` when there is no scheme, require a host and an
 * `http`/`https` scheme. Unlike Go, credentials and fragments are refused instead of being kept in
 * a URL that would be logged (credentials) or never sent (fragment).
 *
 * @returns `scheme://host[:port][/path][?query]`, without a lone trailing `/`.
 */
export function normalizeUpstream(raw: string): string {
  const value = raw.trim();
  if (value === '') {
    throw new Error('empty upstream URL');
  }
  const absolute = value.includes('://') ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(absolute);
  } catch {
    throw new Error(`invalid upstream URL ${JSON.stringify(raw)} (not a URL)`);
  }
  // Messages end up in logs: never with the password or query values the URL carries.
  const invalid = (reason: string) =>
    new Error(`invalid upstream URL ${JSON.stringify(maskUrl(absolute))} (${reason})`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`scheme must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.hostname === '') {
    throw invalid('missing host');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('credentials in upstream URLs are not supported');
  }
  if (value.includes('#')) {
    throw invalid('fragments are never sent upstream');
  }
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** `LOG_LEVEL`: pino names plus Go's `DEBUG INFO WARN WARNING ERROR`, case-insensitive. */
export function parseLogLevel(raw: string): LogLevel {
  const value = raw.trim().toLowerCase();
  const level = value === 'warning' ? 'warn' : value;
  const known = LOG_LEVELS.find((candidate) => candidate === level);
  if (known === undefined) {
    throw new Error(`unknown level ${JSON.stringify(raw)} (expected ${LOG_LEVELS.join('|')})`);
  }
  return known;
}

/**
 * `ACCESS_LOG_FIELDS`: field names separated by commas or spaces, case-insensitive, `_` and `-`
 * ignored (`user_agent` is `userAgent`), or `all`. The line writes them in its own fixed order.
 */
export function parseAccessLogFields(raw: string): AccessLogField[] {
  const byKey = new Map(ACCESS_LOG_FIELDS.map((f) => [f.toLowerCase(), f]));
  const chosen = new Set<AccessLogField>();
  for (const item of splitList(raw)) {
    const key = item.toLowerCase().replace(/[_-]/g, '');
    if (key === 'all') {
      return [...ACCESS_LOG_FIELDS];
    }
    const field = byKey.get(key);
    if (field === undefined) {
      const hint = closestMatch(key, ACCESS_LOG_FIELDS);
      throw new Error(
        `unknown field ${JSON.stringify(item)}${hint ? ` (did you mean ${hint}?)` : ''}; ` +
          `known: ${ACCESS_LOG_FIELDS.join(', ')}, or all`,
      );
    }
    chosen.add(field);
  }
  if (chosen.size === 0) {
    throw new Error('no field given (list field names, or all)');
  }
  return ACCESS_LOG_FIELDS.filter((f) => chosen.has(f));
}

/**
 * `ACCESS_LOG_REDACT_PARAMS`: query parameter names (commas or spaces), compared
 * case-insensitively; `none` masks nothing.
 */
export function parseRedactParams(raw: string): string[] {
  const names = splitList(raw).map((n) => n.toLowerCase());
  if (names.length === 1 && names[0] === 'none') {
    return [];
  }
  if (names.includes('none')) {
    throw new Error('"none" cannot be combined with parameter names');
  }
  return [...new Set(names)];
}

/**
 * `LOAD_BALANCING_ALGO`, case-insensitive. Go silently used least-conn for unknown names while
 * `/stats` showed the raw string (D22); here it is an error.
 */
export function parseAlgorithm(raw: string): LoadBalancingAlgorithm {
  const value = raw.trim().toLowerCase();
  const known = LOAD_BALANCING_ALGORITHMS.find((candidate) => candidate === value);
  if (known === undefined) {
    throw new Error(unknownAlgorithmMessage(raw));
  }
  return known;
}

export function unknownAlgorithmMessage(input: unknown): string {
  return `unknown algorithm ${JSON.stringify(input)} (expected ${LOAD_BALANCING_ALGORITHMS.join('|')})`;
}

/** The candidate closest to `word` (edit distance ≤ 2), for "did you mean" hints. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Thrown by list parsers so that each bad item becomes its own problem line. */
export class ValueErrors extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join('; '));
  }
}

/** Applies `parse` to every item and throws all failures together. */
export function collectEach<T>(items: readonly string[], parse: (item: string) => T): T[] {
  const errors: string[] = [];
  const values: T[] = [];
  for (const item of items) {
    try {
      values.push(parse(item));
    } catch (error) {
      errors.push(errorMessage(error));
    }
  }
  if (errors.length > 0) {
    throw new ValueErrors(errors);
  }
  return values;
}

/** IPs and CIDRs, comma or space separated; every bad one is reported. */
export function parseIpList(raw: string): string[] {
  return collectEach(splitList(raw), parseIpOrCidr);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `CACHE_TARGETED_FIELD`: a response header name (RFC 9110 token), lower-cased. The two fields
 * every cache already reads are refused: naming them would strip them from responses.
 */
export function parseTargetedField(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(value)) {
    throw new Error(`not a header name: ${JSON.stringify(raw)}`);
  }
  if (value === 'cache-control' || value === 'cdn-cache-control') {
    throw new Error(
      `${raw} is read anyway; name the gateway's own field (e.g. Gateway-Cache-Control)`,
    );
  }
  return value;
}
