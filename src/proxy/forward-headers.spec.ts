import { buildSecurityHeaders } from '../security/headers/security-headers';
import {
  buildUpstreamHeaders,
  compileRequestHeaderPolicy,
  filterResponseHeaders,
  type ForwardContext,
} from './forward-headers';

const ctx: ForwardContext = {
  host: 'upstream.internal:8080',
  forwardedHost: 'gw.example.com',
  peer: '203.0.113.7',
  clientIp: '203.0.113.7',
  peerTrusted: false,
  proto: 'http',
  requestId: 'req-1',
};

describe('buildUpstreamHeaders', () => {
  it('should drop hop-by-hop headers and every header named in Connection', () => {
    const out = buildUpstreamHeaders(
      {
        host: 'gw.example.com',
        connection: 'keep-alive, X-Secret-Hop, close',
        'keep-alive': 'timeout=5',
        'x-secret-hop': 'drop me',
        'proxy-authorization': 'Basic abc',
        'proxy-connection': 'keep-alive',
        te: 'gzip',
        trailer: 'x-t',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        expect: '100-continue',
        accept: 'application/json',
      },
      ctx,
    );
    for (const h of [
      'connection',
      'keep-alive',
      'x-secret-hop',
      'proxy-authorization',
      'proxy-connection',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
      'expect',
    ]) {
      expect(out).not.toHaveProperty(h);
    }
    expect(out.accept).toBe('application/json');
    expect(out.host).toBe('upstream.internal:8080');
  });

  it('should strip the headers the gateway derives from verified claims', () => {
    const policy = compileRequestHeaderPolicy({
      claimHeaders: ['x-user-id', 'x_tenant'],
      stripUntrusted: [],
      allowUnderscores: true,
      keyed: [],
    });
    const out = buildUpstreamHeaders(
      { 'x-user-id': 'forged', 'x-tenant': 'forged', x_tenant: 'forged', accept: '*/*' },
      ctx,
      policy,
    );
    expect(out).not.toHaveProperty('x-user-id');
    expect(out).not.toHaveProperty('x-tenant');
    expect(out).not.toHaveProperty('x_tenant');
    expect(out.accept).toBe('*/*');
  });

  it('should drop names with underscores unless allowed, and their folds onto owned names always', () => {
    const incoming = {
      x_custom: 'a',
      x_user_id: 'forged',
      'x-user_id': 'forged',
      x_forwarded_for: 'forged',
      x_real_ip: 'forged',
      x_api_key: 'forged',
      x_forwarded_prefix: 'forged',
      transfer_encoding: 'forged',
    };
    const strict = buildUpstreamHeaders(incoming, ctx);
    expect(Object.keys(strict).filter((n) => n.includes('_'))).toEqual([]);
    const allowed = buildUpstreamHeaders(
      incoming,
      ctx,
      compileRequestHeaderPolicy({
        claimHeaders: ['x-user-id'],
        stripUntrusted: [],
        allowUnderscores: true,
        keyed: ['x-forwarded-prefix'],
      }),
    );
    expect(Object.keys(allowed).filter((n) => n.includes('_'))).toEqual(['x_custom']);
  });

  it('should strip the listed headers from untrusted clients only', () => {
    const policy = compileRequestHeaderPolicy({
      claimHeaders: [],
      stripUntrusted: ['x-forwarded-prefix'],
      allowUnderscores: false,
      keyed: [],
    });
    const incoming = { 'x-forwarded-prefix': '/p' };
    expect(buildUpstreamHeaders(incoming, ctx, policy)).not.toHaveProperty('x-forwarded-prefix');
    expect(
      buildUpstreamHeaders(incoming, { ...ctx, peerTrusted: true }, policy)['x-forwarded-prefix'],
    ).toBe('/p');
  });

  it("should replace a trusted peer's Forwarded by what the gateway resolved", () => {
    const trusted = { ...ctx, peerTrusted: true, proto: 'https' };
    const incoming = { forwarded: 'for=6.6.6.6;host=evil.example' };
    expect(buildUpstreamHeaders(incoming, trusted).forwarded).toBe(
      'for=203.0.113.7;host=gw.example.com;proto=https',
    );
    expect(
      buildUpstreamHeaders(incoming, {
        ...trusted,
        clientIp: '2001:db8::1',
        forwardedHost: '[::1]:8080',
      }).forwarded,
    ).toBe('for="[2001:db8::1]";host="[::1]:8080";proto=https');
    expect(buildUpstreamHeaders(incoming, ctx)).not.toHaveProperty('forwarded');
  });

  it('should keep te: trailers', () => {
    expect(buildUpstreamHeaders({ te: 'trailers' }, ctx).te).toBe('trailers');
  });

  it('should not let Connection strip headers the gateway sets', () => {
    const out = buildUpstreamHeaders({ connection: 'x-forwarded-for, x-request-id' }, ctx);
    expect(out['x-forwarded-for']).toBe('203.0.113.7');
    expect(out['x-request-id']).toBe('req-1');
  });

  it('should replace forwarding headers from an untrusted peer', () => {
    const out = buildUpstreamHeaders(
      {
        host: 'gw.example.com',
        'x-forwarded-for': '1.1.1.1',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-real-ip': '9.9.9.9',
        forwarded: 'for=1.1.1.1',
        'x-request-id': 'client-id',
      },
      ctx,
    );
    expect(out['x-forwarded-for']).toBe('203.0.113.7');
    expect(out['x-forwarded-host']).toBe('gw.example.com');
    expect(out['x-forwarded-proto']).toBe('http');
    expect(out['x-real-ip']).toBe('203.0.113.7');
    expect(out).not.toHaveProperty('forwarded');
    expect(out['x-request-id']).toBe('req-1');
  });

  it('should send the resolved host and scheme, never the raw headers', () => {
    const out = buildUpstreamHeaders(
      { host: 'GW.example.com.:80', 'x-forwarded-host': 'evil.example' },
      { ...ctx, forwardedHost: 'gw.example.com:8080', peerTrusted: true },
    );
    expect(out['x-forwarded-host']).toBe('gw.example.com:8080');
    expect(buildUpstreamHeaders({}, { ...ctx, forwardedHost: '' })).not.toHaveProperty(
      'x-forwarded-host',
    );
  });

  it('should extend forwarding headers from a trusted peer', () => {
    const out = buildUpstreamHeaders(
      {
        host: 'gw.example.com',
        'x-forwarded-for': '198.51.100.1, 10.0.0.2',
        'x-forwarded-host': 'public.example.com',
        'x-forwarded-proto': 'https',
      },
      {
        ...ctx,
        peer: '10.0.0.3',
        clientIp: '198.51.100.1',
        peerTrusted: true,
        // What ProxyService resolved from the trusted peer's headers.
        forwardedHost: 'public.example.com',
        proto: 'https',
      },
    );
    expect(out['x-forwarded-for']).toBe('198.51.100.1, 10.0.0.2, 10.0.0.3');
    expect(out['x-forwarded-host']).toBe('public.example.com');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-real-ip']).toBe('198.51.100.1');
  });
});

describe('filterResponseHeaders', () => {
  const raw = (pairs: string[]): Buffer[] => pairs.map((p) => Buffer.from(p, 'latin1'));
  const noSecurity = buildSecurityHeaders(false);
  const withSecurity = buildSecurityHeaders(true);

  it('should rewrite Location through the rewriter, in the raw list too (what the cache stores)', () => {
    const list = raw(['Location', 'http://up/x', 'Content-Type', 'text/plain']);
    const out = filterResponseHeaders(list, 'r', noSecurity, false, undefined, {
      rewriteLocation: (l) => l.replace('http://up', ''),
    });
    expect(out.slice(0, 2)).toEqual(['Location', '/x']);
    expect(list[1].toString()).toBe('/x');
    const untouched = raw(['Location', 'http://up/x']);
    expect(filterResponseHeaders(untouched, 'r', noSecurity, false).slice(0, 2)).toEqual([
      'Location',
      'http://up/x',
    ]);
  });

  it('should fill in missing security headers without duplicating upstream ones', () => {
    const out = filterResponseHeaders(
      raw(['X-Frame-Options', 'SAMEORIGIN', 'Content-Type', 'text/html']),
      'r',
      withSecurity,
      false,
    );
    const names = out.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n === 'x-frame-options')).toHaveLength(1);
    expect(out[out.indexOf('X-Frame-Options') + 1]).toBe('SAMEORIGIN');
    expect(names).toContain('content-security-policy');
    expect(names).not.toContain('strict-transport-security');
    const overTls = filterResponseHeaders(raw([]), 'r', withSecurity, true);
    expect(overTls).toContain('strict-transport-security');
  });

  it('should let gateway headers replace upstream ones and merge Vary', () => {
    const out = filterResponseHeaders(
      raw(['Access-Control-Allow-Origin', '*', 'Vary', 'Accept-Encoding']),
      'r',
      noSecurity,
      false,
      ['access-control-allow-origin', 'https://app.example.com', 'vary', 'Origin'],
    );
    expect(out).toEqual([
      'access-control-allow-origin',
      'https://app.example.com',
      'vary',
      'Accept-Encoding, Origin',
      'x-request-id',
      'r',
    ]);
  });

  it('should drop every upstream Access-Control-* header when the CORS policy refused the origin', () => {
    const reflecting = raw([
      'Access-Control-Allow-Origin',
      'https://evil.example',
      'Access-Control-Allow-Credentials',
      'true',
      'access-control-expose-headers',
      'X-Secret',
      'Content-Type',
      'application/json',
    ]);
    expect(
      filterResponseHeaders(
        reflecting,
        'r',
        noSecurity,
        false,
        ['vary', 'Origin'],
        undefined,
        true,
      ),
    ).toEqual(['Content-Type', 'application/json', 'vary', 'Origin', 'x-request-id', 'r']);
    // Without a refusal (no CORS policy, or no Origin) they are the upstream's to send.
    expect(filterResponseHeaders(reflecting, 'r', noSecurity, false)).toContain(
      'Access-Control-Allow-Credentials',
    );
  });

  it('should drop hop-by-hop and Connection-listed headers and set our request id', () => {
    const out = filterResponseHeaders(
      raw([
        'Content-Type',
        'text/plain',
        'Connection',
        'keep-alive, X-Internal',
        'X-Internal',
        'secret',
        'Keep-Alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'X-Request-Id',
        'upstream-id',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
      ]),
      'req-1',
      noSecurity,
      false,
    );
    expect(out).toEqual([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'x-request-id',
      'req-1',
    ]);
  });
});
