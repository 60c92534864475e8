/**
 * The Go gateway's six security headers, with two corrections: HSTS is only sent when the client
 * really used TLS (a browser ignores it over plain HTTP, and sending it there misleads operators),
 * and on proxied responses the gateway only fills in what the upstream did not set, so there is
 * never a second, conflicting CSP or X-Frame-Options (seed-spec D17).
 */
export const BASE_SECURITY_HEADERS: readonly [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'self'"],
  ['x-xss-protection', '1; mode=block'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
];
export const HSTS_HEADER: [string, string] = [
  'strict-transport-security',
  'max-age=63072000; includeSubDomains',
];

export interface SecurityHeaderSet {
  /** Flat `[name, value, …]` for plain HTTP. */
  readonly plain: readonly string[];
  /** Flat `[name, value, …]` including HSTS, for requests that arrived over TLS. */
  readonly tls: readonly string[];
  /** Lower-case names, to detect what an upstream already set. */
  readonly names: ReadonlySet<string>;
}

/** Built once at boot; an empty set when security headers are turned off. */
export function buildSecurityHeaders(enabled: boolean): SecurityHeaderSet {
  if (!enabled) {
    return { plain: [], tls: [], names: new Set() };
  }
  const plain = BASE_SECURITY_HEADERS.flat();
  return {
    plain,
    tls: [...plain, ...HSTS_HEADER],
    names: new Set([...BASE_SECURITY_HEADERS.map(([n]) => n), HSTS_HEADER[0]]),
  };
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
