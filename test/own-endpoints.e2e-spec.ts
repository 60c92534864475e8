import type { GatewayConfig } from '../src/config/gateway-config.types';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send, sleep, type Reply } from './fixtures/http';
import { spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/*
 * The gateway's own endpoints (health, metrics, stats, monitor, docs, admin) get the edge checks
 * proxied requests get: deny list, flood blocks and a per-client limit. Clients are told apart by
 * their loopback source address (all of 127/8 is local), so each case is its own client.
 */

const TOKEN = 'own-endpoints-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** Every own endpoint, with the headers a legitimate client sends. */
const OWN_PATHS: [string, Record<string, string>][] = [
  ['/health', {}],
  ['/health/live', {}],
  ['/health/ready', {}],
  ['/metrics', {}],
  ['/stats', {}],
  ['/monitor', {}],
  ['/monitor/monitor.js', {}],
  ['/api/system-metrics', {}],
  ['/docs', {}],
  ['/docs-json', {}],
  ['/docs/swagger-ui.css', {}],
  ['/docs/swagger-ui-init.js', {}],
  ['/admin/routes', AUTH],
  ['/admin/blocks', AUTH],
];

const statusLine = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

/** The gateway's error shape, its request id and the security headers. */
function expectGatewayError(res: Reply, status: number, requestId?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<{
    statusCode: number;
    error: string;
    message: string;
    requestId: string;
  }>();
  expect(Object.keys(body).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
  expect(body.statusCode).toBe(status);
  expect(body.requestId).toBe(res.headers['x-request-id']);
  if (requestId !== undefined) {
    expect(body.requestId).toBe(requestId);
  }
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['cache-control']).toBe('no-store');
}

function edgeConfig(up: TestUpstream, security: Partial<GatewayConfig['security']>): GatewayConfig {
  const base = testConfig([]);
  return testConfig([{ name: 'api', prefix: '/', upstreams: [up.url] }], {
    admin: { token: TOKEN },
    security: { ...base.security, ...security },
  });
}

describe("the gateway's own endpoints at the edge (e2e)", () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(
      edgeConfig(up, {
        ipBlacklist: ['127.0.0.3'],
        ddosThreshold: 40,
        ownEndpointsRate: 1,
        ownEndpointsBurst: 10,
      }),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should serve every own endpoint to a well-behaved client', async () => {
    for (const [i, [path, headers]] of OWN_PATHS.entries()) {
      const res = await send(gw.url, path, { headers, localAddress: `127.0.1.${i + 1}` });
      expect([path, res.status]).toEqual([path, 200]);
    }
  });

  it('should refuse a denylisted client on every own endpoint with 403 in the gateway shape', async () => {
    for (const [path, headers] of OWN_PATHS) {
      const res = await send(gw.url, path, {
        headers: { ...headers, 'x-request-id': 'denied-1' },
        localAddress: '127.0.0.3',
      });
      expect([path, res.status]).toEqual([path, 403]);
      expectGatewayError(res, 403, 'denied-1');
    }
    expect(up.requests).toHaveLength(0);
  });

  it('should limit each client on the own endpoints together, apart from proxied traffic', async () => {
    const client = { localAddress: '127.0.0.4' };
    const started = Date.now();
    let admitted = 0;
    let refused: Reply | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const res = await send(gw.url, '/metrics', client);
      if (res.status === 200) {
        admitted++;
      } else {
        refused = res;
      }
    }
    // A burst of 10, plus 1 per second for however long the loop took on this machine.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + Math.ceil((Date.now() - started) / 1000));
    expectGatewayError(refused!, 429);
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused!.headers['ratelimit-policy']).toMatch(/^"own-endpoints";q=10/);
    // One bucket for all own endpoints, the admin API included.
    expect((await send(gw.url, '/health/live', client)).status).toBe(429);
    expect((await send(gw.url, '/admin/routes', { ...client, headers: AUTH })).status).toBe(429);
    // Other clients, and this client's proxied requests, are not affected.
    expect((await send(gw.url, '/metrics', { localAddress: '127.0.0.5' })).status).toBe(200);
    expect((await send(gw.url, '/api/x', client)).status).toBe(200);
    await sleep(1100);
    expect((await send(gw.url, '/stats', client)).status).toBe(200);
  });

  it('should count own-endpoint requests towards the flood block, which then covers proxied paths', async () => {
    const client = { localAddress: '127.0.0.6' };
    const statuses: number[] = [];
    // 45, not 41: a sliding-window edge in the middle may discount a few.
    for (let i = 0; i < 45; i++) {
      statuses.push((await send(gw.url, '/health/live', client)).status);
    }
    expect(statuses.slice(0, 10)).toEqual(new Array(10).fill(200));
    const blocked = await send(gw.url, '/api/x', client);
    expectGatewayError(blocked, 429);
    expect(blocked.headers['ratelimit-policy']).toMatch(/^"flood"/);
    expect((await send(gw.url, '/health', client)).headers['ratelimit-policy']).toMatch(/^"flood"/);
    expect((await send(gw.url, '/api/x', { localAddress: '127.0.0.7' })).status).toBe(200);
  });

  it('should reuse a rendering of /metrics for about a second', async () => {
    const requests = (text: string): number =>
      [...text.matchAll(/^http_requests_total\{[^}]*endpoint="api"[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    const client = { localAddress: '127.0.0.8' };
    // Bounded retries: the two scrapes must fall within one second on a busy machine.
    let same = false;
    for (let attempt = 0; attempt < 5 && !same; attempt++) {
      await sleep(1100);
      const started = Date.now();
      const first = await send(gw.url, '/metrics', client);
      await send(gw.url, '/api/counted', client);
      const second = await send(gw.url, '/metrics', client);
      if (Date.now() - started < 800) {
        expect(second.text).toBe(first.text);
        same = true;
      }
    }
    expect(same).toBe(true);
    await sleep(1100);
    const before = requests((await send(gw.url, '/metrics', client)).text);
    await send(gw.url, '/api/counted', client);
    await sleep(1100);
    expect(requests((await send(gw.url, '/metrics', client)).text)).toBe(before + 1);
  });

  describe("Fastify's own errors", () => {
    it.each(['/%', '/api/%ff', '/%zz', '/api/%c3%28', '/health/%', '/admin/%e0%80'])(
      'should answer %s with 400 in the gateway shape',
      async (path) => {
        const res = await send(gw.url, path, {
          headers: { 'x-request-id': 'bad-url-1' },
          localAddress: '127.0.0.9',
        });
        expectGatewayError(res, 400, 'bad-url-1');
        expect(res.json<{ message: string }>().message).toMatch(/^Invalid request path/);
      },
    );

    it.each(['http:///x', 'ftp://a.example/x', 'HTTP://a.example:99999/x'])(
      'should answer the target %s, which no route takes, with 404 in the gateway shape',
      async (target) => {
        const raw = await rawExchange(
          gw.port,
          `GET ${target} HTTP/1.1\r\nHost: a\r\nX-Request-Id: odd-target-1\r\nConnection: close\r\n\r\n`,
          3000,
          '127.0.0.9',
        );
        expect([400, 404]).toContain(statusLine(raw));
        expect(raw).toContain('"requestId":"odd-target-1"');
        expect(raw).not.toContain('Cannot GET');
        expect(raw.toLowerCase()).toContain('x-content-type-options: nosniff');
      },
    );

    it('should answer an unparseable Content-Type with 415 in the gateway shape', async () => {
      const res = await send(gw.url, '/api/x', {
        method: 'POST',
        headers: { 'content-type': ';;;', 'x-request-id': 'bad-type-1' },
        body: 'x',
        localAddress: '127.0.0.9',
      });
      expectGatewayError(res, 415, 'bad-type-1');
      expect(up.requests.some((r) => r.url === '/api/x' && r.method === 'POST')).toBe(false);
    });

    it('should refuse a denylisted client before answering them', async () => {
      expectGatewayError(await send(gw.url, '/%', { localAddress: '127.0.0.3' }), 403);
      const typed = await send(gw.url, '/api/x', {
        method: 'POST',
        headers: { 'content-type': ';;;' },
        body: 'x',
        localAddress: '127.0.0.3',
      });
      expectGatewayError(typed, 403);
    });

    it('should count them towards the flood block', async () => {
      const client = { localAddress: '127.0.0.10' };
      for (let i = 0; i < 45; i++) {
        await send(gw.url, i % 2 === 0 ? '/%' : '/api/%ff', client);
      }
      const blocked = await send(gw.url, '/api/x', client);
      expectGatewayError(blocked, 429);
      expect(blocked.headers['ratelimit-policy']).toMatch(/^"flood"/);
    });
  });

  describe('TRACE', () => {
    it('should answer 405 on proxied and own paths and never reach the upstream', async () => {
      const before = up.requests.length;
      for (const path of ['/api/x', '/', '/health', '/metrics', '/admin/routes']) {
        const res = await send(gw.url, path, {
          method: 'TRACE',
          headers: { cookie: 'session=secret', ...AUTH },
          localAddress: '127.0.0.11',
        });
        expectGatewayError(res, 405);
        expect(res.text).not.toContain('secret');
      }
      expect(up.requests.length).toBe(before);
    });

    it('should still refuse a denylisted client first', async () => {
      expectGatewayError(
        await send(gw.url, '/api/x', { method: 'TRACE', localAddress: '127.0.0.3' }),
        403,
      );
    });

    it('should proxy TRACE with ALLOW_TRACE=true', async () => {
      const open = await startGateway(edgeConfig(up, { allowTrace: true }));
      try {
        const res = await send(open.url, '/api/traced', { method: 'TRACE' });
        expect(res.status).toBe(200);
        expect(up.requests.at(-1)).toMatchObject({ method: 'TRACE', url: '/api/traced' });
      } finally {
        await open.close();
      }
    });
  });
});

describe('the admin listener never proxies (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let adminPort: number;

  beforeAll(async () => {
    up = await startUpstream();
    const base = testConfig([]);
    gw = await startGateway(
      testConfig([{ name: 'all', prefix: '/', upstreams: [up.url] }], {
        admin: { token: TOKEN, listen: { host: '127.0.0.1', port: 0 } },
        security: { ...base.security, ipBlacklist: ['127.0.0.3'] },
      }),
    );
    adminPort = Number(new URL(gw.gateway.adminUrl ?? '').port);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const spellings = [
    '/health/../x',
    '/health/../web/x',
    '/admin/../x',
    '/health/%2e%2e/web/x',
    '/health/.%2e/x',
    '/health/%2E%2E/x',
    '/admin/routes/../../x',
    '/docs/../x',
    '/metrics/../x',
    '/monitor/../../x',
    '/health/live/../../x',
    '//health/..//x',
    '/health//../x',
    '/health/./../x',
    '/%68ealth/../x',
    '/health/..;/x',
    '/health/..%2fx',
    '/health%2f..%2fx',
    '/health/%252e%252e/x',
    '/health/%c0%ae%c0%ae/x',
    '/health/x/..',
    '/HEALTH/../x',
    '/health/nothing',
    '/x',
    'http://127.0.0.1/health/../x',
    'http://127.0.0.1/x',
    'http://127.0.0.1/health',
    '*',
  ];

  it.each(spellings)('should never route %s to an upstream', async (target) => {
    const raw = await rawExchange(
      adminPort,
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      5000,
    );
    const status = statusLine(raw);
    expect([target, [400, 404].includes(status)]).toEqual([target, true]);
    expect(raw).toMatch(/"requestId":/);
    expect(raw.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(up.requests).toHaveLength(0);
  });

  it('should not route an Upgrade request or another method either', async () => {
    for (const head of [
      'GET /health/../x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      'POST /admin/../x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
      'PROPFIND /health/%2e%2e/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      'DELETE /docs/../x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ]) {
      const raw = await rawExchange(adminPort, head, 1500);
      expect([400, 404]).toContain(statusLine(raw));
    }
    expect(up.requests).toHaveLength(0);
  });

  it('should serve the canonical form of an own path, and refuse a denylisted client', async () => {
    const canonical = await rawExchange(
      adminPort,
      'GET /health/x/../live HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(statusLine(canonical)).toBe(200);
    expect(canonical).toContain('{"status":"ok"}');
    const denied = await rawExchange(
      adminPort,
      'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      3000,
      '127.0.0.3',
    );
    expect(statusLine(denied)).toBe(403);
    const deniedOwn = await send(`http://127.0.0.1:${adminPort}`, '/metrics', {
      localAddress: '127.0.0.3',
    });
    expectGatewayError(deniedOwn, 403);
  });

  it('should answer a request its parser rejects in the gateway shape', async () => {
    const raw = await rawExchange(
      adminPort,
      'GET /health HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n',
    );
    expect(statusLine(raw)).toBe(400);
    expect(raw).toMatch(/"requestId":/);
  });
});

describe('one client hammering /metrics (e2e, spawned gateway)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(() => up.close());

  it('should answer the flooder 429 while other clients keep being served', async () => {
    const gw = await spawnGateway({
      SERVICE_ROUTES: JSON.stringify([{ name: 'api', prefix: '/api', target_url: up.url }]),
      ENABLE_CACHING: 'false',
      LOG_LEVEL: 'warn',
    });
    try {
      const flooder = { localAddress: '127.0.0.20', agent: false as const };
      const other = { localAddress: '127.0.0.21' };
      const deadline = Date.now() + 6_000;
      const flood: Record<number, number> = {};
      let floodSent = 0;
      const floodLoop = async (): Promise<void> => {
        while (Date.now() < deadline && floodSent < 3_000) {
          floodSent++;
          const status = (await send(gw.url, '/metrics', flooder)).status;
          flood[status] = (flood[status] ?? 0) + 1;
        }
      };
      const served: number[] = [];
      const otherLoop = async (): Promise<void> => {
        for (let i = 0; i < 60 && Date.now() < deadline; i++) {
          served.push((await send(gw.url, i % 3 === 0 ? '/health' : `/api/${i}`, other)).status);
          await sleep(20);
        }
      };
      await Promise.all([...Array.from({ length: 8 }, floodLoop), otherLoop()]);

      expect(flood[429]).toBeGreaterThan(0);
      // The default own-endpoint budget: a burst of 100, then 20 per second.
      expect(flood[200] ?? 0).toBeLessThanOrEqual(100 + 20 * 8);
      expect(served.length).toBeGreaterThan(10);
      expect(served.every((s) => s === 200)).toBe(true);
    } finally {
      await gw.stop();
    }
  });
});
