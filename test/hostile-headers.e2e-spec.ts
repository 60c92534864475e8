import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import type { GatewayConfig } from '../src/config/gateway-config.types';
import { startGateway, testConfig, type RouteInput, type TestGateway } from './fixtures/gateway';
import { rawExchange, send, waitFor } from './fixtures/http';
import { testAuthConfig } from './fixtures/jwt';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import { Redis } from 'ioredis';
import { RedisService } from '../src/redis/redis.service';
import { REDIS_API_KEYS } from '../src/security/auth/redis-api-key-store';
import { startWsgiUpstream, type WsgiUpstream } from './fixtures/wsgi-upstream';

const API_KEY = 'hostile-headers-suite-key-0123456789';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const CACHED = { enabled: true, allowSetCookie: false };
/** Routes whose answers must reach the test fresh each time. */
const UNCACHED = { enabled: false, allowSetCookie: false };

function config(routes: RouteInput[], proxy: Partial<GatewayConfig['proxy']> = {}): GatewayConfig {
  const base = testConfig([]);
  return testConfig(routes, {
    cache: { ...base.cache, enabled: true, compression: false, ttlMs: 60_000 },
    proxy: { ...base.proxy, ...proxy },
    auth: testAuthConfig({ apiKeys: [{ hash: sha256(API_KEY), name: 'app' }] }),
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
    },
  });
}

/**
 * A servlet-style application: the path is percent-decoded and `;` path parameters are removed
 * from every segment before the servlet is chosen (Spring's UrlPathHelper does both; Jetty and
 * Tomcat remove the parameters), so `/app/admin;x/users` and `/app/admin%3Bx/users` are served
 * by the admin servlet.
 */
function servlet(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
  const servletPath = path
    .split('/')
    .map((segment) => segment.split(';')[0])
    .join('/');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ servletPath, admin: servletPath.startsWith('/app/admin') }));
}

/** Echoes the headers it received, in a response every shared cache may keep for a minute. */
function cacheableEcho(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ url: req.url, headers: req.headers });
  res.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'public, max-age=60',
    // Under /self the answer names its own URL: a POST's answer may then serve later GETs.
    ...(req.url?.startsWith('/self/') === true ? { 'content-location': req.url } : {}),
  });
  res.end(body);
}

describe('headers that fold, forward or vary (e2e)', () => {
  let wsgi: WsgiUpstream;
  let app: TestUpstream;
  let echo: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    wsgi = await startWsgiUpstream();
    app = await startUpstream(servlet);
    echo = await startUpstream(cacheableEcho);
    gw = await startGateway(
      config([
        {
          name: 'cgi',
          prefix: '/cgi',
          requireAuth: true,
          upstreams: [wsgi.url],
          cache: UNCACHED,
        },
        { name: 'open-cgi', prefix: '/open-cgi', upstreams: [wsgi.url], cache: UNCACHED },
        {
          name: 'admin',
          prefix: '/app/admin',
          requireAuth: true,
          upstreams: [app.url],
          cache: UNCACHED,
        },
        { name: 'app', prefix: '/app', upstreams: [app.url], cache: UNCACHED },
        { name: 'echo', prefix: '/echo', upstreams: [echo.url], cache: CACHED },
      ]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([wsgi.close(), app.close(), echo.close()]);
  });

  describe('underscore spellings (CGI servers fold `_` and `-` together)', () => {
    it('should not let an API-key client become another user through X_User_Id', async () => {
      const r = await send(gw.url, '/cgi/whoami', {
        headers: { 'x-api-key': API_KEY, X_User_Id: 'admin' },
      });
      expect(r.status).toBe(200);
      expect(r.json().HTTP_X_USER_ID).toBeUndefined();
    });

    it.each([
      ['X_Real_IP', 'HTTP_X_REAL_IP', '127.0.0.1'],
      ['X_Forwarded_For', 'HTTP_X_FORWARDED_FOR', '127.0.0.1'],
      ['X_Forwarded_Host', 'HTTP_X_FORWARDED_HOST', undefined],
      ['X_Request_Id', 'HTTP_X_REQUEST_ID', undefined],
      ['X_Forwarded_Prefix', 'HTTP_X_FORWARDED_PREFIX', undefined],
      ['x_api_key', 'HTTP_X_API_KEY', undefined],
      ['Transfer_Encoding', 'HTTP_TRANSFER_ENCODING', undefined],
      ['X_Custom_Thing', 'HTTP_X_CUSTOM_THING', undefined],
    ])('should drop %s by default (nginx and Kong do)', async (name, cgi, gatewayValue) => {
      const r = await send(gw.url, '/open-cgi/x', { headers: { [name]: 'forged' } });
      expect(r.status).toBe(200);
      const seen = r.json<Record<string, string>>()[cgi];
      expect(seen ?? '').not.toContain('forged');
      if (gatewayValue === '127.0.0.1') {
        expect(seen).toBe(gatewayValue);
      }
    });
  });

  it.each([
    ['a space before the colon', 'X-User-Id : admin'],
    ['a tab in the name', 'X-User\tId: admin'],
    ['a folded continuation line', 'X-Other: a\r\n X-User-Id: admin'],
  ])('should refuse a header line with %s and reach no upstream', async (_n, line) => {
    const raw = await rawExchange(
      gw.port,
      `GET /cgi/whoami HTTP/1.1\r\nHost: a.example\r\nX-Api-Key: ${API_KEY}\r\n${line}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw).not.toContain('admin');
  });

  describe('`;` path parameters', () => {
    it.each([
      '/app/admin;x/users',
      '/app/admin;/users',
      '/app/admin%3Bx/users',
      '/app/admin%3bx/users',
      '/app;x/admin/users',
      '/app/admin/users;jsessionid=abc',
    ])('should refuse %s with 400 instead of routing around the protected prefix', async (path) => {
      const before = app.requests.length;
      const r = await send(gw.url, path);
      expect(r.status).toBe(400);
      expect(r.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(app.requests.length).toBe(before);
    });

    it('should still route plain paths and keep `;` in the query', async () => {
      expect((await send(gw.url, '/app/admin/users')).status).toBe(401);
      const r = await send(gw.url, '/app/public?a=1;b=2');
      expect(r.status).toBe(200);
      expect(app.requests.at(-1)!.url).toBe('/app/public?a=1;b=2');
    });
  });

  describe('forwarding headers the gateway does not set', () => {
    const FOREIGN = {
      'x-forwarded-prefix': '/evil',
      'x-forwarded-scheme': 'https',
      'x-forwarded-ssl': 'on',
      'x-forwarded-server': 'evil.example',
      'x-forwarded-port': '1337',
      'x-original-url': '/admin',
      'x-rewrite-url': '/admin',
      'x-http-method-override': 'DELETE',
      'x-client-ip': '6.6.6.6',
      'true-client-ip': '6.6.6.6',
      'x-original-host': 'evil.example',
      'x-host': 'evil.example',
      forwarded: 'for=6.6.6.6;host=evil.example;proto=https',
    };

    it('should strip them from clients outside TRUSTED_PROXIES', async () => {
      const r = await send(gw.url, '/echo/foreign', { headers: FOREIGN });
      expect(r.status).toBe(200);
      const seen = echo.requests.at(-1)!.headers;
      for (const name of Object.keys(FOREIGN)) {
        expect(seen[name]).toBeUndefined();
      }
    });

    it('should never let a client poison the cache through one', async () => {
      await send(gw.url, '/echo/poison', { headers: { 'x-forwarded-prefix': '/evil' } });
      const victim = await send(gw.url, '/echo/poison');
      expect(victim.text).not.toContain('/evil');
    });
  });
});

describe('underscore headers allowed (ALLOW_UNDERSCORE_HEADERS=true) (e2e)', () => {
  let wsgi: WsgiUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    wsgi = await startWsgiUpstream();
    gw = await startGateway(
      config(
        [{ name: 'cgi', prefix: '/', requireAuth: true, upstreams: [wsgi.url], cache: UNCACHED }],
        {
          allowUnderscoreHeaders: true,
        },
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await wsgi.close();
  });

  it('should pass ordinary names with underscores', async () => {
    const r = await send(gw.url, '/x', { headers: { 'x-api-key': API_KEY, X_Custom_Thing: 'ok' } });
    expect(r.json().HTTP_X_CUSTOM_THING).toBe('ok');
  });

  it.each([
    ['X_User_Id', 'HTTP_X_USER_ID'],
    ['x-user_id', 'HTTP_X_USER_ID'],
    ['X_Real_IP', 'HTTP_X_REAL_IP'],
    ['X_Forwarded_For', 'HTTP_X_FORWARDED_FOR'],
    ['X_Forwarded_Proto', 'HTTP_X_FORWARDED_PROTO'],
    ['X_Forwarded_Prefix', 'HTTP_X_FORWARDED_PREFIX'],
    ['X_Original_URL', 'HTTP_X_ORIGINAL_URL'],
    ['X_Api_Key', 'HTTP_X_API_KEY'],
    ['X_Request_ID', 'HTTP_X_REQUEST_ID'],
    ['Proxy_Authorization', 'HTTP_PROXY_AUTHORIZATION'],
  ])(
    'should still never pass %s, which folds onto a header the gateway owns',
    async (name, cgi) => {
      const r = await send(gw.url, '/x', { headers: { 'x-api-key': API_KEY, [name]: 'forged' } });
      expect(r.status).toBe(200);
      expect(r.json<Record<string, string>>()[cgi] ?? '').not.toContain('forged');
    },
  );

  it('should never pass a raw underscore header line either', async () => {
    const raw = await rawExchange(
      gw.port,
      `GET /x HTTP/1.1\r\nHost: a.example\r\nX-Api-Key: ${API_KEY}\r\nX_USER_ID: forged\r\nx_user-id: forged2\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).not.toContain('forged');
  });
});

describe('forwarding headers from a trusted proxy, or allowed by the operator (e2e)', () => {
  let echo: TestUpstream;
  let trusted: TestGateway;
  let allowed: TestGateway;

  beforeAll(async () => {
    echo = await startUpstream(cacheableEcho);
    const routes = [{ name: 'echo', prefix: '/', upstreams: [echo.url], cache: CACHED }];
    trusted = await startGateway(config(routes, { trustedProxies: ['127.0.0.1/32'] }));
    const defaults = testConfig([]).proxy.stripClientHeaders;
    allowed = await startGateway(
      config(routes, {
        stripClientHeaders: defaults.filter((h) => h !== 'x-forwarded-prefix'),
      }),
    );
  });

  afterAll(async () => {
    await trusted.close();
    await allowed.close();
    await echo.close();
  });

  it.each([
    ['trusted', () => trusted],
    ['allowed', () => allowed],
  ])('%s: should pass X-Forwarded-Prefix and key the answer on it', async (_n, gw) => {
    const p = `/prefix/${_n}`;
    const a = await send(gw().url, p, { headers: { 'x-forwarded-prefix': '/one' } });
    expect(echo.requests.at(-1)!.headers['x-forwarded-prefix']).toBe('/one');
    const b = await send(gw().url, p, { headers: { 'x-forwarded-prefix': '/two' } });
    expect(b.json<{ headers: Record<string, string> }>().headers['x-forwarded-prefix']).toBe(
      '/two',
    );
    const none = await send(gw().url, p);
    expect(none.text).not.toContain('x-forwarded-prefix');
    const again = await send(gw().url, p, { headers: { 'x-forwarded-prefix': '/one' } });
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.text).toBe(a.text);
  });

  it('should never cache the answer to a method override', async () => {
    const before = echo.requests.length;
    for (let i = 0; i < 2; i++) {
      const r = await send(trusted.url, '/override', {
        headers: { 'x-http-method-override': 'DELETE' },
      });
      expect(r.headers['x-cache']).toBe('BYPASS');
    }
    expect(echo.requests.length).toBe(before + 2);
    expect(echo.requests.at(-1)!.headers['x-http-method-override']).toBe('DELETE');
  });

  it('should never store the answer to a POST with a method override for later GETs', async () => {
    const plain = await send(trusted.url, '/self/post', { method: 'POST', body: 'x' });
    expect(plain.headers['cache-status']).toContain('stored');
    expect((await send(trusted.url, '/self/post')).headers['x-cache']).toBe('HIT');
    const p = '/self/override-post';
    const post = await send(trusted.url, p, {
      method: 'POST',
      body: 'x',
      headers: { 'x-http-method-override': 'PUT' },
    });
    expect(post.headers['cache-status']).not.toContain('stored');
    expect((await send(trusted.url, p)).headers['x-cache']).toBe('MISS');
  });

  it('should pass client-address headers from a trusted proxy', async () => {
    await send(trusted.url, '/ip', { headers: { 'true-client-ip': '198.51.100.7' } });
    expect(echo.requests.at(-1)!.headers['true-client-ip']).toBe('198.51.100.7');
  });

  it("should rewrite a trusted proxy's Forwarded to what the gateway resolved and keys on", async () => {
    await send(trusted.url, '/fwd', {
      headers: {
        host: 'www.example.com',
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-host': 'public.example:8443',
        'x-forwarded-proto': 'https',
        forwarded: 'for=6.6.6.6;host=evil.example;proto=http',
      },
    });
    expect(echo.requests.at(-1)!.headers.forwarded).toBe(
      'for=198.51.100.7;host="public.example:8443";proto=https',
    );
  });
});

describe('Accept-Encoding variants (e2e)', () => {
  let enc: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    // Prefers deflate whenever it is listed, whatever the q-values say (many servers do).
    enc = await startUpstream((req, res) => {
      const accept = String(req.headers['accept-encoding'] ?? '');
      const text = Buffer.from('x'.repeat(2000));
      const [coding, body] = accept.includes('deflate')
        ? ['deflate', deflateSync(text)]
        : accept.includes('gzip')
          ? ['gzip', gzipSync(text)]
          : ['identity', text];
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': 'max-age=60',
        vary: 'Accept-Encoding',
        ...(coding === 'identity' ? {} : { 'content-encoding': coding }),
      });
      res.end(body);
    });
    gw = await startGateway(
      config([{ name: 'enc', prefix: '/', upstreams: [enc.url], cache: CACHED }]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await enc.close();
  });

  it('should never give a gzip-only client a coding it did not accept', async () => {
    const odd = await send(gw.url, '/text', {
      headers: { 'accept-encoding': 'gzip;q=0.5, deflate' },
    });
    expect(odd.status).toBe(200);
    // The upstream was asked for exactly what the variant is keyed by.
    expect(enc.requests.at(-1)!.headers['accept-encoding']).toBe('gzip');
    const gzipOnly = await send(gw.url, '/text', { headers: { 'accept-encoding': 'gzip' } });
    expect(['gzip', undefined]).toContain(gzipOnly.headers['content-encoding']);
  });

  it('should ask for identity when the client accepts nothing the variant key knows', async () => {
    await send(gw.url, '/text2', { headers: { 'accept-encoding': 'deflate' } });
    expect(enc.requests.at(-1)!.headers['accept-encoding']).toBe('identity');
    const plain = await send(gw.url, '/text2', { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
  });
});

describe('credential headers on routes without authentication (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    // Answers a key holder with their own data; says nothing about sharing (no `public`).
    up = await startUpstream((req, res) => {
      const key = req.headers['x-api-key'];
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end(key === undefined ? 'anonymous view' : `private data of ${String(key)}`);
    });
    gw = await startGateway(
      config([{ name: 'open', prefix: '/', upstreams: [up.url], cache: CACHED }]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it("should never hand a key holder's answer to an anonymous client", async () => {
    const keyed = await send(gw.url, '/me', { headers: { 'x-api-key': 'k-123' } });
    expect(keyed.text).toBe('private data of k-123');
    const anon = await send(gw.url, '/me');
    expect(anon.text).toBe('anonymous view');
  });

  it('should not serve an anonymous entry to a key holder either', async () => {
    await send(gw.url, '/me2');
    const keyed = await send(gw.url, '/me2', { headers: { 'x-api-key': 'k-123' } });
    expect(keyed.text).toBe('private data of k-123');
  });
});

describe('API keys that share a name (e2e, Redis)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let redis: Redis;
  const stamp = Date.now();
  const first = `partner-one-${stamp}-0123456789`;
  const second = `partner-two-${stamp}-0123456789`;

  beforeAll(async () => {
    const url = process.env.TEST_REDIS_URL;
    if (!url) {
      throw new Error('TEST_REDIS_URL is not set: the e2e globalSetup starts redis-server');
    }
    redis = new Redis(url);
    // Two partners, each given a key labelled "partner" by a different operator.
    await redis.hset(REDIS_API_KEYS, sha256(first), JSON.stringify({ name: 'partner' }));
    await redis.hset(REDIS_API_KEYS, sha256(second), JSON.stringify({ name: 'partner' }));
    up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end(`data for ${String(req.headers['x-api-key'])}`);
    });
    const base = config([
      {
        name: 'partners',
        prefix: '/',
        requireAuth: true,
        upstreams: [up.url],
        cache: CACHED,
        rateLimit: { rate: 0.001, burst: 2, key: 'api_key' },
      },
    ]);
    gw = await startGateway({ ...base, redis: { ...base.redis, url } });
    const service = gw.gateway.app.get(RedisService);
    await waitFor(() => service.isReady, 10_000);
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
    await redis.hdel(REDIS_API_KEYS, sha256(first), sha256(second));
    await redis.quit();
  });

  it('should keep their cached answers and rate-limit buckets apart', async () => {
    const a = await send(gw.url, '/report', { headers: { 'x-api-key': first } });
    expect(a.text).toBe(`data for ${first}`);
    const b = await send(gw.url, '/report', { headers: { 'x-api-key': second } });
    expect(b.status).toBe(200);
    expect(b.text).toBe(`data for ${second}`);
    // Each key has its own bucket of 2: the second key's second request is still allowed.
    expect((await send(gw.url, '/other', { headers: { 'x-api-key': second } })).status).toBe(200);
    expect((await send(gw.url, '/third', { headers: { 'x-api-key': second } })).status).toBe(429);
    // The access log still names the key by its label.
    const line = gw.logs.find((l) => l.requestId === a.headers['x-request-id']);
    expect(line?.principal).toBe('partner');
  });
});
