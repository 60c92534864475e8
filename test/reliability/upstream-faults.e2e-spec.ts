import { Agent, createServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { RouteTableService } from '../../src/routing/route-table.service';
import type { GatewayConfig } from '../../src/config/gateway-config.types';
import { startGateway, testConfig, type RouteInput, type TestGateway } from '../fixtures/gateway';
import { rawExchange, sleep } from '../fixtures/http';
import { startUpstream } from '../fixtures/upstream';
import { attempt, burst, tally } from './support/client';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream';
import { counters, expectNoLeaks } from './support/leaks';

/**
 * Upstreams that fail in every way a real one does, behind an in-process gateway. Every client
 * request must get a mapped status or a closed socket within a bound, retries happen only where
 * safe (upstream hits are counted), and nothing stays held afterwards.
 */

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(routes: RouteInput[], resilience: Partial<GatewayConfig['resilience']> = {}) {
  const base = testConfig([]);
  return testConfig(routes, {
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
    },
    resilience: { ...base.resilience, ...resilience },
    // Active probes would mark the refused upstream down mid-suite (503 instead of 502): the
    // error mapping is under test, health checks have their own suite. Every table swap (the
    // idle-close case swaps twice) probes at once, so failed probes never count either.
    loadBalancing: {
      ...base.loadBalancing,
      passiveEjectFailures: 1e6,
      healthCheckIntervalMs: 3_600_000,
      healthCheckFails: 1e6,
    },
  });
}

const ROUTE_TIMEOUT = 800;

/**
 * A minimal keep-alive HTTP/1.1 server on raw sockets that closes a connection after `idleMs`
 * without a request and, unlike Node's server, never advertises that timeout.
 */
async function startIdleClosingUpstream(idleMs: number) {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let timer = setTimeout(() => socket.end(), idleMs);
    socket.on('data', (d: Buffer) => {
      clearTimeout(timer);
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) {
          return;
        }
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) {
          return;
        }
        buf = buf.subarray(end + 4 + length);
        const [method, path] = head.split(' ');
        hits.push(`${method} ${path}`);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        timer = setTimeout(() => socket.end(), idleMs);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) {
          s.destroy();
        }
        server.close(() => r());
      }),
  };
}

describe('upstream faults (reliability)', () => {
  let fault: FaultUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    fault = await startFaultUpstream();
    const refused = await closedPort();
    gw = await startGateway(
      config(
        [
          { name: 'refused', prefix: '/refused', upstreams: [`http://127.0.0.1:${refused}`] },
          {
            name: 'f',
            prefix: '/f',
            stripPrefix: true,
            timeoutMs: ROUTE_TIMEOUT,
            upstreams: [fault.url],
          },
        ],
        // The error mapping is under test here, not the breaker (see the breaker case below).
        { circuitBreakerMax: 1e6 },
      ),
    );
  });

  afterAll(async () => {
    const started = Date.now();
    await gw.close();
    // A graceful close is bounded by SHUTDOWN_TIMEOUT (5 s in tests).
    expect(Date.now() - started).toBeLessThan(8000);
    await fault.close();
  });

  afterEach(async () => {
    await expectNoLeaks(gw);
  });

  it('should answer 502 to a refused connection, for GET and POST alike, within the bound', async () => {
    const [get, post] = await Promise.all([
      attempt(gw.url, '/refused/x', { timeoutMs: 5000 }),
      attempt(gw.url, '/refused/x', { method: 'POST', body: 'data', timeoutMs: 5000 }),
    ]);
    expect([get.status, get.result, post.status, post.result]).toEqual([
      502,
      'complete',
      502,
      'complete',
    ]);
    expect(JSON.parse(get.body)).toMatchObject({ statusCode: 502, error: 'Bad Gateway' });
  });

  it('should answer 504 to an upstream that accepts and never answers, without retrying a POST', async () => {
    const before = fault.count('/hang');
    const [get, post] = await Promise.all([
      attempt(gw.url, '/f/hang/a', { timeoutMs: 5000 }),
      attempt(gw.url, '/f/hang/b', { method: 'POST', body: 'x'.repeat(100), timeoutMs: 5000 }),
    ]);
    expect([get.status, post.status]).toEqual([504, 504]);
    // A header timeout is never retried: the route timeout bounds the whole exchange.
    expect(get.ms).toBeLessThan(ROUTE_TIMEOUT + 2000);
    expect(fault.count('/hang/b', 'POST')).toBe(1);
    expect(fault.count('/hang') - before).toBe(2);
  });

  it('should cut the client when the upstream stalls after its headers (no hung connection)', async () => {
    const r = await attempt(gw.url, '/f/stall/x', { timeoutMs: 6000 });
    expect(r.status).toBe(200);
    expect(r.result).toBe('cut');
    expect(r.bytes).toBe(3);
    expect(r.ms).toBeLessThan(ROUTE_TIMEOUT + 3000);
  });

  it('should cut the client when the upstream resets mid-body, and never retry it', async () => {
    const before = fault.count('/reset');
    const r = await attempt(gw.url, '/f/reset/x', { timeoutMs: 5000 });
    expect(r.status).toBe(200);
    expect(r.result).toBe('cut');
    expect(r.bytes).toBeLessThan(1000);
    expect(fault.count('/reset') - before).toBe(1);
  });

  it.each(['status', 'cl', 'clte', 'header', 'nul'])(
    'should answer 502 to a malformed upstream response (%s) and relay nothing of it',
    async (variant) => {
      const r = await attempt(gw.url, `/f/malformed/${variant}`, { timeoutMs: 5000 });
      expect(r.status).toBe(502);
      expect(r.result).toBe('complete');
      expect(r.body).not.toMatch(/chunked|not a header|x-bad/);
    },
  );

  it('should retry a GET that met a keep-alive socket the upstream closed (stale-socket race)', async () => {
    // One keep-alive client connection, so the gateway reuses its pooled upstream socket.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = fault.count('/stale');
      const outcomes = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(await attempt(gw.url, `/f/stale/${i}`, { agent, timeoutMs: 5000 }));
      }
      expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200, 200, 200]);
      // Each reuse after the first costs one dead attempt: hits = requests + reused sockets hit.
      // At least one reuse met a dead socket and was retried (typically 5 of them).
      expect(fault.count('/stale') - before).toBeGreaterThan(6);
      expect(fault.count('/stale') - before).toBeLessThanOrEqual(12);
    } finally {
      agent.destroy();
    }
  });

  it('should never replay a POST whose body was sent on a socket the upstream then closed', async () => {
    // Warm one pooled socket, then POST on it: the upstream gets the POST and closes.
    expect((await attempt(gw.url, '/f/stale/warm', { timeoutMs: 5000 })).status).toBe(200);
    const before = fault.count('/stale/post', 'POST');
    const r = await attempt(gw.url, '/f/stale/post', {
      method: 'POST',
      body: 'charge-the-card',
      timeoutMs: 5000,
    });
    const hits = fault.count('/stale/post', 'POST') - before;
    // Either undici used a fresh socket (200, one hit) or the reused one died (502, one hit):
    // never two hits.
    expect(hits).toBe(1);
    expect([200, 502]).toContain(r.status);
  });

  it('should survive the idle-close race with an upstream that closes idle sockets silently', async () => {
    // Like nginx or Go upstreams: no Keep-Alive timeout hint, idle sockets closed after 150 ms.
    const idle = await startIdleClosingUpstream(150);
    const table = gw.gateway.app.get(RouteTableService);
    const routes = table.routes.map((r) => r.config);
    table.replace([
      ...routes,
      { ...routes[0], name: 'idle', prefix: '/idle', upstreams: [{ url: idle.url, weight: 1 }] },
    ]);
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const out: Awaited<ReturnType<typeof attempt>>[] = [];
      for (let i = 0; i < 40; i++) {
        // Land requests right around the upstream's idle close.
        await sleep(140 + (i % 5) * 5);
        const post = i % 2 === 1;
        out.push(
          await attempt(gw.url, `/idle/${post ? 'post' : 'get'}-${i}`, {
            agent,
            method: post ? 'POST' : 'GET',
            body: post ? `body-${i}` : undefined,
            timeoutMs: 5000,
          }),
        );
      }
      agent.destroy();
      const gets = out.filter((_, i) => i % 2 === 0);
      const posts = out.filter((_, i) => i % 2 === 1);
      expect(gets.map((o) => o.status)).toEqual(Array(20).fill(200));
      for (const o of posts) {
        expect([200, 502]).toContain(o.status);
      }
      // Never a POST twice.
      for (let i = 1; i < 40; i += 2) {
        expect(idle.hits.filter((h) => h === `POST /idle/post-${i}`).length).toBeLessThanOrEqual(1);
      }
      process.stdout.write(
        `idle-close race: GET ${JSON.stringify(tally(gets))} POST ${JSON.stringify(tally(posts))}, ` +
          `upstream hits ${idle.hits.length} for 40 requests\n`,
      );
    } finally {
      table.replace(routes);
      await idle.close();
    }
  });

  it('should not fail requests on sockets the upstream half-closes after each answer', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const out = await burst(200, 4, (i) =>
        attempt(gw.url, `/f/fin/${i}`, { agent, timeoutMs: 5000 }),
      );
      expect(tally(out)).toEqual({ '200': 200 });
    } finally {
      agent.destroy();
    }
  });

  it('should cut the client when the upstream ends the body short (FIN before Content-Length)', async () => {
    const r = await attempt(gw.url, '/f/short/x', { timeoutMs: 5000 });
    expect(r.status).toBe(200);
    // A truncated body must never look complete.
    expect(r.result).toBe('cut');
    expect(r.bytes).toBeLessThan(100);
  });

  it('should never relay an unrequested second response an upstream wrote on a pooled socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const out = [];
      for (let i = 0; i < 6; i++) {
        out.push(
          await attempt(gw.url, `/f/${i % 2 ? 'ok' : 'poison'}/${i}`, { agent, timeoutMs: 5000 }),
        );
      }
      for (const o of out) {
        expect(o.body).not.toContain('POISON');
        expect(o.headers['x-poison']).toBeUndefined();
        expect([200, 502]).toContain(o.status);
      }
      // The gateway got one response per request: the clean ones all succeed.
      expect(out.filter((_, i) => i % 2 === 1).map((o) => o.status)).toEqual([200, 200, 200]);
    } finally {
      agent.destroy();
    }
  });

  it('should answer 502 to response headers over the limit', async () => {
    const r = await attempt(gw.url, '/f/bigheaders/x', { timeoutMs: 5000 });
    expect(r.status).toBe(502);
    expect(r.headers['x-big-1']).toBeUndefined();
  });

  it('should relay an early upstream answer to a large upload without hanging', async () => {
    const r = await attempt(gw.url, '/f/early/x', {
      method: 'POST',
      body: Buffer.alloc(8 * 1024 * 1024, 1),
      timeoutMs: 8000,
    });
    expect(r.result).not.toBe('timeout');
    // The upstream's 401 when the gateway got it first; 502 when the reset won the race.
    expect([401, 502]).toContain(r.status);
    expect(fault.count('/early', 'POST')).toBeGreaterThanOrEqual(1);
  });

  it('should cancel the upstream request when the client aborts, leaking nothing', async () => {
    const before = fault.count('/hang/abort');
    const aborted = await attempt(gw.url, '/f/hang/abort', { timeoutMs: 200 });
    expect(aborted.result).toBe('timeout');
    expect(fault.count('/hang/abort') - before).toBe(1);
    // afterEach checks the slot, inFlight and pool counters are back to zero.
  });

  it('should leak nothing when clients abort at random points (downloads, uploads, retries)', async () => {
    const paths = ['/f/ok', '/f/hang', '/f/stall', '/f/status/503', '/f/stale', '/refused'];
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const socket = connect(gw.port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise<void>((r) => socket.once('connect', () => r()));
        const path = `${paths[i % paths.length]}/abort-${i}`;
        if (i % 3 === 0) {
          // An upload cut half-way.
          socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
          socket.write(Buffer.alloc(30_000, 1));
        } else {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        }
        await sleep(Math.floor(Math.random() * 300));
        socket.destroy();
      }),
    );
    await expectNoLeaks(gw, 8000);
  });

  describe('WebSocket upgrades to faulty upstreams', () => {
    const upgrade = (path: string, waitMs = 4000) =>
      rawExchange(
        gw.port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        waitMs,
      );

    it('should answer 502 to an upgrade on a refused upstream', async () => {
      expect(await upgrade('/refused/ws')).toMatch(/^HTTP\/1\.1 502/);
    });

    it('should answer 504 to an upstream that never answers the upgrade, within the route timeout', async () => {
      const started = Date.now();
      expect(await upgrade('/f/hang/ws')).toMatch(/^HTTP\/1\.1 504/);
      expect(Date.now() - started).toBeLessThan(ROUTE_TIMEOUT + 2000);
    });

    it("should relay an upstream's refusal of the upgrade", async () => {
      expect(await upgrade('/f/status/ws')).toMatch(/^HTTP\/1\.1 403/);
    });

    it('should close the client when the upstream resets an open WebSocket', async () => {
      const started = Date.now();
      const raw = await upgrade('/f/reset/ws', 5000);
      expect(raw).toMatch(/^HTTP\/1\.1 101/);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('should release everything when clients drop 100 upgrades at random points', async () => {
      const paths = ['/f/ok/ws', '/f/hang/ws', '/f/reset/ws', '/refused/ws'];
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const socket = connect(gw.port, '127.0.0.1');
          socket.on('error', () => undefined);
          await new Promise<void>((r) => socket.once('connect', () => r()));
          socket.write(
            `GET ${paths[i % paths.length]} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
              'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
              'Sec-WebSocket-Version: 13\r\n\r\n',
          );
          await sleep(Math.floor(Math.random() * 300));
          socket.destroy();
        }),
      );
      await expectNoLeaks(gw, 8000);
    });
  });

  it('should answer every request of a mixed fault storm within the bound and leak nothing', async () => {
    const paths = [
      '/f/ok',
      '/f/hang',
      '/f/stall',
      '/f/reset',
      '/f/malformed/cl',
      '/f/status/503',
      '/refused',
    ];
    const out = await burst(140, 20, (i) =>
      attempt(gw.url, `${paths[i % paths.length]}/${i}`, {
        method: i % 3 === 0 ? 'POST' : 'GET',
        body: i % 3 === 0 ? 'payload' : undefined,
        timeoutMs: 8000,
      }),
    );
    expect(out.filter((o) => o.result === 'timeout')).toEqual([]);
    for (const o of out) {
      // A mapped status, a relayed upstream status, or a cut after the response started.
      expect([200, 502, 503, 504]).toContain(o.status);
    }
    await expectNoLeaks(gw, 8000);
    expect(counters(gw).poolBusy).toBe(0);
  });
});

describe('5xx bursts, breakers, ejection and restarts (reliability)', () => {
  let a: FaultUpstream;
  let b: FaultUpstream;
  let gw: TestGateway;

  beforeEach(async () => {
    [a, b] = await Promise.all([startFaultUpstream(), startFaultUpstream()]);
  });
  afterEach(async () => {
    await expectNoLeaks(gw);
    await gw.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('should absorb a 503 burst on one upstream for GETs and never retry a POST', async () => {
    // Both upstreams answer `/status/503` with 503 when the path says so: one route per upstream
    // would not balance, so the failing one is chosen by path prefix on the upstream side.
    gw = await startGateway(
      config(
        [
          {
            name: 'pair',
            prefix: '/p',
            stripPrefix: true,
            upstreams: [`${a.url}/status/503`, `${b.url}/ok`],
          },
        ],
        { circuitBreakerMax: 1e6, retryBaseDelayMs: 1 },
      ),
    );
    const gets = await burst(100, 10, (i) => attempt(gw.url, `/p/${i}`, { timeoutMs: 8000 }));
    const posts = await burst(40, 10, (i) =>
      attempt(gw.url, `/p/post-${i}`, { method: 'POST', body: 'once', timeoutMs: 8000 }),
    );
    // Every GET that met the 503 was retried on the healthy upstream, within the retry budget.
    const getOk = gets.filter((o) => o.status === 200).length;
    expect(getOk).toBeGreaterThanOrEqual(90);
    expect(gets.every((o) => o.status === 200 || o.status === 503)).toBe(true);
    // POSTs: each reached exactly one upstream once; the 503 is relayed, not retried.
    expect(a.count('/status/503/post', 'POST') + b.count('/ok/post', 'POST')).toBe(40);
    expect(posts.filter((o) => o.status === 503).length).toBe(a.count('/status/503/post', 'POST'));
  });

  it('should move an upload whose upstream refused the connection, body intact', async () => {
    const echo = await startUpstream();
    try {
      gw = await startGateway(
        config(
          [
            {
              name: 'pair',
              prefix: '/p',
              upstreams: [`http://127.0.0.1:${await closedPort()}`, echo.url],
            },
          ],
          { circuitBreakerMax: 1e6, retryBaseDelayMs: 1 },
        ),
      );
      const body = Buffer.alloc(256 * 1024, 'x');
      const out = await burst(20, 4, (i) =>
        attempt(gw.url, `/p/up-${i}`, { method: i % 2 ? 'PUT' : 'POST', body, timeoutMs: 8000 }),
      );
      // A refused connect sent nothing, so even a POST may move: every upload lands once, whole.
      expect(tally(out)).toEqual({ '200': 20 });
      expect(echo.requests.length).toBe(20);
      expect(echo.requests.every((r) => r.body.length === body.length)).toBe(true);
    } finally {
      await expectNoLeaks(gw);
      await echo.close();
    }
  });

  it('should not multiply a total 503 outage into a retry storm (retry budget)', async () => {
    gw = await startGateway(
      config(
        [{ name: 'down', prefix: '/d', stripPrefix: true, upstreams: [`${a.url}/status/503`] }],
        {
          circuitBreakerMax: 1e6,
        },
      ),
    );
    const n = 400;
    const out = await burst(n, 50, (i) => attempt(gw.url, `/d/${i}`, { timeoutMs: 10_000 }));
    expect(tally(out)).toEqual({ '503': n });
    const hits = a.count('/status/503');
    process.stdout.write(
      `retry storm: ${n} GETs, ${hits} upstream hits (3 attempts each unbudgeted = ${3 * n})\n`,
    );
    // RETRY_ATTEMPTS=3 without a budget would be 3n; the 20% budget keeps it far below.
    expect(hits).toBeGreaterThanOrEqual(n);
    expect(hits).toBeLessThan(1.5 * n);
  });

  it('should open the breaker on an upstream whose exchanges fail and send the rest to the healthy one', async () => {
    gw = await startGateway(
      config(
        [
          {
            name: 'pair',
            prefix: '/p',
            stripPrefix: true,
            upstreams: [`${a.url}/malformed/status`, `${b.url}/ok`],
          },
        ],
        { circuitBreakerMax: 5, circuitBreakerTimeoutMs: 60_000 },
      ),
    );
    const out = await burst(200, 5, (i) => attempt(gw.url, `/p/${i}`, { timeoutMs: 8000 }));
    // A malformed response is a failure of the exchange (502, not retried), and five in a row open
    // the breaker (CIRCUIT_BREAKER_MAX keeps the Go gateway's meaning).
    const failed = out.filter((o) => o.status === 502).length;
    expect(failed).toBeGreaterThanOrEqual(5);
    // Only the requests in flight when the 5th failure landed can still reach it.
    expect(failed).toBeLessThanOrEqual(5 + 5);
    expect(a.count('/malformed')).toBe(failed);
    expect(out.filter((o) => o.status === 200).length).toBe(200 - failed);
  });

  it("should relay an upstream's 500s as answers, never trip on them, and keep it in rotation", async () => {
    gw = await startGateway(
      config([
        {
          name: 'pair',
          prefix: '/p',
          stripPrefix: true,
          upstreams: [`${a.url}/status/500`, `${b.url}/ok`],
        },
      ]),
    );
    const out = await burst(200, 5, (i) => attempt(gw.url, `/p/${i}`, { timeoutMs: 8000 }));
    // Round-robin keeps sending half the traffic: nothing counted 500 against the upstream.
    expect(tally(out)).toEqual({ '200': 100, '500': 100 });
    expect(a.count('/status/500')).toBe(100);
  });

  it('should eject an upstream that keeps failing live traffic', async () => {
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [
          {
            name: 'pair',
            prefix: '/p',
            stripPrefix: true,
            upstreams: [`${a.url}/status/502`, `${b.url}/ok`],
          },
        ],
        {
          security: {
            ...base.security,
            maxRequestsPerSecond: 1e6,
            maxBurstSize: 1e6,
            ddosThreshold: 1e8,
          },
          resilience: { ...base.resilience, circuitBreakerMax: 1e6, retryBaseDelayMs: 1 },
          loadBalancing: {
            ...base.loadBalancing,
            passiveEjectFailures: 3,
            passiveEjectBaseMs: 60_000,
          },
        },
      ),
    );
    await burst(60, 3, (i) => attempt(gw.url, `/p/${i}`, { timeoutMs: 8000 }));
    const hitsAfterWarm = a.count('/status/502');
    const out = await burst(100, 5, (i) => attempt(gw.url, `/p/later-${i}`, { timeoutMs: 8000 }));
    expect(tally(out)).toEqual({ '200': 100 });
    // Ejected: the failing upstream gets no more traffic at all.
    expect(a.count('/status/502')).toBe(hitsAfterWarm);
  });

  it('should answer every request while the only upstream restarts, and recover', async () => {
    gw = await startGateway(
      config([{ name: 'one', prefix: '/o', stripPrefix: true, upstreams: [`${a.url}/ok`] }], {
        circuitBreakerMax: 3,
        circuitBreakerTimeoutMs: 300,
      }),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let running = true;
    const outcomes: Awaited<ReturnType<typeof attempt>>[] = [];
    const traffic = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; running && i < 10_000; i++) {
          outcomes.push(await attempt(gw.url, `/o/${w}-${i}`, { agent, timeoutMs: 5000 }));
          await sleep(5);
        }
      }),
    );
    try {
      await sleep(400);
      await a.stop();
      await sleep(600);
      await a.start();
      // Recovered: the breaker's half-open trial succeeds and traffic flows again.
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && outcomes.slice(-20).some((o) => o.status !== 200)) {
        await sleep(100);
      }
    } finally {
      running = false;
      await traffic;
      agent.destroy();
    }
    expect(outcomes.filter((o) => o.result === 'timeout')).toEqual([]);
    for (const o of outcomes) {
      expect([200, 502, 503]).toContain(o.status);
    }
    expect(outcomes.slice(-20).every((o) => o.status === 200)).toBe(true);
    expect(outcomes.some((o) => o.status !== 200)).toBe(true);
  });
});
