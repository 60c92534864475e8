import { buildSecurityHeaders, fillSecurityHeaders } from './security-headers';

describe('security headers', () => {
  it('should send HSTS only in the TLS set', () => {
    const set = buildSecurityHeaders(true);
    expect(set.plain).not.toContain('strict-transport-security');
    expect(set.tls).toContain('strict-transport-security');
    expect(set.plain.length / 2).toBe(5);
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
