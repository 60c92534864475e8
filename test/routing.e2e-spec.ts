import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

type Echo = { url: string; headers: Record<string, string> };

describe('routing (e2e)', () => {
  let a: TestUpstream; // any-host routes
  let b: TestUpstream; // exact host
  let c: TestUpstream; // wildcard host
  let d: TestUpstream; // based target
  let gw: TestGateway;

  beforeAll(async () => {
    [a, b, c, d] = await Promise.all([
      startUpstream(),
      startUpstream(),
      startUpstream(),
      startUpstream(),
    ]);
    gw = await startGateway(
      testConfig([
        { name: 'api', prefix: '/api', upstreams: [a.url] },
        { name: 'api-v1', prefix: '/api/v1', stripPrefix: true, upstreams: [a.url] },
        { name: 'exact', host: 'shop.example.com', prefix: '/', upstreams: [b.url] },
        {
          name: 'exact-preserve',
          host: 'keep.example.com',
          prefix: '/',
          preserveHost: true,
          upstreams: [b.url],
        },
        { name: 'wild', host: '*.example.com', prefix: '/', upstreams: [c.url] },
        {
          name: 'based',
          prefix: '/svc',
          stripPrefix: true,
          upstreams: [`${d.url}/base/v2?key=1`],
        },
        { name: 'pub', prefix: '/pub', stripPrefix: true, upstreams: [d.url] },
      ]),
    );
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([a, b, c, d].map((u) => u.close()));
  });

  const get = async (path: string, host?: string) => {
    const r = await send(gw.url, path, { headers: host ? { host } : {} });
    return { status: r.status, echo: r.status === 200 ? r.json<Echo>() : undefined, reply: r };
  };

  it('should pick the longest prefix on segment boundaries', async () => {
    expect((await get('/api/v1/users')).echo?.url).toBe('/users');
    expect((await get('/api/v11')).echo?.url).toBe('/api/v11');
    expect((await get('/api')).echo?.url).toBe('/api');
    expect((await get('/api/v1')).echo?.url).toBe('/');
  });

  it('should answer 404 JSON when no route matches', async () => {
    const r = await get('/nothing-here');
    expect(r.status).toBe(404);
    expect(r.reply.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(r.reply.json().requestId).toBe(r.reply.headers['x-request-id']);
  });

  it('should prefer an exact host, then a wildcard, then any host', async () => {
    await get('/x', 'shop.example.com');
    expect(b.requests.at(-1)?.url).toBe('/x');
    await get('/x', 'SHOP.example.com:9777');
    expect(b.requests.at(-1)?.url).toBe('/x');
    const before = c.requests.length;
    await get('/y', 'a.b.example.com');
    expect(c.requests.length).toBe(before + 1);
    expect((await get('/api/z', 'example.com')).echo?.url).toBe('/api/z');
  });

  it('should send the upstream host unless preserve_host is set', async () => {
    expect((await get('/h', 'shop.example.com')).echo?.headers.host).toBe(`127.0.0.1:${b.port}`);
    expect((await get('/h', 'keep.example.com')).echo?.headers.host).toBe('keep.example.com');
  });

  it('should join the target base path and merge queries', async () => {
    expect((await get('/svc/items?x=2')).echo?.url).toBe('/base/v2/items?key=1&x=2');
    expect((await get('/svc')).echo?.url).toBe('/base/v2/?key=1');
  });

  it.each([
    ['/pub/../api/secret', '/api/secret', 'api'],
    ['/pub/%2e%2e/api/secret', '/api/secret', 'api'],
    ['/pub/%2E%2E/%2e%2e/etc/passwd', null, 400],
    ['/pub/..%2fapi', null, 400],
    ['/pub/%5c..%5capi', null, 400],
    ['/pub/a/../b', '/b', 'pub'],
    ['/pub//x', '/x', 'pub'],
  ])('should never let %p escape its route', async (path, upstreamPath, expected) => {
    const beforeD = d.requests.length;
    const r = await get(path);
    if (expected === 400) {
      expect(r.status).toBe(400);
      expect(d.requests.length).toBe(beforeD);
      return;
    }
    if (expected === 'pub') {
      expect(d.requests.at(-1)?.url).toBe(upstreamPath);
    } else {
      // Resolved before matching: it is a request for /api/secret, routed (and later authorised)
      // as that path, never forwarded to the pub upstream as a traversal.
      expect(d.requests.length).toBe(beforeD);
      expect(r.echo?.url).toBe(upstreamPath);
    }
  });

  it("should give every path of a host route's host to its upstream, the gateway's own included", async () => {
    // /docs on billing's host is billing's Swagger UI, not the gateway's.
    for (const path of [
      '/docs',
      '/docs-json',
      '/health',
      '/health/ready',
      '/metrics',
      '/admin/routes',
      '/stats',
    ]) {
      const exact = await get(path, 'shop.example.com');
      expect([path, exact.status, exact.echo?.url]).toEqual([path, 200, path]);
      const wild = await get(path, 'x.example.com');
      expect([path, wild.status, wild.echo?.url]).toEqual([path, 200, path]);
    }
    expect(b.requests.filter((q) => q.url === '/docs')).toHaveLength(1);
    expect(c.requests.filter((q) => q.url === '/docs')).toHaveLength(1);

    // With a body, streamed through like any proxied request.
    const posted = await send(gw.url, '/docs/upload', {
      method: 'POST',
      headers: { host: 'shop.example.com', 'content-type': 'text/plain', 'content-length': '5' },
      body: 'hello',
    });
    expect(posted.status).toBe(200);
    expect(b.requests.find((q) => q.url === '/docs/upload')?.body.toString()).toBe('hello');
    // One access line, as for any proxied request.
    const line = gw.logs.find((l) => l.requestId === posted.headers['x-request-id']);
    expect(line).toMatchObject({ route: 'exact', status: 200, path: '/docs/upload' });
  });

  it('should keep the gateway paths on hosts no host route claims, never proxied', async () => {
    for (const host of [undefined, 'example.com', 'other.test']) {
      const r = await get('/health', host);
      expect(r.status).toBe(200);
      expect(r.reply.json()).toMatchObject({ status: 'healthy' });
      // The admin API is off here: a reserved path answers 404, never an upstream.
      expect((await get('/admin/routes', host)).status).toBe(404);
    }
    expect(a.requests.some((q) => q.url === '/health' || q.url.startsWith('/admin'))).toBe(false);
  });
});

describe("WebSockets on the gateway's paths (e2e)", () => {
  let wss: WebSocketServer;
  let gw: TestGateway;
  const seen: string[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket, req) => {
      seen.push(req.url ?? '');
      socket.send(`hello ${req.url}`);
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const wsUrl = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
    gw = await startGateway(
      testConfig([
        { name: 'chat', host: 'chat.example.com', prefix: '/', upstreams: [wsUrl] },
        { name: 'any', prefix: '/', upstreams: [wsUrl] },
      ]),
    );
  });
  afterAll(async () => {
    await gw.close();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  const open = (path: string, host: string): Promise<string> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, { headers: { host } });
      ws.once('message', (m: Buffer) => {
        ws.close();
        resolve(m.toString());
      });
      ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.once('error', (err) => resolve(`error ${err.message}`));
    });

  it("should give a host route's host every path, the gateway's own included, and keep them elsewhere", async () => {
    expect(await open('/health/socket', 'chat.example.com')).toBe('hello /health/socket');
    expect(await open('/admin/socket', 'chat.example.com')).toBe('hello /admin/socket');
    // On a host no host route claims, a gateway path is never proxied, for upgrades too.
    expect(await open('/health/socket', 'other.test')).toBe('refused 404');
    expect(await open('/admin/socket', '127.0.0.1')).toBe('refused 404');
    expect(await open('/chat', 'other.test')).toBe('hello /chat');
    expect(seen).toEqual(['/health/socket', '/admin/socket', '/chat']);
  });
});
