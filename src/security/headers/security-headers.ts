/**
 * Security headers, in two sets.
 *
 * - **The gateway's own answers** (errors, `/health`, `/admin`, `/docs`, `/monitor`…) are strict:
 *   nosniff, `X-Frame-Options: DENY`, `Content-Security-Policy: default-src 'self'`,
 *   `Referrer-Policy`, and `X-XSS-Protection: 0`.
 * - **Proxied answers** get by default only what cannot break an application: nosniff,
 *   `Referrer-Policy` and `X-XSS-Protection: 0`. A CSP or `X-Frame-Options` the gateway invented
 *   would break HTML front-ends (inline scripts, CDNs, embedding), so a route opts into them
 *   (`security_headers:`), and may set or disable every header.
 *
 * `X-XSS-Protection` is `0` everywhere, as OWASP advises: the filter it enabled is gone from
 * current browsers and could be abused in the old ones to leak data or break pages. HSTS is only
 * sent when the client really used TLS (a browser ignores it over plain HTTP, and sending it there
 * misleads operators). On proxied responses the gateway only fills in what the upstream did not
 * set, so there is never a second, conflicting header.
 */

import type {
  RouteSecurityHeaderKey,
  RouteSecurityHeaders,
} from '../../config/gateway-config.types';

/** A header a route may set or disable: file key under `security_headers:` → header name. */
export const SECURITY_HEADER_KEYS: Readonly<Record<RouteSecurityHeaderKey, string>> = {
  content_security_policy: 'content-security-policy',
  x_frame_options: 'x-frame-options',
  x_content_type_options: 'x-content-type-options',
  referrer_policy: 'referrer-policy',
  strict_transport_security: 'strict-transport-security',
  x_xss_protection: 'x-xss-protection',
  permissions_policy: 'permissions-policy',
};

type SecurityHeaderKey = RouteSecurityHeaderKey;

/** The value `true` stands for; the strict set of the gateway's own answers. */
export const STRICT_SECURITY_HEADER_VALUES: Readonly<Record<SecurityHeaderKey, string>> = {
  content_security_policy: "default-src 'self'",
  x_frame_options: 'DENY',
  x_content_type_options: 'nosniff',
  referrer_policy: 'strict-origin-when-cross-origin',
  strict_transport_security: 'max-age=63072000; includeSubDomains',
  x_xss_protection: '0',
  permissions_policy: 'camera=(), microphone=(), geolocation=()',
};

/** The gateway's own answers, without HSTS (added over TLS). */
const OWN_KEYS: readonly SecurityHeaderKey[] = [
  'x_content_type_options',
  'x_frame_options',
  'content_security_policy',
  'x_xss_protection',
  'referrer_policy',
];

/** Proxied answers by default: only what cannot break an application. */
const PROXIED_KEYS: readonly SecurityHeaderKey[] = [
  'x_content_type_options',
  'referrer_policy',
  'x_xss_protection',
  'strict_transport_security',
];

/** The gateway's own answers' headers, as `[name, value]` pairs (no HSTS). */
export const BASE_SECURITY_HEADERS: readonly [string, string][] = OWN_KEYS.map((key) => [
  SECURITY_HEADER_KEYS[key],
  STRICT_SECURITY_HEADER_VALUES[key],
]);
export const HSTS_HEADER: [string, string] = [
  SECURITY_HEADER_KEYS.strict_transport_security,
  STRICT_SECURITY_HEADER_VALUES.strict_transport_security,
];

export interface SecurityHeaderSet {
  /** Flat `[name, value, …]` for plain HTTP. */
  readonly plain: readonly string[];
  /** Flat `[name, value, …]` including HSTS, for requests that arrived over TLS. */
  readonly tls: readonly string[];
  /** Lower-case names, to detect what an upstream already set. */
  readonly names: ReadonlySet<string>;
}

const NONE: SecurityHeaderSet = Object.freeze({ plain: [], tls: [], names: new Set<string>() });

/** The strict set of the gateway's own answers; empty when security headers are turned off. */
export function buildSecurityHeaders(enabled: boolean): SecurityHeaderSet {
  if (!enabled) {
    return NONE;
  }
  const keys: SecurityHeaderKey[] = [...OWN_KEYS, 'strict_transport_security'];
  return fromPairs(keys.map((key) => [key, STRICT_SECURITY_HEADER_VALUES[key]]));
}

/** Shared by every route without `security_headers`, per value of SECURITY_HEADERS. */
const proxiedDefaults = new Map<boolean, SecurityHeaderSet>();

/**
 * The set a route's proxied answers are filled in with: the proxied defaults (none with
 * `SECURITY_HEADERS=false`), changed by the route's own choices. Compiled once per route; routes
 * without choices share one set.
 */
export function buildProxiedSecurityHeaders(
  enabled: boolean,
  overrides?: RouteSecurityHeaders,
): SecurityHeaderSet {
  if (overrides === undefined || Object.keys(overrides).length === 0) {
    let shared = proxiedDefaults.get(enabled);
    if (shared === undefined) {
      shared = enabled
        ? fromPairs(PROXIED_KEYS.map((key) => [key, STRICT_SECURITY_HEADER_VALUES[key]]))
        : NONE;
      proxiedDefaults.set(enabled, shared);
    }
    return shared;
  }
  const values = new Map<SecurityHeaderKey, string>(
    enabled ? PROXIED_KEYS.map((key) => [key, STRICT_SECURITY_HEADER_VALUES[key]]) : [],
  );
  for (const [key, choice] of Object.entries(overrides) as [
    SecurityHeaderKey,
    string | boolean,
  ][]) {
    if (choice === false) {
      values.delete(key);
    } else {
      values.set(key, choice === true ? STRICT_SECURITY_HEADER_VALUES[key] : choice);
    }
  }
  return fromPairs([...values]);
}

function fromPairs(pairs: readonly (readonly [SecurityHeaderKey, string])[]): SecurityHeaderSet {
  const plain: string[] = [];
  const tls: string[] = [];
  for (const [key, value] of pairs) {
    const name = SECURITY_HEADER_KEYS[key];
    if (key !== 'strict_transport_security') {
      plain.push(name, value);
    }
    tls.push(name, value);
  }
  return Object.freeze({
    plain,
    tls,
    names: new Set(pairs.map(([key]) => SECURITY_HEADER_KEYS[key])),
  });
}

/**
 * Appends to `out` (a flat header list about to be written) every security header whose name
 * the list does not already carry. `present` holds the lower-case names already in `out`.
 */
export function fillSecurityHeaders(
  out: string[],
  present: ReadonlySet<string> | undefined,
  headers: readonly string[],
): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (!present?.has(headers[i])) {
      out.push(headers[i], headers[i + 1]);
    }
  }
}
