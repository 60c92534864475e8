import {
  buildProxiedSecurityHeaders,
  buildSecurityHeaders,
  fillSecurityHeaders,
} from './security-headers';

/** `[name, value]` pairs of a flat list, for readable expectations. */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    out.push([flat[i], flat[i + 1]]);
  }
  return out;
}

describe('security headers', () => {
  it("should keep the gateway's own answers strict, with HSTS only in the TLS set", () => {
    const set = buildSecurityHeaders(true);

    expect(pairs(set.plain)).toEqual([
      ['x-content-type-options', 'nosniff'],
      ['x-frame-options', 'DENY'],
      ['content-security-policy', "default-src 'self'"],
      ['x-xss-protection', '0'],
      ['referrer-policy', 'strict-origin-when-cross-origin'],
    ]);
    expect(pairs(set.tls).at(-1)).toEqual([
      'strict-transport-security',
      'max-age=63072000; includeSubDomains',
    ]);
  });

  it('should add to proxied answers by default only what cannot break an application', () => {
    const set = buildProxiedSecurityHeaders(true);

    expect(pairs(set.plain)).toEqual([
      ['x-content-type-options', 'nosniff'],
      ['referrer-policy', 'strict-origin-when-cross-origin'],
      ['x-xss-protection', '0'],
    ]);
    expect(pairs(set.tls).map(([name]) => name)).toEqual([
      'x-content-type-options',
      'referrer-policy',
      'x-xss-protection',
      'strict-transport-security',
    ]);
    // One shared set for every route without choices of its own.
    expect(buildProxiedSecurityHeaders(true, {})).toBe(set);
  });

  it("should apply a route's choices: a value, true for the strict value, false for none", () => {
    const set = buildProxiedSecurityHeaders(true, {
      content_security_policy: "default-src 'self' https://cdn.example.com",
      x_frame_options: true,
      referrer_policy: false,
      strict_transport_security: 'max-age=300',
    });

    expect(pairs(set.plain)).toEqual([
      ['x-content-type-options', 'nosniff'],
      ['x-xss-protection', '0'],
      ['content-security-policy', "default-src 'self' https://cdn.example.com"],
      ['x-frame-options', 'DENY'],
    ]);
    expect(pairs(set.tls)).toContainEqual(['strict-transport-security', 'max-age=300']);
    expect([...set.names].sort()).toEqual([
      'content-security-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
      'x-xss-protection',
    ]);
  });

  it("should add only a route's own choices when SECURITY_HEADERS is off", () => {
    expect(buildProxiedSecurityHeaders(false).tls).toEqual([]);
    expect(
      pairs(buildProxiedSecurityHeaders(false, { x_frame_options: 'SAMEORIGIN' }).tls),
    ).toEqual([['x-frame-options', 'SAMEORIGIN']]);
  });

  it('should fill in only headers the upstream did not set', () => {
    const set = buildSecurityHeaders(true);
    const out = ['X-Frame-Options', 'SAMEORIGIN'];
    fillSecurityHeaders(out, new Set(['x-frame-options']), set.plain);
    expect(out.filter((h) => h.toLowerCase() === 'x-frame-options')).toHaveLength(1);
    expect(out).toContain('content-security-policy');
  });

  it('should add nothing when disabled', () => {
    const out: string[] = [];
    fillSecurityHeaders(out, undefined, buildSecurityHeaders(false).plain);
    expect(out).toEqual([]);
  });
});
