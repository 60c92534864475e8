import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, testConfig } from './fixtures/gateway';
import { send, sleep } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import type { GatewayConfig, RouteConfig } from '../src/config/gateway-config.types';
import { RouteTableService } from '../src/routing/route-table.service';

/** High limits: these suites send thousands of requests from one address on purpose. */
function lbConfig(routes: Parameters<typeof testConfig>[0], extra: Partial<GatewayConfig> = {}) {
  const base = testConfig([]);
  return testConfig(routes, {
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
    },
    ...extra,
  });
}

/** Sends `n` requests with `concurrency` in flight and returns the statuses. */
async function load(
  url: string,
  path: string,
  n: number,
  concurrency = 20,
  headers?: (i: number) => Record<string, string>,
) {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        statuses.push((await send(url, path, { headers: headers?.(i) })).status);
      }
    }),
  );
  return statuses;
}

const share = (u: TestUpstream, total: number) => u.requests.length / total;

describe('load balancing (e2e)', () => {
  let ups: TestUpstream[];

  beforeEach(async () => {
    ups = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
  });
  afterEach(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  const route = (algorithm: RouteConfig['algorithm'], weights?: number[], n = 3) => ({
    algorithm,
    upstreams: ups.slice(0, n).map((u, i) => ({ url: u.url, weight: weights?.[i] ?? 1 })),
  });

  it('should spread round-robin evenly (±5% over 3,000 requests)', async () => {
    const gw = await startGateway(lbConfig([route('round-robin')]));
    try {
      const statuses = await load(gw.url, '/rr', 3000);
      expect(statuses.every((s) => s === 200)).toBe(true);
      for (const u of ups) {
        expect(Math.abs(share(u, 3000) - 1 / 3)).toBeLessThan(0.05);
      }
    } finally {
      await gw.close();
    }
  });

  it('should honour weights 3:1 (±5% over 3,000 requests)', async () => {
    const gw = await startGateway(lbConfig([route('weighted', [3, 1], 2)]));
    try {
      await load(gw.url, '/w', 3000);
      expect(Math.abs(share(ups[0], 3000) - 0.75)).toBeLessThan(0.05);
      expect(Math.abs(share(ups[1], 3000) - 0.25)).toBeLessThan(0.05);
    } finally {
      await gw.close();
    }
  });

  it('should send least-conn traffic to the idle upstream while another is slow', async () => {
    const slow = await startUpstream((_req, res) => setTimeout(() => res.end('slow'), 400));
    const gw = await startGateway(
      lbConfig([{ algorithm: 'least-conn', upstreams: [slow.url, ups[0].url] }]),
    );
    try {
      const statuses = await load(gw.url, '/lc', 200, 10);
      expect(statuses.every((s) => s === 200)).toBe(true);
      // Each slow request holds a connection for 400 ms; least-conn routes around it.
      expect(slow.requests.length).toBeLessThan(40);
    } finally {
      await gw.close();
      await slow.close();
    }
  });

  it('should keep ip-hash clients sticky and remap only ~1/N when an upstream goes', async () => {
    const base = testConfig([]);
    const config = lbConfig([route('ip-hash')], {
      proxy: { ...base.proxy, trustedProxies: ['127.0.0.1/32'] },
    });
    const gw = await startGateway(config);
    try {
      const clients = Array.from({ length: 300 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
      const whoServed = async (ip: string) => {
        const r = await send(gw.url, `/who?ip=${ip}`, { headers: { 'x-forwarded-for': ip } });
        return (
          ups.findIndex((u) => u.requests.at(-1)?.url === `/who?ip=${ip}`) +
          (r.status === 200 ? 0 : 100)
        );
      };
      const first: number[] = [];
      for (const ip of clients) {
        first.push(await whoServed(ip));
      }
      for (const ip of clients.slice(0, 30)) {
        expect(await whoServed(ip)).toBe(first[clients.indexOf(ip)]);
      }
      // Take upstream 2 away (as the health checker would) and look again.
      gw.gateway.app.get(RouteTableService).routes[0].group.upstreams[2].healthy = false;
      let moved = 0;
      for (let i = 0; i < clients.length; i++) {
        const now = await whoServed(clients[i]);
        if (now !== first[i]) {
          moved++;
          expect(first[i]).toBe(2);
        }
      }
      expect(moved / clients.length).toBeGreaterThan(0.2);
      expect(moved / clients.length).toBeLessThan(0.46);
    } finally {
      await gw.close();
    }
  });
});

describe('resilience (e2e)', () => {
  it('should keep every GET succeeding while one of three upstreams is killed under load', async () => {
    const ups = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    const gw = await startGateway(
      lbConfig([{ algorithm: 'round-robin', upstreams: ups.map((u) => u.url) }]),
    );
    try {
      const running = load(gw.url, '/steady', 1500, 20);
      await sleep(100);
      await ups[1].close();
      const statuses = await running;

      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    } finally {
      await gw.close();
      await Promise.all([ups[0].close(), ups[2].close()]);
    }
  });

  it('should never send a POST twice, even when it fails', async () => {
    let received = 0;
    const resetting = createServer((req) => {
      received++;
      req.socket.destroy(); // reset after reading the request: the POST may have been acted on
    });
    await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', r));
    const port = (resetting.address() as AddressInfo).port;
    const other = await startUpstream();
    const gw = await startGateway(
      lbConfig([{ algorithm: 'round-robin', upstreams: [`http://127.0.0.1:${port}`, other.url] }]),
    );
    try {
      const r = await send(gw.url, '/order', {
        method: 'POST',
        body: 'buy',
        headers: { 'content-type': 'text/plain' },
      });
      const r2 = await send(gw.url, '/order', {
        method: 'POST',
        body: 'buy',
        headers: { 'content-type': 'text/plain' },
      });
      const attempts = received + other.requests.length;
      expect(attempts).toBe(2);
      expect([r.status, r2.status].sort()).toEqual([200, 502]);
      // The same GET is retried on the other upstream and succeeds.
      const g1 = await send(gw.url, '/item');
      const g2 = await send(gw.url, '/item');
      expect([g1.status, g2.status]).toEqual([200, 200]);
    } finally {
      await gw.close();
      await other.close();
      resetting.closeAllConnections();
      await new Promise<void>((r) => resetting.close(() => r()));
    }
  });

  it('should open the breaker on consecutive exchange failures, half-open with a single trial and close again', async () => {
    let failing = true;
    let hits = 0;
    const flaky = await startUpstream((req, res) => {
      hits++;
      if (failing) {
        // Reset without an answer: a failure of the exchange itself.
        req.socket.destroy();
        return;
      }
      res.writeHead(200);
      // Healthy answers take a moment, so the half-open trial is still out when others arrive.
      setTimeout(() => res.end('up'), 200);
    });
    const base = testConfig([]);
    const gw = await startGateway(
      lbConfig([{ upstreams: [flaky.url] }], {
        resilience: {
          ...base.resilience,
          circuitBreakerMax: 3,
          circuitBreakerTimeoutMs: 500,
          retryAttempts: 1,
        },
        loadBalancing: { ...base.loadBalancing, passiveEjectFailures: 1000 },
      }),
    );
    try {
      for (let i = 0; i < 3; i++) {
        expect((await send(gw.url, '/b')).status).toBe(502);
      }
      // Open: refused at the gateway without reaching the upstream; panic routing does not
      // override a breaker opened by exchange failures.
      const before = hits;
      const open = await send(gw.url, '/b');
      expect(open.status).toBe(503);
      expect(open.headers['retry-after']).toBeDefined();
      expect(hits).toBe(before);
      await sleep(600);
      failing = false;
      // Half-open: concurrent requests, exactly one trial reaches the upstream.
      const slowBefore = hits;
      const trial = await Promise.all([send(gw.url, '/b'), send(gw.url, '/b'), send(gw.url, '/b')]);
      expect(hits - slowBefore).toBe(1);
      expect(trial.map((t) => t.status).sort()).toEqual([200, 503, 503]);
      // The trial succeeded: closed again.
      expect((await send(gw.url, '/b')).status).toBe(200);
      expect((await send(gw.url, '/b')).status).toBe(200);
      const metrics = (await send(gw.url, '/metrics')).text;
      expect(metrics).toContain(`circuit_breaker_trips_total{backend="${flaky.url}/"} 1`);
    } finally {
      await gw.close();
      await flaky.close();
    }
  });

  it('should keep a single upstream in service when its own 503s open the breaker (panic), relaying them', async () => {
    let hits = 0;
    const unhappy = await startUpstream((_req, res) => {
      hits++;
      res.writeHead(503, { 'content-type': 'text/plain', 'x-from': 'upstream' });
      res.end('upstream says 503');
    });
    const gw = await startGateway(lbConfig([{ name: 'one', upstreams: [unhappy.url] }]));
    try {
      // Defaults: 20 calls at 50 % failures open the breaker on the rate; every answer is a 503.
      const bodies = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const seen: string[] = [];
          for (let i = 0; i < 15; i++) {
            const r = await send(gw.url, '/u');
            seen.push(`${r.status} ${r.text}`);
          }
          return seen;
        }),
      );
      // Never the gateway's own 503 (JSON): always the upstream's answer.
      expect(new Set(bodies.flat())).toEqual(new Set(['503 upstream says 503']));
      const last = await send(gw.url, '/u/last');
      expect([last.status, last.text, last.headers['x-from']]).toEqual([
        503,
        'upstream says 503',
        'upstream',
      ]);
      // Every request reached the upstream (retries included): none was refused at the gateway.
      expect(hits).toBeGreaterThanOrEqual(61);
      const health = (await send(gw.url, '/health')).json<{
        routes: { backends: { circuit_state: string }[] }[];
      }>();
      expect(health.routes[0].backends[0].circuit_state).toBe('open');
      const metrics = (await send(gw.url, '/metrics')).text;
      const panics = /upstream_panic_total\{route="one"\} (\d+)/.exec(metrics);
      expect(Number(panics?.[1])).toBeGreaterThan(0);
      // The state change is logged once, not per request.
      const panicLines = gw.logs.filter((l) => String(l.msg).includes('panic routing:'));
      expect(panicLines).toHaveLength(1);
      // Readiness counts the route as servable.
      expect((await send(gw.url, '/health/ready')).status).toBe(200);
    } finally {
      await gw.close();
      await unhappy.close();
    }
  });

  it('should spread traffic over all upstreams probed up when breakers leave fewer than half usable', async () => {
    const failing = await Promise.all(
      [0, 1].map(() =>
        startUpstream((_req, res) => {
          res.writeHead(503);
          res.end('no');
        }),
      ),
    );
    const fine = await startUpstream();
    const base = testConfig([]);
    const gw = await startGateway(
      lbConfig(
        [
          {
            name: 'trio',
            algorithm: 'round-robin',
            upstreams: [...failing.map((f) => f.url), fine.url],
          },
        ],
        {
          // Breakers alone decide here: passive ejection out of the way, no retries.
          loadBalancing: { ...base.loadBalancing, passiveEjectFailures: 0 },
          resilience: { ...base.resilience, retryAttempts: 1, circuitBreakerMinRequests: 5 },
        },
      ),
    );
    try {
      // Warm up until both failing upstreams' breakers have opened on the rate.
      await load(gw.url, '/t', 60, 1);
      const before = failing.map((f) => f.requests.length);
      const statuses = await load(gw.url, '/t', 90, 1);
      // Panic: all three share the traffic again, instead of the healthy one taking it all.
      const after = failing.map((f, i) => f.requests.length - before[i]);
      expect(after[0]).toBeGreaterThanOrEqual(25);
      expect(after[1]).toBeGreaterThanOrEqual(25);
      expect(statuses.filter((st) => st === 200).length).toBeGreaterThanOrEqual(25);
      expect(statuses.every((st) => st === 200 || st === 503)).toBe(true);
      const metrics = (await send(gw.url, '/metrics')).text;
      expect(metrics).toMatch(/upstream_panic_total\{route="trio"\} [1-9]/);
    } finally {
      await gw.close();
      await Promise.all([...failing, fine].map((u) => u.close()));
    }
  });

  it.each(['route', 'upstream'])(
    "should eject an upstream that keeps failing live traffic (500 made a failure by the %s's failure_statuses), then route around it",
    async (level) => {
      const broken = await startUpstream((_req, res) => {
        res.writeHead(500);
        res.end('broken');
      });
      const good = await Promise.all([startUpstream(), startUpstream()]);
      const base = testConfig([]);
      const gw = await startGateway(
        // 500 is not a failure by default; this route, or this upstream, says it is.
        lbConfig(
          [
            {
              algorithm: 'round-robin',
              ...(level === 'route' ? { failureStatuses: [500] } : {}),
              upstreams: [
                {
                  url: broken.url,
                  weight: 1,
                  ...(level === 'upstream' ? { failureStatuses: [500] } : {}),
                },
                ...good.map((g) => ({ url: g.url, weight: 1 })),
              ],
            },
          ],
          {
            loadBalancing: {
              ...base.loadBalancing,
              passiveEjectFailures: 3,
              passiveEjectBaseMs: 60_000,
            },
            resilience: { ...base.resilience, circuitBreakerMax: 1000 },
          },
        ),
      );
      try {
        await load(gw.url, '/p', 30, 1);
        const hitsWhenEjected = broken.requests.length;
        expect(hitsWhenEjected).toBe(3);
        const statuses = await load(gw.url, '/p', 60, 4);
        expect(statuses.every((s) => s === 200)).toBe(true);
        expect(broken.requests.length).toBe(hitsWhenEjected);
        const health = (await send(gw.url, '/health')).json<{
          routes: { backends: { url: string; ejected: boolean }[] }[];
        }>();
        expect(health.routes[0].backends.find((b) => b.url === `${broken.url}/`)?.ejected).toBe(
          true,
        );
      } finally {
        await gw.close();
        await Promise.all([broken.close(), ...good.map((g) => g.close())]);
      }
    },
  );

  it('should retry an idempotent request on another upstream after a 503', async () => {
    const busy = await startUpstream((_req, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.end('busy');
    });
    const fine = await startUpstream();
    const gw = await startGateway(
      lbConfig([{ algorithm: 'round-robin', upstreams: [busy.url, fine.url] }]),
    );
    try {
      const statuses = await load(gw.url, '/r', 20, 2);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(busy.requests.length).toBeGreaterThan(0);
    } finally {
      await gw.close();
      await Promise.all([busy.close(), fine.close()]);
    }
  });

  it('should retry a GET but never a POST on a 503, and relay the last answer', async () => {
    const busy = await startUpstream((_req, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.end('busy');
    });
    const base = testConfig([]);
    const gw = await startGateway(
      lbConfig([{ upstreams: [busy.url] }], {
        // Keep the breaker out of this test: it is about which requests are retried.
        resilience: { ...base.resilience, circuitBreakerMax: 100 },
      }),
    );
    try {
      const get = await send(gw.url, '/only');
      expect(get.status).toBe(503);
      expect(get.text).toBe('busy');
      expect(busy.requests.length).toBe(3); // RETRY_ATTEMPTS tries in all
      const post = await send(gw.url, '/only', { method: 'POST', body: 'x' });
      expect(post.status).toBe(503);
      expect(busy.requests.length).toBe(4);
      // An Idempotency-Key makes a POST retryable, but only while its body can be replayed:
      // a body already streamed upstream is never sent again.
      const keyed = await send(gw.url, '/only', {
        method: 'POST',
        headers: { 'idempotency-key': 'abc-1' },
      });
      expect(keyed.status).toBe(503);
      expect(busy.requests.length).toBe(7);
      await send(gw.url, '/only', {
        method: 'POST',
        body: 'x',
        headers: { 'idempotency-key': 'abc-2' },
      });
      expect(busy.requests.length).toBe(8);
    } finally {
      await gw.close();
      await busy.close();
    }
  });
});
