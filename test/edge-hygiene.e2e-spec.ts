import { request as httpRequest } from 'node:http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const SECURITY = [
  'x-content-type-options',
  'x-frame-options',
  'content-security-policy',
  'x-xss-protection',
  'referrer-policy',
];

/** Every occurrence of a header name in a raw header list (case-insensitive). */
const count = (raw: string[], name: string): number =>
  raw.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;

describe('security headers, CORS and size limits (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream((req, res, body) => {
      if (req.url?.startsWith('/reflect')) {
        // The classic misconfiguration: any Origin is echoed back, with credentials.
        res.writeHead(200, {
          'content-type': 'application/json',
          'cache-control': 'public, max-age=60',
          'access-control-allow-origin': req.headers.origin ?? '*',
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-expose-headers': 'X-Internal-Token',
          'access-control-max-age': '86400',
        });
        res.end('{"account":"secret"}');
        return;
      }
      if (req.url === '/framed') {
        res.writeHead(200, {
          'x-frame-options': 'SAMEORIGIN',
          'content-security-policy': "default-src 'none'",
          'access-control-allow-origin': '*',
          vary: 'Accept-Encoding',
        });
        res.end('ok');
        return;
      }
      res.end(JSON.stringify({ length: body.length }));
    });
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          { name: 'app', prefix: '/', upstreams: [up.url] },
          { name: 'small', prefix: '/small', maxBodyBytes: 100, upstreams: [up.url] },
        ],
        {
          proxy: { ...base.proxy, trustedProxies: ['127.0.0.1'] },
          security: {
            ...base.security,
            corsAllowedOrigins: ['https://app.example.com'],
            maxBodyBytes: 1000,
            maxHeaderCount: 30,
          },
        },
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should put the strict security headers on gateway-generated responses', async () => {
    const r = await send(gw.url, '/health/not-a-thing');
    expect(r.status).toBe(404);
    for (const h of SECURITY) {
      expect(r.headers[h]).toBeDefined();
    }
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['content-security-policy']).toBe("default-src 'self'");
    // The filter this enabled is gone from browsers and was abusable in the old ones (OWASP).
    expect(r.headers['x-xss-protection']).toBe('0');
    expect(r.headers['strict-transport-security']).toBeUndefined();
  });

  it('should send HSTS only when a trusted proxy says the client used https', async () => {
    const r = await send(gw.url, '/x', { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers['strict-transport-security']).toContain('max-age=');
  });

  it('should fill in only the security headers the upstream did not set, never duplicating', async () => {
    const r = await send(gw.url, '/framed');
    expect(count(r.rawHeaders, 'x-frame-options')).toBe(1);
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(count(r.rawHeaders, 'content-security-policy')).toBe(1);
    expect(r.headers['content-security-policy']).toBe("default-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  describe('CORS', () => {
    const preflight = (headers: Record<string, string>) =>
      send(gw.url, '/anything', { method: 'OPTIONS', headers });

    it('should answer an allowed preflight itself with 204 and never reach the upstream', async () => {
      const before = up.requests.length;
      const r = await preflight({
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      });
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers['access-control-allow-methods']).toContain('POST');
      expect(r.headers['access-control-max-age']).toBe('600');
      expect(r.headers.vary).toContain('Origin');
      expect(up.requests.length).toBe(before);
    });

    it.each([
      [{ origin: 'https://evil.example.com', 'access-control-request-method': 'GET' }],
      [{ origin: 'https://app.example.com', 'access-control-request-method': 'TRACE' }],
      [
        {
          origin: 'https://app.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-not-allowed',
        },
      ],
    ])('should refuse the preflight %p with 403 JSON', async (headers) => {
      const r = await preflight(headers);
      expect(r.status).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.json()).toMatchObject({ statusCode: 403 });
    });

    it('should decorate actual cross-origin responses and merge Vary with the upstream', async () => {
      const r = await send(gw.url, '/framed', { headers: { origin: 'https://app.example.com' } });
      expect(r.status).toBe(200);
      expect(count(r.rawHeaders, 'access-control-allow-origin')).toBe(1);
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers.vary).toBe('Accept-Encoding, Origin');
      expect(r.headers['access-control-expose-headers']).toContain('X-Request-Id');
    });

    it('should proxy requests without an Origin untouched', async () => {
      const r = await send(gw.url, '/framed');
      expect(r.headers['access-control-allow-origin']).toBe('*');
    });

    const corsNames = (raw: string[]): string[] =>
      raw.filter((v, i) => i % 2 === 0 && /^access-control-/i.test(v)).map((v) => v.toLowerCase());

    it("should drop a reflecting upstream's Access-Control-* for an origin the policy refuses", async () => {
      const r = await send(gw.url, '/reflect', {
        headers: { origin: 'https://evil.example.com', cookie: 'session=1' },
      });
      expect(r.status).toBe(200);
      expect(corsNames(r.rawHeaders)).toEqual([]);
      expect(r.headers.vary).toContain('Origin');
    });

    it("should answer an allowed origin with the gateway's CORS headers, not the upstream's", async () => {
      const r = await send(gw.url, '/reflect', { headers: { origin: 'https://app.example.com' } });
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      // CORS_ALLOW_CREDENTIALS is off: the upstream cannot turn it on.
      expect(corsNames(r.rawHeaders).sort()).toEqual([
        'access-control-allow-origin',
        'access-control-expose-headers',
      ]);
      expect(r.headers['access-control-expose-headers']).not.toContain('X-Internal-Token');
    });

    it('should do the same for answers served from the cache', async () => {
      const base = testConfig([]);
      const cached = await startGateway(
        testConfig([{ name: 'app', prefix: '/', upstreams: [up.url] }], {
          cache: { ...base.cache, enabled: true },
          security: { ...base.security, corsAllowedOrigins: ['https://app.example.com'] },
        }),
      );
      try {
        // Stored from a request without Origin, with the upstream's CORS headers.
        const plain = await send(cached.url, '/reflect-cached');
        expect(plain.headers['access-control-allow-origin']).toBe('*');
        const evil = await send(cached.url, '/reflect-cached', {
          headers: { origin: 'https://evil.example.com' },
        });
        expect(evil.headers['x-cache']).toBe('HIT');
        expect(corsNames(evil.rawHeaders)).toEqual([]);
        const app = await send(cached.url, '/reflect-cached', {
          headers: { origin: 'https://app.example.com' },
        });
        expect(app.headers['x-cache']).toBe('HIT');
        expect(app.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(app.headers['access-control-allow-credentials']).toBeUndefined();
      } finally {
        await cached.close();
      }
    });
  });

  describe('size limits', () => {
    it('should answer 413 for a declared body over the limit without contacting the upstream', async () => {
      const before = up.requests.length;
      const r = await send(gw.url, '/upload', { method: 'POST', body: Buffer.alloc(1001) });
      expect(r.status).toBe(413);
      expect(r.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(up.requests.length).toBe(before);
    });

    it('should honour a per-route limit', async () => {
      expect(
        (await send(gw.url, '/small/x', { method: 'POST', body: Buffer.alloc(101) })).status,
      ).toBe(413);
      expect(
        (await send(gw.url, '/small/x', { method: 'POST', body: Buffer.alloc(100) })).status,
      ).toBe(200);
    });

    it('should stop a chunked body that grows past the limit while streaming', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: gw.port, path: '/upload', method: 'POST', agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (err) => (err.message.includes('EPIPE') ? resolve(413) : reject(err)));
        const chunk = Buffer.alloc(300);
        let n = 0;
        const tick = setInterval(() => {
          if (n++ < 10 && !req.destroyed) {
            req.write(chunk);
          } else {
            clearInterval(tick);
            req.end();
          }
        }, 10);
      });
      expect(status).toBe(413);
      // The upstream never saw a complete over-limit body.
      expect(up.requests.every((q) => q.body.length <= 1000)).toBe(true);
    });

    it('should answer 431 when a request has too many header fields', async () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 40; i++) {
        headers[`x-h-${i}`] = 'v';
      }
      const r = await send(gw.url, '/x', { headers });
      expect(r.status).toBe(431);
    });
  });
});

describe('security headers of proxied answers, per route (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  const page =
    '<!doctype html><script>inline()</script><iframe src="https://maps.example"></iframe>';

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      const own = req.url?.endsWith('/own-csp');
      res.writeHead(200, {
        'content-type': 'text/html',
        'cache-control': 'max-age=60',
        ...(own
          ? { 'content-security-policy': "script-src 'self' 'unsafe-inline' https://cdn.example" }
          : {}),
      });
      res.end(page);
    });
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          { name: 'app', prefix: '/app', upstreams: [up.url] },
          {
            name: 'strict',
            prefix: '/strict',
            upstreams: [up.url],
            securityHeaders: {
              content_security_policy: "default-src 'self'; frame-ancestors 'none'",
              x_frame_options: true,
              referrer_policy: false,
              x_xss_protection: false,
            },
            cache: { enabled: true, allowSetCookie: false },
          },
        ],
        {
          proxy: { ...base.proxy, trustedProxies: ['127.0.0.1'] },
          cache: { ...base.cache, enabled: true },
        },
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it("should keep a proxied HTML page's own CSP, and add no CSP or X-Frame-Options of its own", async () => {
    const own = await send(gw.url, '/app/own-csp');
    expect(own.text).toBe(page);
    expect(count(own.rawHeaders, 'content-security-policy')).toBe(1);
    expect(own.headers['content-security-policy']).toBe(
      "script-src 'self' 'unsafe-inline' https://cdn.example",
    );

    const plain = await send(gw.url, '/app/page');
    expect(plain.headers['content-security-policy']).toBeUndefined();
    expect(plain.headers['x-frame-options']).toBeUndefined();
    // Only what cannot break an application.
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
    expect(plain.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(plain.headers['x-xss-protection']).toBe('0');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const overTls = await send(gw.url, '/app/page', { headers: { 'x-forwarded-proto': 'https' } });
    expect(overTls.headers['strict-transport-security']).toContain('max-age=');
  });

  it("should apply a route's security_headers, on fresh and cached answers alike", async () => {
    for (const expected of ['MISS', 'HIT']) {
      const r = await send(gw.url, '/strict/page');
      expect(r.headers['x-cache']).toBe(expected);
      expect(r.headers['content-security-policy']).toBe(
        "default-src 'self'; frame-ancestors 'none'",
      );
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBeUndefined();
      expect(r.headers['x-xss-protection']).toBeUndefined();
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    // What the upstream sets still wins: never a second, conflicting header.
    const own = await send(gw.url, '/strict/own-csp');
    expect(count(own.rawHeaders, 'content-security-policy')).toBe(1);
    expect(own.headers['content-security-policy']).toContain('https://cdn.example');
  });

  it("should keep the gateway's own errors strict on a route that relaxed its headers", async () => {
    const error = await send(gw.url, '/nowhere');
    expect(error.status).toBe(404);
    expect(error.headers['x-frame-options']).toBe('DENY');
    expect(error.headers['content-security-policy']).toBe("default-src 'self'");
  });
});
