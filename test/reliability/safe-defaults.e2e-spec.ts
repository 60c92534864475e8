import { Agent } from 'node:http';
import type { GatewayConfig } from '../../src/config/gateway-config.types';
import { loadGatewayConfig } from '../../src/config/load-config';
import type { Upstream } from '../../src/load-balancing/upstream';
import { RouteTableService } from '../../src/routing/route-table.service';
import { startGateway, type TestGateway } from '../fixtures/gateway';
import { send, sleep } from '../fixtures/http';
import { sampleSum } from '../support/prometheus-text';
import { parsePrometheusText } from '../support/prometheus-text';
import { attempt, tally, type Outcome } from './support/client';
import { expectNoLeaks } from './support/leaks';
import { startUpstreamProcess, type UpstreamProcess } from './support/upstream-process';

/**
 * The outcomes of "safe by default" against real upstream processes, with the settings a new
 * user gets: the config comes from the real loader with nothing set but the listen address, the
 * routes, and the per-client limits (every request here comes from one address, which the
 * per-IP rate limit and flood block would otherwise answer with 429 long before any upstream is
 * under test). Everything else (breaker, ejection, retries, stall detection, least-conn,
 * caching, health checks) is at its default.
 */
function defaultsConfig(routes: object[], env: Record<string, string> = {}): GatewayConfig {
  const loaded = loadGatewayConfig({
    env: {
      GATEWAY_PORT: '127.0.0.1:0',
      DEMO_UPSTREAM: 'false',
      NO_DASHBOARD: '1',
      SHUTDOWN_TIMEOUT: '5s',
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
      SERVICE_ROUTES: JSON.stringify(routes),
      ...env,
    },
    cwd: __dirname,
    isTTY: false,
  });
  if (!loaded.ok) {
    throw new Error(loaded.problems.join('\n'));
  }
  return loaded.config;
}

/**
 * Sends `rps` requests a second for `seconds` (a fixed schedule, bounded in count; each request
 * bounded in time by `attempt`) and resolves with every outcome.
 */
async function drive(
  seconds: number,
  rps: number,
  one: (i: number) => Promise<Outcome>,
): Promise<Outcome[]> {
  const total = Math.round(seconds * rps);
  const started = performance.now();
  const pending: Promise<Outcome>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rps - performance.now();
    if (wait >= 1) {
      await sleep(wait);
    }
    pending.push(one(i));
  }
  return Promise.all(pending);
}

/** The gateway's `Upstream` of `url` on the first route. */
function upstreamOf(gw: TestGateway, url: string): Upstream {
  const route = gw.gateway.app.get(RouteTableService).routes[0];
  const found = route.group.upstreams.find((u) => u.key === `${url}/`);
  if (!found) {
    throw new Error(`no upstream ${url}`);
  }
  return found;
}

/** Resolves with the ms from now until `u` is out of rotation (or -1 after `limitMs`). */
async function timeUntilOut(u: Upstream, limitMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (!u.isAvailable()) {
      return performance.now() - start;
    }
    await sleep(5);
  }
  return -1;
}

async function metric(gw: TestGateway, name: string, labels: Record<string, string>) {
  const text = (await send(gw.url, '/metrics')).text;
  return sampleSum(parsePrometheusText(text), name, labels);
}

describe('safe defaults in front of a real API (reliability)', () => {
  let agent: Agent;
  let procs: UpstreamProcess[] = [];
  let gw: TestGateway | undefined;

  beforeEach(() => {
    agent = new Agent({ keepAlive: true, maxSockets: 64 });
  });
  afterEach(async () => {
    agent.destroy();
    if (gw) {
      await expectNoLeaks(gw, 8000);
      await gw.close();
      gw = undefined;
    }
    await Promise.all(procs.map((p) => p.kill()));
    procs = [];
  });

  it("should relay an upstream's own 5xx (20 %, with runs of 500s and 503s) at 200 req/s for 30 s without ever answering for it", async () => {
    const flaky = await startUpstreamProcess('flaky', { script: 'flaky' });
    procs.push(flaky);
    gw = await startGateway(defaultsConfig([{ name: 'api', prefix: '/', target_url: flaky.url }]));
    const g = gw;
    const out = await drive(30, 200, (i) =>
      attempt(g.url, `/items/${i}`, {
        agent,
        method: i % 10 === 9 ? 'POST' : 'GET',
        body: i % 10 === 9 ? `{"order":${i}}` : undefined,
        headers: i % 10 === 9 ? { 'content-type': 'application/json' } : undefined,
        timeoutMs: 10_000,
      }),
    );
    const counts = tally(out);
    process.stdout.write(
      `20 % 5xx at 200 req/s for 30 s: ${out.length} requests, client saw ${JSON.stringify(counts)}; ` +
        `upstream hits ${(await flaky.hits()).length}; ` +
        `retries ${await metric(g, 'upstream_retries_total', { route: 'api' })}, ` +
        `breaker trips ${await metric(g, 'circuit_breaker_trips_total', { backend: `${flaky.url}/` })}, ` +
        `panic ${await metric(g, 'upstream_panic_total', { route: 'api' })}\n`,
    );
    expect(out).toHaveLength(6000);
    const gatewayMade: Outcome[] = [];
    for (const o of out) {
      expect(o.result).toBe('complete');
      const body = JSON.parse(o.body) as Record<string, unknown>;
      if (o.status === 200) {
        expect(body.upstream).toBe('flaky');
        continue;
      }
      // A 5xx: it must be the upstream's own, body and headers intact.
      if (body.own !== true || body.status !== o.status) {
        gatewayMade.push(o);
        continue;
      }
      expect([500, 502, 503, 504]).toContain(o.status);
      expect(o.headers['x-upstream-error']).toBe(String(o.status));
      expect(o.headers['content-type']).toBe('application/json');
    }
    expect(gatewayMade.map((o) => `${o.status} ${o.body}`)).toEqual([]);
    // 500 is relayed as the application's answer, never retried (10-in-a-row runs show up).
    expect(counts['500']).toBeGreaterThan(0);
    expect(await metric(g, 'circuit_breaker_trips_total', { backend: `${flaky.url}/` })).toBe(0);
  }, 90_000);

  /** Three upstream processes behind one default route, and 200 req/s of GETs and POSTs. */
  async function trio() {
    procs = await Promise.all(['a', 'b', 'c'].map((n) => startUpstreamProcess(n)));
    gw = await startGateway(
      defaultsConfig([{ name: 'trio', prefix: '/', targets: procs.map((p) => p.url) }]),
    );
    // Warm up (JIT, first connections), so the measured load is not a cold start.
    for (let i = 0; i < 30; i++) {
      await attempt(gw.url, `/warm/${i}`, { agent, timeoutMs: 10_000 });
    }
    return { gw, victim: procs[2], c: upstreamOf(gw, procs[2].url) };
  }

  /** 600 requests over 3 s, every fifth a POST carrying its id. */
  function load(g: TestGateway): Promise<Outcome[]> {
    return drive(3, 200, (i) =>
      attempt(g.url, `/r/${i}`, {
        agent,
        method: i % 5 === 4 ? 'POST' : 'GET',
        body: i % 5 === 4 ? `post-${i}` : undefined,
        timeoutMs: 15_000,
      }),
    );
  }

  /** Every POST reached an upstream at most once, and exactly once when it got a 200. */
  async function expectPostsNeverTwice(out: Outcome[]): Promise<void> {
    const hits = (await Promise.all(procs.map((p) => p.hits()))).flat();
    const received = new Map<string, number>();
    for (const h of hits) {
      if (h.startsWith('POST ')) {
        received.set(h, (received.get(h) ?? 0) + 1);
      }
    }
    expect([...received.values()].filter((n) => n > 1)).toEqual([]);
    out.forEach((o, i) => {
      if (i % 5 === 4 && o.status === 200) {
        expect(received.get(`POST /r/${i}`)).toBe(1);
      }
    });
  }

  it('should take an upstream that refuses connections out of rotation within 1 s under load, GETs unharmed', async () => {
    const { gw: g, victim, c } = await trio();
    const traffic = load(g);
    await sleep(1000);
    await victim.refuse();
    const outMs = await timeUntilOut(c, 3000);
    const out = await traffic;
    const gets = out.filter((_, i) => i % 5 !== 4);
    const posts = out.filter((_, i) => i % 5 === 4);
    process.stdout.write(
      `refused: out of rotation after ${outMs.toFixed(0)} ms; GET ${JSON.stringify(tally(gets))} ` +
        `POST ${JSON.stringify(tally(posts))}\n`,
    );
    expect(outMs).toBeGreaterThanOrEqual(0);
    expect(outMs).toBeLessThan(1000);
    expect(tally(gets)).toEqual({ '200': gets.length });
    await expectPostsNeverTwice(out);
  });

  it('should take a hung upstream out of rotation within 1 s under load and move its GETs, never a POST', async () => {
    const { gw: g, victim, c } = await trio();
    const traffic = load(g);
    await sleep(1000);
    await victim.hang();
    const outMs = await timeUntilOut(c, 3000);
    // Let the rest of the load run, then let the hung upstream answer what it still holds.
    await sleep(2200);
    await victim.unhang();
    const out = await traffic;
    const gets = out.filter((_, i) => i % 5 !== 4);
    const posts = out.filter((_, i) => i % 5 === 4);
    // GETs sent once the upstream hung (from 1 s on): each waited at most the stall timeout
    // before it moved, not until the hung upstream answered at the end.
    const slowest = Math.max(...out.filter((_, i) => i % 5 !== 4 && i >= 200).map((o) => o.ms));
    process.stdout.write(
      `hung: out of rotation after ${outMs.toFixed(0)} ms; GET ${JSON.stringify(tally(gets))} ` +
        `(slowest ${slowest.toFixed(0)} ms) POST ${JSON.stringify(tally(posts))}; ` +
        `stalled attempts ${await metric(g, 'upstream_errors_total', { route: 'trio', kind: 'stalled' })}\n`,
    );
    expect(outMs).toBeGreaterThanOrEqual(0);
    expect(outMs).toBeLessThan(1000);
    expect(tally(gets)).toEqual({ '200': gets.length });
    expect(slowest).toBeLessThan(2000);
    await expectPostsNeverTwice(out);
  });

  it('should put a killed and restarted upstream back in rotation within HEALTH_CHECK_INTERVAL + 1 s', async () => {
    // The one setting changed: the interval the outcome is measured against (2 s instead of
    // 10 s, so the case stays short). Ejection (30 s) and the breaker (30 s) keep their defaults,
    // so only the passed probe can bring the upstream back this fast.
    const intervalMs = 2000;
    procs = await Promise.all(['a', 'b', 'c'].map((n) => startUpstreamProcess(n)));
    const victimPort = procs[2].port;
    const g = await startGateway(
      defaultsConfig([{ name: 'trio', prefix: '/', targets: procs.map((p) => p.url) }], {
        HEALTH_CHECK_INTERVAL: `${intervalMs}ms`,
      }),
    );
    gw = g;
    const c = upstreamOf(g, procs[2].url);
    let running = true;
    const traffic = (async () => {
      const out: Outcome[] = [];
      for (let i = 0; running && i < 5_000; i++) {
        out.push(await attempt(g.url, `/k/${i}`, { agent, timeoutMs: 10_000 }));
        await sleep(10);
      }
      return out;
    })();
    try {
      await sleep(500);
      await procs[2].kill();
      expect(await timeUntilOut(c, 3000)).toBeGreaterThanOrEqual(0);
      // Long enough for the probes to call it down too.
      await sleep(2 * intervalMs + 500);
      expect(c.healthy).toBe(false);
      procs[2] = await startUpstreamProcess('c', { port: victimPort });
      const restartedAt = performance.now();
      let backAfter = -1;
      while (performance.now() - restartedAt < intervalMs + 3000) {
        if ((await procs[2].hits()).length > 0) {
          backAfter = performance.now() - restartedAt;
          break;
        }
        await sleep(20);
      }
      process.stdout.write(
        `restarted: first request after ${backAfter.toFixed(0)} ms (HEALTH_CHECK_INTERVAL ${intervalMs} ms)\n`,
      );
      expect(backAfter).toBeGreaterThanOrEqual(0);
      expect(backAfter).toBeLessThan(intervalMs + 1000);
      // Back for good: the half-open trial succeeded and the breaker closed.
      await sleep(300);
      expect(c.isAvailable()).toBe(true);
    } finally {
      running = false;
    }
    const out = await traffic;
    // Killing an upstream resets what it was serving; GETs are retried elsewhere.
    expect(tally(out)).toEqual({ '200': out.length });
  });
});
