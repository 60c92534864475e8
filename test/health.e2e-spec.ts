import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { ShutdownState } from '../src/health/shutdown-state';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, sleep, type Reply } from './fixtures/http';
import { echo, startUpstream, type TestUpstream } from './fixtures/upstream';

interface HealthBody {
  status: string;
  circuit_breaker: string;
  routes: { name: string; backends: { url: string; alive: boolean; ejected: boolean }[] }[];
  backends: { url: string; alive: boolean }[];
}

/** Fast probes so transitions happen within a test: 2 failures down, 1 pass up. */
const fastHealth = {
  algorithm: 'round-robin',
  healthCheckIntervalMs: 100,
  healthCheckTimeoutMs: 200,
  healthCheckFails: 2,
  healthCheckPasses: 1,
  passiveEjectFailures: 5,
  passiveEjectBaseMs: 30_000,
  stallTimeoutMs: 500,
} as const;

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(25);
  }
}

/** `alive` of the backend whose normalised URL is `url` (origins get a trailing `/`). */
async function alive(gw: TestGateway, url: string): Promise<boolean | undefined> {
  const body = (await send(gw.url, '/health')).json<HealthBody>();
  return body.backends.find((b) => b.url === url || b.url === `${url}/`)?.alive;
}

async function timed(gw: TestGateway, path: string): Promise<{ ms: number; reply: Reply }> {
  const start = performance.now();
  const reply = await send(gw.url, path);
  return { ms: performance.now() - start, reply };
}

function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

describe('Health (e2e)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) {
      await cleanups.pop()?.();
    }
  });

  async function gateway(...args: Parameters<typeof testConfig>): Promise<TestGateway> {
    const config = testConfig(...args);
    // These cases watch gauges change from one scrape to the next.
    const gw = await startGateway({
      ...config,
      observability: { ...config.observability, metricsCacheMs: 0 },
    });
    cleanups.push(() => gw.close());
    return gw;
  }

  async function upstream(...args: Parameters<typeof startUpstream>): Promise<TestUpstream> {
    const up = await startUpstream(...args);
    cleanups.push(() => up.close());
    return up;
  }

  it('should mark a killed upstream down and bring it back when restarted on the same port', async () => {
    const a = await upstream();
    const b = await upstream();
    const gw = await gateway([{ prefix: '/', upstreams: [a.url, b.url] }], {
      loadBalancing: fastHealth,
    });
    const gauge = (url: string, v: number): string =>
      `backend_health_status{backend="${url}/"} ${v}`;

    await eventually(async () => (await send(gw.url, '/metrics')).text.includes(gauge(a.url, 1)));
    expect(await alive(gw, a.url)).toBe(true);

    await a.close();
    await eventually(async () => (await alive(gw, a.url)) === false);
    const metrics = await send(gw.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toContain(gauge(a.url, 0));
    expect(metrics.text).toContain(gauge(b.url, 1));
    expect(metrics.text).toContain('process_cpu_user_seconds_total');

    // Traffic only reaches the live upstream meanwhile.
    const before = b.requests.length;
    for (let i = 0; i < 6; i++) {
      expect((await send(gw.url, '/x')).status).toBe(200);
    }
    expect(b.requests.length - before).toBe(6);

    const revived = createHttpServer((req, res) => echo(req, res, Buffer.alloc(0)));
    await listenOn(revived, a.port);
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          revived.closeAllConnections();
          revived.close(() => r());
        }),
    );
    await eventually(async () => (await alive(gw, a.url)) === true);
    expect((await send(gw.url, '/metrics')).text).toContain(gauge(a.url, 1));
  });

  it('should mark an upstream down when its health_path answers 503, in /health but not in readiness', async () => {
    let status = 200;
    const up = await upstream((req, res, body) => {
      if (req.url === '/base/healthz') {
        res.writeHead(status).end('state');
        return;
      }
      echo(req, res, body);
    });
    const gw = await gateway(
      [{ prefix: '/', upstreams: [`${up.url}/base`], healthPath: '/healthz' }],
      { loadBalancing: fastHealth },
    );
    await eventually(() => Promise.resolve(up.requests.some((r) => r.url === '/base/healthz')));
    expect((await send(gw.url, '/health/ready')).status).toBe(200);

    status = 503;
    await eventually(async () => (await alive(gw, up.url + '/base')) === false);
    // The gateway itself can still serve (a 503 for this route): readiness stays up.
    const ready = await send(gw.url, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ok',
      info: { gateway: { status: 'up', routes: 1 } },
      error: {},
      details: { gateway: { status: 'up', routes: 1 } },
    });
    const health = await send(gw.url, '/health');
    expect(health.status).toBe(200);
    expect(health.json<HealthBody>().status).toBe('degraded');

    status = 204;
    await eventually(async () => (await alive(gw, up.url + '/base')) === true);
    expect(up.requests.find((r) => r.url === '/base/healthz')?.headers['user-agent']).toMatch(
      /health-check/,
    );
  });

  it('should answer /health, /health/live and /health/ready within 100 ms while an upstream hangs', async () => {
    const held: Socket[] = [];
    const hanging = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      held.push(socket);
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          held.forEach((s) => s.destroy());
          hanging.close(() => r());
        }),
    );
    const hangUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
    const ok = await upstream();
    const gw = await gateway(
      [
        { name: 'hang', prefix: '/hang', upstreams: [hangUrl], healthPath: '/healthz' },
        { name: 'ok', prefix: '/', upstreams: [ok.url] },
      ],
      { loadBalancing: fastHealth },
    );
    // Proxied requests stuck on the hanging upstream, plus probes timing out against it.
    const stuck = [1, 2, 3].map(() => send(gw.url, '/hang/x').catch(() => undefined));
    await eventually(async () => (await alive(gw, hangUrl)) === false);

    for (const path of ['/health', '/health/live', '/health/ready']) {
      for (let i = 0; i < 5; i++) {
        const { ms, reply } = await timed(gw, path);
        expect(reply.status).toBe(200);
        expect(ms).toBeLessThan(100);
      }
    }
    const live = await send(gw.url, '/health/live');
    expect(live.json()).toEqual({ status: 'ok' });
    held.forEach((s) => s.destroy());
    await Promise.all(stuck);
  });

  it('should keep the Go /health shape with ejection and circuit fields', async () => {
    const up = await upstream();
    const gw = await gateway([{ name: 'api', prefix: '/api', upstreams: [up.url] }]);

    const r = await send(gw.url, '/health');

    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const backend = {
      url: `${up.url}/`,
      alive: true,
      connections: 0,
      weight: 1,
      ejected: false,
      draining: false,
      // Present once the upstream has a breaker (resilience module).
      circuit_state: 'closed',
    };
    expect(r.json()).toEqual({
      status: 'healthy',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      version: expect.any(String) as unknown,
      circuit_breaker: 'closed',
      routes: [
        {
          name: 'api',
          host: '*',
          prefix: '/api',
          strip_prefix: false,
          require_auth: false,
          backends: [backend],
        },
      ],
      backends: [backend],
    });
  });

  it('should answer readiness 503 once shutdown starts, before the listener closes', async () => {
    const slow = await upstream((req, res, body) => {
      setTimeout(() => echo(req, res, body), 600);
    });
    const gw = await startGateway(
      testConfig([{ prefix: '/', upstreams: [slow.url] }], { loadBalancing: fastHealth }),
    );
    expect((await send(gw.url, '/health/ready')).status).toBe(200);

    const inFlight = send(gw.url, '/slow');
    await sleep(100);
    // What gateway.close() does first; the listener is still open afterwards.
    gw.gateway.app.get(ShutdownState).markShuttingDown();

    const ready = await send(gw.url, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({
      error: { gateway: { status: 'down', reason: 'shutting_down' } },
    });
    expect((await send(gw.url, '/health/live')).status).toBe(200);
    expect((await send(gw.url, '/health')).json<HealthBody>().status).toBe('shutting_down');

    await gw.close();
    expect((await inFlight).status).toBe(200);
  });

  it('should stay ready with every upstream down, answering each route with its own 503', async () => {
    const gone = await startUpstream();
    await gone.close();
    const alsoGone = await startUpstream();
    await alsoGone.close();
    const gw = await gateway(
      [
        { name: 'a', prefix: '/a', upstreams: [gone.url] },
        { name: 'b', prefix: '/', upstreams: [alsoGone.url] },
      ],
      { loadBalancing: fastHealth },
    );
    await eventually(
      async () => (await send(gw.url, '/health')).json<HealthBody>().status === 'degraded',
    );
    await eventually(async () => (await alive(gw, gone.url)) === false);

    // Kubernetes keeps the pod in the Service: clients get the gateway's JSON, not a refusal.
    const ready = await send(gw.url, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', info: { gateway: { status: 'up' } } });
    const routed = await send(gw.url, '/a/x');
    expect(routed.status).toBe(503);
    expect(routed.json()).toMatchObject({ statusCode: 503 });
    expect((await send(gw.url, '/health')).json<HealthBody>().status).toBe('degraded');

    const empty = await gateway([]);
    expect((await send(empty.url, '/health/ready')).status).toBe(200);
  });
});

describe("Security headers on the gateway's own answers (e2e)", () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream(echo);
  });

  afterAll(async () => {
    await up.close();
  });

  const ownPaths = ['/health', '/health/live', '/health/ready', '/stats', '/metrics'];

  it('should send them on health, stats and metrics as on proxied answers', async () => {
    const gw = await startGateway(testConfig([{ prefix: '/api', upstreams: [up.url] }]));
    try {
      for (const path of ownPaths) {
        const res = await send(gw.url, path);
        expect([path, res.headers['x-content-type-options']]).toEqual([path, 'nosniff']);
        expect([path, res.headers['x-frame-options']]).toEqual([path, 'DENY']);
        expect([path, res.headers['content-security-policy']]).toEqual([
          path,
          "default-src 'self'",
        ]);
      }
      // Proxied answers keep exactly one copy (the proxy's own, not a hook's as well).
      const proxied = await send(gw.url, '/api/x');
      const nosniff = proxied.rawHeaders.filter(
        (h) => h.toLowerCase() === 'x-content-type-options',
      );
      expect(nosniff).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('should leave them out with SECURITY_HEADERS=false', async () => {
    const base = testConfig([{ prefix: '/api', upstreams: [up.url] }]);
    const gw = await startGateway({
      ...base,
      security: { ...base.security, securityHeaders: false },
    });
    try {
      for (const path of ownPaths) {
        expect((await send(gw.url, path)).headers['x-content-type-options']).toBeUndefined();
      }
    } finally {
      await gw.close();
    }
  });
});
