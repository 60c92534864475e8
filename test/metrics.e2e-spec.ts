import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, waitFor } from './fixtures/http';
import { testAuthConfig } from './fixtures/jwt';
import { spawnGateway } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';
import type { GatewayConfig } from '../src/config/gateway-config.types';
import { GATEWAY_METRIC_NAMES } from '../src/observability/metrics.constants';
import {
  familyNames,
  parsePrometheusText,
  sampleSum,
  type Sample,
} from './support/prometheus-text';

/**
 * Limits out of the way unless a test sets its own, and every scrape rendered afresh: these
 * cases compare counters before and after a few requests.
 */
function config(routes: Parameters<typeof testConfig>[0], extra: Partial<GatewayConfig> = {}) {
  const base = testConfig([]);
  return testConfig(routes, {
    ...extra,
    observability: { ...base.observability, metricsCacheMs: 0, ...extra.observability },
    security: {
      ...base.security,
      maxRequestsPerSecond: 1e6,
      maxBurstSize: 1e6,
      ddosThreshold: 1e8,
      ...extra.security,
    },
  });
}

/** Scrapes as Prometheus would: from an address of its own, never the one a case limits. */
async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const r = await send(url, '/metrics', { localAddress: '127.0.0.250' });
  expect(r.status).toBe(200);
  return { text: r.text, samples: parsePrometheusText(r.text) };
}

/** A port nothing listens on (an upstream that was started and stopped). */
async function deadUrl(): Promise<string> {
  const u = await startUpstream();
  await u.close();
  return u.url;
}

describe('metrics (e2e)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream((req, res, body) => {
      if (req.url?.startsWith('/api/fail')) {
        res.writeHead(500, { 'content-length': '0' });
        res.end();
        return;
      }
      const delay = req.url?.startsWith('/api/slow') ? 1000 : 0;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${body.length}`);
      }, delay);
    });
    gw = await startGateway(
      config([
        { name: 'api', prefix: '/api', upstreams: [up.url] },
        { name: 'down', prefix: '/down', upstreams: [await deadUrl()] },
      ]),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should count 2xx requests by route, method and status, with latency and bytes', async () => {
    const before = (await scrape(gw.url)).samples;
    for (let i = 0; i < 3; i++) {
      expect((await send(gw.url, '/api/x')).status).toBe(200);
    }
    const post = await send(gw.url, '/api/y', { method: 'POST', body: '0123456789' });
    expect(post.status).toBe(200);
    const after = (await scrape(gw.url)).samples;
    const delta = (name: string, labels: Record<string, string>) =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);

    expect(delta('http_requests_total', { method: 'GET', endpoint: 'api', status: '200' })).toBe(3);
    expect(delta('http_requests_total', { method: 'POST', endpoint: 'api', status: '200' })).toBe(
      1,
    );
    expect(delta('http_request_duration_seconds_count', { method: 'GET', endpoint: 'api' })).toBe(
      3,
    );
    expect(
      delta('http_request_duration_seconds_bucket', { method: 'GET', endpoint: 'api', le: '+Inf' }),
    ).toBe(3);
    expect(delta('http_request_bytes_total', { route: 'api' })).toBe(10);
    // "ok 0" x3 and "ok 10".
    expect(delta('http_response_bytes_total', { route: 'api' })).toBe(3 * 4 + 5);
    expect(
      delta('upstream_request_duration_seconds_count', { route: 'api', upstream: `${up.url}/` }),
    ).toBe(4);
    // The route label is the route name, never the raw path.
    expect(after.some((s) => s.labels.endpoint === '/api/x')).toBe(false);
  });

  it('should count unrouted requests under endpoint="unmatched"', async () => {
    const before = (await scrape(gw.url)).samples;
    expect((await send(gw.url, '/nowhere')).status).toBe(404);
    const after = (await scrape(gw.url)).samples;
    expect(
      sampleSum(after, 'http_requests_total', { endpoint: 'unmatched', status: '404' }) -
        sampleSum(before, 'http_requests_total', { endpoint: 'unmatched', status: '404' }),
    ).toBe(1);
  });

  it('should count upstream errors by kind, retries and the 502 of an unreachable upstream', async () => {
    const before = (await scrape(gw.url)).samples;
    expect((await send(gw.url, '/down/x')).status).toBe(502);
    expect((await send(gw.url, '/api/fail')).status).toBe(500);
    const after = (await scrape(gw.url)).samples;
    const delta = (name: string, labels: Record<string, string>) =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('http_requests_total', { endpoint: 'down', status: '502' })).toBe(1);
    // RETRY_ATTEMPTS=3: connection refused is retried twice (on the only upstream).
    expect(delta('upstream_errors_total', { route: 'down', kind: 'connect' })).toBe(3);
    expect(delta('upstream_retries_total', { route: 'down' })).toBe(2);
    // A 500 is the application's answer: counted by status, never against the upstream.
    expect(delta('upstream_errors_total', { route: 'api' })).toBe(0);
    expect(delta('http_requests_total', { endpoint: 'api', status: '500' })).toBe(1);
  });

  it('should count WebSocket upgrades (101 and refused) without their lifetime as latency', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket) => socket.send('hi'));
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const wsUrl = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const wgw = await startGateway(config([{ name: 'ws', prefix: '/ws', upstreams: [wsUrl] }]));
    try {
      const before = (await scrape(wgw.url)).samples;
      const ws = new WebSocket(`ws://127.0.0.1:${wgw.port}/ws/chat`);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      // Held open for a while: a WebSocket's lifetime is not a request latency.
      await new Promise((r) => setTimeout(r, 300));
      ws.close();
      await new Promise((r) => ws.once('close', r));
      const refused = new WebSocket(`ws://127.0.0.1:${wgw.port}/elsewhere`);
      await new Promise((r) => refused.once('error', r));
      let after = (await scrape(wgw.url)).samples;
      for (
        let i = 0;
        i < 50 && sampleSum(after, 'http_requests_total', { status: '101' }) === 0;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 20));
        after = (await scrape(wgw.url)).samples;
      }
      const delta = (name: string, labels: Record<string, string>) =>
        sampleSum(after, name, labels) - sampleSum(before, name, labels);
      expect(delta('http_requests_total', { method: 'GET', endpoint: 'ws', status: '101' })).toBe(
        1,
      );
      expect(delta('http_requests_total', { endpoint: 'unmatched', status: '404' })).toBe(1);
      expect(delta('http_request_duration_seconds_count', { endpoint: 'ws' })).toBe(0);
      expect(delta('http_response_bytes_total', { route: 'ws' })).toBeGreaterThan(0);
    } finally {
      await wgw.close();
      await new Promise((r) => wss.close(r));
    }
  });

  it('should keep the series count bounded whatever paths clients send', async () => {
    await send(gw.url, '/api/warm');
    await send(gw.url, '/warm');
    const count = (text: string) =>
      text.split('\n').filter((l) => /^(http_|upstream_|rate_limited)/.test(l)).length;
    const before = count((await scrape(gw.url)).text);
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const rnd = Math.random().toString(36).slice(2);
          return send(gw.url, (i + j) % 2 === 0 ? `/api/${rnd}?q=${rnd}` : `/${rnd}/${i + j}`);
        }),
      );
    }
    expect(count((await scrape(gw.url)).text)).toBe(before);
  });

  it('should serve OpenMetrics when asked, and the text format otherwise', async () => {
    const om = await send(gw.url, '/metrics', {
      headers: {
        accept:
          'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    });
    expect(om.status).toBe(200);
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(om.text.endsWith('# EOF\n')).toBe(true);
    expect(om.text).toContain('# TYPE http_requests counter');
    expect(om.text).toMatch(
      /^http_requests_total\{method="GET",endpoint="api",status="200"\} \d+$/m,
    );
    expect(om.text).toMatch(/^http_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+$/m);
    // Counter names are not renamed in place: the next text scrape is unchanged.
    const text = await send(gw.url, '/metrics', { headers: { accept: 'text/plain' } });
    expect(text.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.text).toContain('# TYPE http_requests_total counter');
    expect(text.text).not.toContain('# EOF');
    expect(text.headers['cache-control']).toBe('no-store');
  });

  it('should pass promtool check metrics', async () => {
    const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (promtool.error) {
      throw new Error(
        'promtool not found: install Debian package "prometheus" (.ci/run does it in CI)',
      );
    }
    await send(gw.url, '/api/x');
    const { text } = await scrape(gw.url);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({
      status: 0,
      out: '',
    });
  });

  it('should report open client connections and upstream requests in flight', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // One request held at the upstream for 1 s on a kept-alive socket.
    const held = new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/api/slow`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(() => up.requests.some((r) => r.url === '/api/slow'));
    const during = (await scrape(gw.url)).samples;
    expect(sampleSum(during, 'upstream_in_flight', { upstream: `${up.url}/` })).toBe(1);
    // The held socket plus the scrape's own.
    expect(sampleSum(during, 'active_connections')).toBeGreaterThanOrEqual(2);
    await held;
    agent.destroy();
    const after = (await scrape(gw.url)).samples;
    expect(sampleSum(after, 'upstream_in_flight', { upstream: `${up.url}/` })).toBe(0);
  });

  it('should name only metrics the gateway exports in the Grafana dashboards', async () => {
    const { text } = await scrape(gw.url);
    const families = familyNames(text);
    const exported = (name: string): boolean =>
      families.has(name) ||
      ['_bucket', '_sum', '_count'].some(
        (suffix) => name.endsWith(suffix) && families.has(name.slice(0, -suffix.length)),
      );
    const dir = join(__dirname, '..', 'docker', 'grafana', 'dashboards');
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        panels: { targets?: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const t of panel.targets ?? []) {
          // What is left once label matchers, grouping clauses, ranges, numbers and function
          // calls are removed is metric names.
          const bare = t.expr
            .replace(/\{[^}]*\}/g, ' ')
            .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
            .replace(/\[[^\]]*\]/g, ' ')
            .replace(/\b\d+(\.\d+)?(e[-+]?\d+)?\b/g, ' ')
            .replace(/\b[a-z_]+\s*\(/g, ' ');
          for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
            if (!/^(and|or|unless|bool|offset)$/.test(m[0])) {
              used.add(m[0]);
            }
          }
        }
      }
    }
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((n) => !exported(n))).toEqual([]);
    // And the documented list of the gateway's own metrics is what it exports.
    expect(GATEWAY_METRIC_NAMES.filter((n) => !families.has(n))).toEqual([]);
  });
});

describe('metrics: limits, blocks and Server-Timing (e2e)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'server-timing': 'db;dur=12' });
        res.end('ok');
      }, 60);
    });
  });
  afterAll(() => up.close());

  it('should count 429s by route and policy, and flood blocks', async () => {
    const base = testConfig([]);
    const gw = await startGateway(
      testConfig([{ name: 'limited', prefix: '/', upstreams: [up.url] }], {
        observability: { ...base.observability, metricsCacheMs: 0 },
        security: {
          ...base.security,
          maxRequestsPerSecond: 0.001,
          maxBurstSize: 2,
          ddosThreshold: 6,
        },
      }),
    );
    try {
      const before = (await scrape(gw.url)).samples;
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await send(gw.url, '/x')).status);
      }
      // 2 admitted, 4 over the bucket, then the 7th request crosses DDOS_THRESHOLD (6 in a
      // minute) and blocks the client: it and every later request get the flood 429.
      expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
      const after = (await scrape(gw.url)).samples;
      const delta = (name: string, labels: Record<string, string> = {}) =>
        sampleSum(after, name, labels) - sampleSum(before, name, labels);
      expect(delta('rate_limited_total', { route: 'limited', policy: 'default' })).toBe(4);
      expect(delta('rate_limited_total', { route: 'limited', policy: 'flood' })).toBe(2);
      expect(delta('http_requests_total', { endpoint: 'limited', status: '429' })).toBe(6);
      expect(delta('blocked_ips_total')).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('should count 401s and 403s refused before proxying under their route', async () => {
    const key = 'live_0123456789abcdef0123';
    const base = testConfig([]);
    const auth = await startGateway(
      config([{ name: 'private', requireAuth: true, upstreams: [up.url] }], {
        auth: testAuthConfig({
          apiKeys: [{ hash: createHash('sha256').update(key).digest('hex'), name: 'ci' }],
        }),
      }),
    );
    const denied = await startGateway(
      config([{ name: 'walled', upstreams: [up.url] }], {
        security: { ...base.security, ipBlacklist: ['127.0.0.1'] },
      }),
    );
    try {
      const before = (await scrape(auth.url)).samples;
      expect((await send(auth.url, '/x')).status).toBe(401);
      expect((await send(auth.url, '/x', { headers: { 'x-api-key': key } })).status).toBe(200);
      expect((await send(denied.url, '/x')).status).toBe(403);
      const after = (await scrape(auth.url)).samples;
      const delta = (labels: Record<string, string>) =>
        sampleSum(after, 'http_requests_total', labels) -
        sampleSum(before, 'http_requests_total', labels);
      expect(delta({ endpoint: 'private', status: '401' })).toBe(1);
      expect(delta({ endpoint: 'private', status: '200' })).toBe(1);
      // Both gateways share this test process's registry.
      expect(delta({ endpoint: 'walled', status: '403' })).toBe(1);
    } finally {
      await auth.close();
      await denied.close();
    }
  });

  it('should add Server-Timing and X-Gateway-Latency only when SERVER_TIMING is on', async () => {
    const base = testConfig([]);
    const on = await startGateway(
      config([{ name: 'timed', upstreams: [up.url] }], {
        observability: { ...base.observability, serverTiming: true },
      }),
    );
    const off = await startGateway(config([{ name: 'timed', upstreams: [up.url] }]));
    try {
      const r = await send(on.url, '/t');
      expect(r.status).toBe(200);
      const timing = r.rawHeaders.filter(
        (_, i, a) => i % 2 === 1 && a[i - 1].toLowerCase() === 'server-timing',
      );
      // The upstream's own entry is kept beside the gateway's.
      expect(timing).toContain('db;dur=12');
      const ours = timing.find((t) => t.startsWith('gw;'));
      const m = /^gw;dur=(\d+\.\d{3}), upstream;dur=(\d+\.\d{3})$/.exec(ours ?? '');
      expect(m).not.toBeNull();
      const [gwMs, upstreamMs] = [Number(m![1]), Number(m![2])];
      // The upstream waits 60 ms before answering; the gateway's share is what is left.
      expect(upstreamMs).toBeGreaterThanOrEqual(50);
      expect(gwMs).toBeGreaterThanOrEqual(0);
      expect(gwMs).toBeLessThan(upstreamMs + 1000);
      expect(r.headers['x-gateway-latency']).toBe(m![1]);

      const plain = await send(off.url, '/t');
      expect(plain.status).toBe(200);
      expect(plain.headers['server-timing']).toBe('db;dur=12');
      expect(plain.headers['x-gateway-latency']).toBeUndefined();
    } finally {
      await on.close();
      await off.close();
    }
  });
});

/** A free loopback port (Prometheus cannot listen on port 0 and report it). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('metrics: scraped by a real Prometheus (e2e)', () => {
  it('should be ingested by Prometheus, which negotiates OpenMetrics', async () => {
    const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (version.error) {
      throw new Error('prometheus not found: install Debian package "prometheus" (.ci/run does)');
    }
    const up = await startUpstream();
    // A route name of its own: the registry is shared by every gateway in this test process.
    const gw = await startGateway(
      config([{ name: 'scraped', prefix: '/api', upstreams: [up.url] }]),
    );
    const dir = mkdtempSync(join(tmpdir(), 'prom-'));
    const webPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s }',
        'scrape_configs:',
        '  - job_name: gateway',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${gw.port}']`,
        '',
      ].join('\n'),
    );
    const prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (
      q: string,
    ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      try {
        const r = await send(
          `http://127.0.0.1:${webPort}`,
          `/api/v1/query?query=${encodeURIComponent(q)}`,
        );
        return r.status === 200 ? r.json<{ data: { result: never[] } }>().data.result : [];
      } catch {
        return [];
      }
    };
    try {
      for (let i = 0; i < 3; i++) {
        expect((await send(gw.url, '/api/x')).status).toBe(200);
      }
      // Bounded wait (machine may be loaded): Prometheus start plus a scrape or two.
      const deadline = Date.now() + 60_000;
      let requests: Awaited<ReturnType<typeof query>> = [];
      while (Date.now() < deadline) {
        requests = await query('http_requests_total{endpoint="scraped",status="200"}');
        if (requests.length > 0) {
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(requests.map((r) => Number(r.value[1]))).toEqual([3]);
      const upValue = await query('up{job="gateway"}');
      expect(upValue.map((r) => r.value[1])).toEqual(['1']);
      // Histograms and default process metrics made it through the parser as well.
      expect(
        (await query('http_request_duration_seconds_bucket{endpoint="scraped",le="+Inf"}')).length,
      ).toBe(1);
      expect((await query('nodejs_eventloop_lag_p99_seconds')).length).toBe(1);
    } finally {
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
      await gw.close();
      await up.close();
    }
  }, 90_000);
});

describe('metrics: GATEWAY_WORKERS (e2e, built gateway)', () => {
  it("should serve the whole pool's counters from whichever worker is scraped", async () => {
    const up = await startUpstream();
    const gw = await spawnGateway({
      GATEWAY_WORKERS: '2',
      LOG_LEVEL: 'info',
      MAX_REQUESTS_PER_SECOND: '100000',
      MAX_BURST_SIZE: '100000',
      SERVICE_ROUTES: JSON.stringify([{ name: 'pool', prefix: '/', target_url: up.url }]),
    });
    try {
      const pids = (): Set<number> =>
        new Set(
          gw
            .stdout()
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { msg?: string; pid?: number })
            .filter((l) => l.msg === 'request completed')
            .map((l) => l.pid ?? -1),
        );
      await waitFor(
        () => gw.stdout().split('primary: worker listening').length - 1 >= 2,
        20_000,
        50,
      );
      // Fresh connections: the primary hands them to the workers in turn.
      for (let i = 0; i < 20; i++) {
        expect((await send(gw.url, `/x/${i}`)).status).toBe(200);
      }
      await waitFor(() => pids().size >= 2, 5_000);
      for (let i = 0; i < 4; i++) {
        const { text, samples } = await scrape(gw.url);
        expect(sampleSum(samples, 'http_requests_total', { endpoint: 'pool', status: '200' })).toBe(
          20,
        );
        if (i === 0) {
          // The merged exposition is as valid as a single process's.
          const check = spawnSync('promtool', ['check', 'metrics'], {
            input: text,
            encoding: 'utf8',
          });
          expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({
            status: 0,
            out: '',
          });
        }
      }
      const om = await send(gw.url, '/metrics', {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      expect(om.text).toMatch(
        /^http_requests_total\{method="GET",endpoint="pool",status="200"\} 20$/m,
      );
    } finally {
      await gw.stop();
      await up.close();
    }
  }, 60_000);
});
