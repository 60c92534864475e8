import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send } from './fixtures/http';
import { testAuthConfig } from './fixtures/jwt';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const API_KEY = 'hostile-host-suite-key-0123456789';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * An application that builds absolute links from what the proxy tells it (as Rails, Django,
 * Spring and Express do with their forwarded-header support) and lets shared caches keep the
 * answer: exactly what a poisoned cache entry is made of.
 */
function reflector(tag: string) {
  let version = 0;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const host = String(req.headers['x-forwarded-host'] ?? req.headers.host);
    const proto = String(req.headers['x-forwarded-proto'] ?? 'http');
    const body = JSON.stringify({
      tag,
      version: ++version,
      url: req.url,
      host: req.headers.host,
      link: `${proto}://${host}/next`,
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'public, s-maxage=60, must-revalidate',
      link: `<${proto}://${host}/next>; rel="next"`,
    });
    res.end(body);
  };
}

const statusOf = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
const bodyOf = (raw: string): string => raw.slice(raw.indexOf('\r\n\r\n') + 4);

function cachingConfig(routes: Parameters<typeof testConfig>[0], trusted: string[] = []) {
  const base = testConfig([]);
  return testConfig(routes, {
    cache: { ...base.cache, enabled: true, compression: false, ttlMs: 60_000 },
    proxy: { ...base.proxy, trustedProxies: trusted },
    auth: testAuthConfig({ apiKeys: [{ hash: sha256(API_KEY), name: 'reports' }] }),
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
    },
  });
}

const CACHED = { enabled: true, allowSetCookie: false };

describe('hostile Host headers and the cache key (e2e)', () => {
  let reports: TestUpstream;
  let site: TestUpstream;
  let admin: TestUpstream;
  let kept: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    reports = await startUpstream(reflector('reports'));
    site = await startUpstream(reflector('site'));
    admin = await startUpstream(reflector('admin'));
    kept = await startUpstream(reflector('kept'));
    gw = await startGateway(
      cachingConfig([
        {
          name: 'reports',
          host: 'gw.example.com',
          prefix: '/api',
          requireAuth: true,
          upstreams: [reports.url],
          cache: CACHED,
        },
        {
          name: 'admin',
          host: 'admin.example.com',
          prefix: '/',
          requireAuth: true,
          upstreams: [admin.url],
          cache: CACHED,
        },
        {
          name: 'kept',
          host: 'kept.example.com',
          prefix: '/',
          preserveHost: true,
          upstreams: [kept.url],
          cache: CACHED,
        },
        { name: 'site', prefix: '/', upstreams: [site.url], cache: CACHED },
      ]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([reports.close(), site.close(), admin.close(), kept.close()]);
  });

  const upstreamCalls = () =>
    reports.requests.length + site.requests.length + admin.requests.length + kept.requests.length;

  it('should never serve a protected route its cached answer to an anonymous Host spelling', async () => {
    // A key holder fetches a report; the answer says shared caches may keep it (public).
    const owner = await send(gw.url, '/api/reports/q3', {
      headers: { host: 'gw.example.com', 'x-api-key': API_KEY },
    });
    expect(owner.status).toBe(200);
    expect(owner.json().tag).toBe('reports');
    // Anonymous: the same key text by string concatenation, routed to the any-host route.
    const anon = await send(gw.url, '/reports/q3', { headers: { host: 'gw.example.com/api' } });
    expect(anon.status).toBe(400);
    expect(anon.text).not.toContain('"tag":"reports"');
    expect(anon.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(anon.json().requestId).toBe(anon.headers['x-request-id']);
  });

  it('should never let an anonymous answer be stored under a protected URL', async () => {
    const before = site.requests.length;
    const anon = await send(gw.url, '/reports/q4', { headers: { host: 'gw.example.com/api' } });
    expect(anon.status).toBe(400);
    expect(site.requests.length).toBe(before);
    const owner = await send(gw.url, '/api/reports/q4', {
      headers: { host: 'gw.example.com', 'x-api-key': API_KEY },
    });
    expect(owner.json().tag).toBe('reports');
  });

  it('should refuse Host spellings that escape an exact-host route', async () => {
    for (const host of [
      'admin.example.com:80:',
      'admin.example.com:80:80',
      'admin.example.com.:',
    ]) {
      const r = await send(gw.url, '/panel', { headers: { host } });
      // Either refused, or routed to the exact-host route that requires a credential.
      expect([400, 401]).toContain(r.status);
    }
    expect(admin.requests.length + site.requests.filter((q) => q.url === '/panel').length).toBe(0);
  });

  it('should key on the port the upstream is told about', async () => {
    const poisoned = await send(gw.url, '/page/port', {
      headers: { host: 'www.example.com:1337' },
    });
    expect(poisoned.status).toBe(200);
    expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBe('www.example.com:1337');
    const victim = await send(gw.url, '/page/port', { headers: { host: 'www.example.com' } });
    expect(victim.json().link).toBe('http://www.example.com/next');
    expect(victim.headers.link).toBe('<http://www.example.com/next>; rel="next"');
  });

  it('should share one entry among spellings of the same authority', async () => {
    const a = await send(gw.url, '/page/same', { headers: { host: 'WWW.Example.com.:80' } });
    expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBe('www.example.com');
    const b = await send(gw.url, '/page/same', { headers: { host: 'www.example.com' } });
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.json().version).toBe(a.json().version);
  });

  it('should send a preserve_host upstream only the normalised authority', async () => {
    await send(gw.url, '/k', { headers: { host: 'KEPT.example.com.:0080' } });
    expect(kept.requests.at(-1)!.headers.host).toBe('kept.example.com');
    await send(gw.url, '/k2', { headers: { host: 'kept.example.com:08080' } });
    expect(kept.requests.at(-1)!.headers.host).toBe('kept.example.com:8080');
    expect(kept.requests.at(-1)!.headers['x-forwarded-host']).toBe('kept.example.com:8080');
  });

  it.each([
    ['userinfo with an empty port', 'Host: www.example.com:@evil.example'],
    ['userinfo', 'Host: user@evil.example'],
    ['a path', 'Host: www.example.com/../../etc'],
    ['a space', 'Host: a b'],
    ['an unclosed IPv6 literal', 'Host: [::1'],
    ['a bare IPv6 literal', 'Host: ::1'],
    ['an IPv6 zone id', 'Host: [fe80::1%25eth0]'],
    ['a non-numeric port', 'Host: www.example.com:http'],
    ['a port out of range', 'Host: www.example.com:65536'],
    ['port zero', 'Host: www.example.com:0'],
    ['two ports', 'Host: www.example.com:80:80'],
    ['percent-encoding', 'Host: www.ex%61mple.com'],
    ['a sub-delimiter', 'Host: www.example.com,evil.example'],
    ['an empty label', 'Host: www..example.com'],
    ['a leading dot', 'Host: .example.com'],
    ['UTF-8', 'Host: ex\u00e4mple.com'],
    ['a control character', 'Host: ex\u0001ample.com'],
    ['a tab', 'Host: ex\tample.com'],
    ['a trailing colon after a port', 'Host: www.example.com:80:'],
    ['an empty value', 'Host: '],
    ['two Host lines', 'Host: www.example.com\r\nHost: evil.example'],
    ['two Host lines, same value', 'Host: www.example.com\r\nhost: www.example.com'],
    ['no Host at all (HTTP/1.1)', ''],
  ])('should answer 400 in the JSON error shape to %s and reach no upstream', async (_n, line) => {
    const before = upstreamCalls();
    const raw = await rawExchange(
      gw.port,
      Buffer.from(
        `GET /page/h HTTP/1.1\r\n${line ? `${line}\r\n` : ''}Connection: close\r\n\r\n`,
        'latin1',
      ),
    );
    expect(statusOf(raw)).toBe(400);
    const body = JSON.parse(bodyOf(raw)) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(typeof body.requestId).toBe('string');
    expect(raw.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(upstreamCalls()).toBe(before);
  });

  it('should refuse a WebSocket upgrade with an invalid Host the same way', async () => {
    const before = upstreamCalls();
    const raw = await rawExchange(
      gw.port,
      'GET /ws HTTP/1.1\r\nHost: www.example.com:@evil.example\r\nUpgrade: websocket\r\n' +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\n',
      2000,
    );
    expect(statusOf(raw)).toBe(400);
    expect(upstreamCalls()).toBe(before);
  });

  it.each([
    ['an IPv6 literal', '[::1]:8080', '[::1]:8080'],
    ['a verbose IPv6 literal', '[0:0::1]', '[::1]'],
    ['an empty port', 'www.example.com:', 'www.example.com'],
    ['a trailing dot', 'www.example.com.', 'www.example.com'],
    ['an IPv4 address', '192.0.2.1:81', '192.0.2.1:81'],
  ])('should accept %s and forward its normal form', async (_n, host, forwarded) => {
    const r = await send(gw.url, '/page/ok', { headers: { host } });
    expect(r.status).toBe(200);
    // A HIT is fine too: the key is the normal form.
    if (r.headers['x-cache'] === 'MISS') {
      expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBe(forwarded);
    }
    expect(r.json().link).toBe(`http://${forwarded}/next`);
  });

  it('should accept HTTP/1.0 without Host on any-host routes', async () => {
    const raw = await rawExchange(gw.port, 'GET /page/old HTTP/1.0\r\n\r\n');
    expect(statusOf(raw.replace('HTTP/1.0', 'HTTP/1.1'))).toBe(200);
    expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBeUndefined();
  });

  describe('absolute-form request targets (RFC 9112 §3.2.2: the target authority wins)', () => {
    it('should route by the target authority, not by Host', async () => {
      const before = site.requests.length;
      const raw = await rawExchange(
        gw.port,
        'GET http://admin.example.com/panel HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(raw)).toBe(401);
      expect(site.requests.length).toBe(before);
    });

    it('should forward the target authority as the client host', async () => {
      const raw = await rawExchange(
        gw.port,
        'GET http://WWW.example.com:8080/abs/x?q=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(raw)).toBe(200);
      const seen = site.requests.at(-1)!;
      expect(seen.url).toBe('/abs/x?q=1');
      expect(seen.headers['x-forwarded-host']).toBe('www.example.com:8080');
    });

    it('should take an authority-only target as the root, keeping the query', async () => {
      const raw = await rawExchange(
        gw.port,
        'GET http://www.example.com?only=query HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n',
      );
      expect(statusOf(raw)).toBe(200);
      expect(site.requests.at(-1)!.url).toBe('/?only=query');
    });

    it.each([
      ['userinfo', 'http://user@www.example.com/x'],
      ['an invalid authority', 'http://www.example.com:@evil/x'],
    ])('should refuse a target with %s', async (_n, target) => {
      const before = upstreamCalls();
      const raw = await rawExchange(
        gw.port,
        `GET ${target} HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n`,
      );
      expect(statusOf(raw)).toBe(400);
      expect(upstreamCalls()).toBe(before);
    });

    it.each([
      ['an empty authority', 'http:///x'],
      ['another scheme', 'ftp://www.example.com/x'],
    ])('should never proxy a target with %s', async (_n, target) => {
      const before = upstreamCalls();
      const raw = await rawExchange(
        gw.port,
        `GET ${target} HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n`,
      );
      // Fastify's router answers these itself (404) before the proxy sees them.
      expect([400, 404]).toContain(statusOf(raw));
      expect(upstreamCalls()).toBe(before);
    });
  });

  describe("a client's Cache-Control: no-cache", () => {
    it('should not replace a fresh stored answer for everyone (ignored, as nginx and Varnish do)', async () => {
      const first = await send(gw.url, '/page/nc', { headers: { host: 'www.example.com' } });
      const forced = await send(gw.url, '/page/nc', {
        headers: { host: 'www.example.com', 'cache-control': 'no-cache', pragma: 'no-cache' },
      });
      const maxAge0 = await send(gw.url, '/page/nc', {
        headers: { host: 'www.example.com', 'cache-control': 'max-age=0' },
      });
      const later = await send(gw.url, '/page/nc', { headers: { host: 'www.example.com' } });
      expect(forced.headers['x-cache']).toBe('HIT');
      expect(maxAge0.headers['x-cache']).toBe('HIT');
      expect(later.json().version).toBe(first.json().version);
      expect(site.requests.filter((r) => r.url === '/page/nc')).toHaveLength(1);
    });
  });
});

describe("a trusted proxy's X-Forwarded-Host (e2e)", () => {
  let site: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    site = await startUpstream(reflector('site'));
    gw = await startGateway(
      cachingConfig(
        [{ name: 'site', prefix: '/', upstreams: [site.url], cache: CACHED }],
        ['127.0.0.1/32'],
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await site.close();
  });

  it('should key on the forwarded host it passes on', async () => {
    const evil = await send(gw.url, '/xfh/a', {
      headers: { host: 'www.example.com', 'x-forwarded-host': 'evil.example' },
    });
    expect(evil.json().link).toBe('http://evil.example/next');
    const victim = await send(gw.url, '/xfh/a', { headers: { host: 'www.example.com' } });
    expect(victim.json().link).toBe('http://www.example.com/next');
  });

  it('should validate and normalise it like Host, and pass on one value', async () => {
    await send(gw.url, '/xfh/b', {
      headers: { host: 'www.example.com', 'x-forwarded-host': 'WWW.Example.com.:80' },
    });
    expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBe('www.example.com');
    // A list (a proxy that appends): the entry our trusted peer added is the last one.
    await send(gw.url, '/xfh/c', {
      headers: { host: 'www.example.com', 'x-forwarded-host': 'evil.example, www.example.com' },
    });
    expect(site.requests.at(-1)!.headers['x-forwarded-host']).toBe('www.example.com');
  });

  it.each(['www.example.com:@evil.example', 'www.example.com/x', 'a b'])(
    'should answer 400 to X-Forwarded-Host %j',
    async (value) => {
      const before = site.requests.length;
      const r = await send(gw.url, '/xfh/d', {
        headers: { host: 'www.example.com', 'x-forwarded-host': value },
      });
      expect(r.status).toBe(400);
      expect(site.requests.length).toBe(before);
    },
  );

  it('should pass on exactly the scheme it keys on', async () => {
    await send(gw.url, '/xfh/e', {
      headers: { host: 'www.example.com', 'x-forwarded-proto': 'https, http' },
    });
    expect(site.requests.at(-1)!.headers['x-forwarded-proto']).toBe('http');
    const r = await send(gw.url, '/xfh/f', {
      headers: { host: 'www.example.com', 'x-forwarded-proto': 'HTTPS' },
    });
    expect(site.requests.at(-1)!.headers['x-forwarded-proto']).toBe('https');
    expect(r.json().link).toBe('https://www.example.com/next');
  });
});

describe("upstream redirects to the upstream's own address (proxy_redirect default) (e2e)", () => {
  let legacy: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    legacy = await startUpstream((req, res) => {
      const self = `http://127.0.0.1:${legacy.port}`;
      const url = req.url ?? '/';
      const location = url.includes('external')
        ? 'https://accounts.example/login'
        : url.includes('self-root')
          ? `${self}/v2/home`
          : `${self}/v2/login?next=%2Fv2%2Faccount`;
      res.writeHead(301, { location, 'cache-control': 'max-age=60', 'content-length': '0' });
      res.end();
    });
    gw = await startGateway(
      cachingConfig([
        {
          name: 'legacy',
          prefix: '/legacy',
          stripPrefix: true,
          upstreams: [`${legacy.url}/v2`],
          cache: CACHED,
        },
        {
          name: 'kept',
          host: 'kept.example.com',
          prefix: '/',
          preserveHost: true,
          upstreams: [`${legacy.url}/v2`],
          cache: CACHED,
        },
      ]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await legacy.close();
  });

  it('should turn it into the gateway path that maps to it, on a miss and on a hit', async () => {
    for (const expected of ['MISS', 'HIT']) {
      const r = await send(gw.url, '/legacy/account', { headers: { host: 'www.example.com' } });
      expect(r.status).toBe(301);
      expect(r.headers['x-cache']).toBe(expected);
      expect(r.headers.location).toBe('/legacy/login?next=%2Fv2%2Faccount');
    }
    const root = await send(gw.url, '/legacy/self-root');
    expect(root.headers.location).toBe('/legacy/home');
  });

  it('should leave other locations, and preserve_host routes, alone', async () => {
    const external = await send(gw.url, '/legacy/external');
    expect(external.headers.location).toBe('https://accounts.example/login');
    const kept = await send(gw.url, '/account', { headers: { host: 'kept.example.com' } });
    expect(kept.headers.location).toBe(
      `http://127.0.0.1:${legacy.port}/v2/login?next=%2Fv2%2Faccount`,
    );
  });
});
