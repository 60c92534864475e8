import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteConfig } from '../../src/config/gateway-config.types';
import { RouteTableService } from '../../src/routing/route-table.service';
import { startGateway, testConfig, type TestGateway } from '../fixtures/gateway';
import { sleep } from '../fixtures/http';
import { spawnGateway } from '../fixtures/process';
import { startUpstream, type TestUpstream } from '../fixtures/upstream';
import { attempt, tally, type Outcome } from './support/client';
import { expectNoLeaks } from './support/leaks';

/** Shutdown and route reloads while traffic flows: nothing accepted is lost. */

const limits = () => {
  const base = testConfig([]);
  return {
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
    },
  };
};

describe('SIGTERM under load (reliability)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    // Each request takes 50-250 ms upstream, so many are in flight when the signal lands.
    up = await startUpstream((req, res) => {
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`done ${String(req.headers['x-request-id'])}`);
        },
        50 + Math.floor(Math.random() * 200),
      );
    });
  });
  afterAll(() => up.close());

  it('should answer every request it accepted, completely, and exit 0', async () => {
    const gw = await spawnGateway({
      SERVICE_ROUTES: JSON.stringify([{ name: 'app', prefix: '/', target_url: up.url }]),
      SHUTDOWN_TIMEOUT: '10s',
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
      LOG_LEVEL: 'warn',
    });
    const outcomes = new Map<string, Outcome>();
    let stop = false;
    let seq = 0;
    const workers = Array.from({ length: 24 }, async (_, w) => {
      // Half the clients open a connection per request, half reuse keep-alive connections.
      const agent = w % 2 === 0 ? false : new Agent({ keepAlive: true, maxSockets: 1 });
      let refusedInARow = 0;
      for (let i = 0; !stop && i < 5000 && refusedInARow < 5; i++) {
        const id = `term-${seq++}`;
        const o = await attempt(gw.url, `/work/${id}`, {
          agent,
          headers: { 'x-request-id': id },
          timeoutMs: 15_000,
        });
        outcomes.set(id, o);
        refusedInARow = o.result === 'ECONNREFUSED' ? refusedInARow + 1 : 0;
      }
      if (agent) {
        agent.destroy();
      }
    });
    await sleep(1500);
    gw.child.kill('SIGTERM');
    const timer = setTimeout(() => gw.child.kill('SIGKILL'), 20_000);
    const code = await gw.exited;
    clearTimeout(timer);
    stop = true;
    await Promise.all(workers);
    expect(code).toBe(0);

    const reached = new Set(up.requests.map((r) => String(r.headers['x-request-id'])));
    const lost: string[] = [];
    const unexpected: string[] = [];
    for (const [id, o] of outcomes) {
      const complete200 = o.result === 'complete' && o.status === 200 && o.body === `done ${id}`;
      if (reached.has(id) && !complete200) {
        lost.push(`${id}: ${o.status} ${o.result}`);
      }
      if (!reached.has(id)) {
        // Never accepted: refused or reset before any response, or told 503 (shutting down).
        const ok =
          (o.status === 0 && ['ECONNREFUSED', 'ECONNRESET', 'socket hang up'].includes(o.result)) ||
          (o.result === 'complete' && o.status === 503);
        if (!ok) {
          unexpected.push(`${id}: ${o.status} ${o.result}`);
        }
      }
    }
    const counts = tally([...outcomes.values()]);
    process.stdout.write(
      `SIGTERM under load: ${outcomes.size} requests, ${JSON.stringify(counts)}\n`,
    );
    expect(lost).toEqual([]);
    expect(unexpected).toEqual([]);
    // The test means something: plenty completed, and the signal hit during traffic.
    expect(reached.size).toBeGreaterThan(100);
    expect(outcomes.size).toBeGreaterThan(reached.size);
  });
});

describe('route reload under load (reliability)', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let slow: TestUpstream;
  let gw: TestGateway;
  let tables: RouteConfig[][];

  beforeAll(async () => {
    [a, b] = await Promise.all([startUpstream(), startUpstream()]);
    slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end('slow done'), 400);
    });
    const base = (routes: Parameters<typeof testConfig>[0]) => testConfig(routes).routes;
    tables = [
      base([
        { name: 'svc', prefix: '/svc', upstreams: [a.url] },
        { name: 'old', prefix: '/old', upstreams: [slow.url] },
      ]),
      base([
        { name: 'svc', prefix: '/svc', upstreams: [b.url, a.url] },
        { name: 'new', prefix: '/new', upstreams: [b.url] },
      ]),
    ];
    gw = await startGateway(
      testConfig(
        [
          { name: 'svc', prefix: '/svc', upstreams: [a.url] },
          { name: 'old', prefix: '/old', upstreams: [slow.url] },
        ],
        limits(),
      ),
    );
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close(), slow.close()]);
  });

  it('should drop nothing while the route table is replaced 30 times under traffic', async () => {
    const table = gw.gateway.app.get(RouteTableService);
    const outcomes: Outcome[] = [];
    let running = true;
    const workers = Array.from({ length: 12 }, async (_, w) => {
      const agent = w % 2 ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
      for (let i = 0; running && i < 10_000; i++) {
        outcomes.push(await attempt(gw.url, `/svc/${w}-${i}`, { agent, timeoutMs: 5000 }));
      }
      if (agent) {
        agent.destroy();
      }
    });
    for (let i = 0; i < 30; i++) {
      await sleep(60);
      table.replace(tables[i % 2]);
    }
    running = false;
    await Promise.all(workers);
    expect(tally(outcomes)).toEqual({ '200': outcomes.length });
    expect(outcomes.length).toBeGreaterThan(100);
    expect(a.requests.length).toBeGreaterThan(0);
    expect(b.requests.length).toBeGreaterThan(0);
    await expectNoLeaks(gw);
  });

  it('should finish requests in flight on a route the reload removed, and 404 new ones', async () => {
    const table = gw.gateway.app.get(RouteTableService);
    table.replace(tables[0]);
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      attempt(gw.url, `/old/${i}`, { timeoutMs: 5000 }),
    );
    await sleep(150);
    table.replace(tables[1]);
    const after = await attempt(gw.url, '/old/after', { timeoutMs: 5000 });
    const done = await Promise.all(inFlight);
    expect(done.map((o) => `${o.status} ${o.result} ${o.body}`)).toEqual(
      Array(20).fill('200 complete slow done'),
    );
    expect(after.status).toBe(404);
    expect((await attempt(gw.url, '/new/x')).status).toBe(200);
    await expectNoLeaks(gw);
  });
});

describe('POST /admin/config/reload under load (reliability)', () => {
  const TOKEN = 'reliability-admin-token-0123456789abcdef';
  let a: TestUpstream;
  let b: TestUpstream;
  let dir: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([startUpstream(), startUpstream()]);
    dir = mkdtempSync(join(tmpdir(), 'gateway-reload-'));
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const writeRoutes = (file: string, upstream: string, extra: string): void =>
    writeFileSync(
      file,
      `routes:\n  - name: svc\n    prefix: /svc\n    target_url: ${upstream}\n${extra}`,
    );

  const reload = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/admin/config/reload',
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-length': '0' },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('should drop nothing while the config file is reloaded 10 times under traffic', async () => {
    const file = join(dir, 'gateway.yaml');
    writeRoutes(file, a.url, '');
    const gw = await spawnGateway({
      GATEWAY_CONFIG: file,
      ADMIN_TOKEN: TOKEN,
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
      LOG_LEVEL: 'warn',
    });
    try {
      const outcomes: Outcome[] = [];
      let running = true;
      const workers = Array.from({ length: 8 }, async (_, w) => {
        const agent = w % 2 ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
        for (let i = 0; running && i < 10_000; i++) {
          outcomes.push(await attempt(gw.url, `/svc/${w}-${i}`, { agent, timeoutMs: 5000 }));
        }
        if (agent) {
          agent.destroy();
        }
      });
      const reloads: number[] = [];
      for (let i = 0; i < 10; i++) {
        await sleep(150);
        writeRoutes(
          file,
          i % 2 ? a.url : b.url,
          i % 2 ? '' : `  - name: extra\n    prefix: /extra\n    target_url: ${b.url}\n`,
        );
        reloads.push(await reload(gw.port));
      }
      running = false;
      await Promise.all(workers);
      expect(reloads).toEqual(Array(10).fill(200));
      expect(tally(outcomes)).toEqual({ '200': outcomes.length });
      expect(outcomes.length).toBeGreaterThan(50);
      expect(a.requests.length).toBeGreaterThan(0);
      expect(b.requests.length).toBeGreaterThan(0);
    } finally {
      await gw.stop();
    }
  });
});
