import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SystemMetricsService } from '../src/observability/system-metrics.service';
import type { SystemMetricsReport } from '../src/observability/system-metrics.types';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, sleep } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');

/** Every object key in a JSON value, recursively. */
function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => keysOf(v, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysOf(v, out);
    }
  }
  return out;
}

describe('/monitor and /api/system-metrics (e2e)', () => {
  let upstream: TestUpstream;
  let failing: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    failing = await startUpstream((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    });
    gw = await startGateway(
      testConfig([
        { name: 'app', prefix: '/app', upstreams: [upstream.url] },
        // No retries or ejection: every request here is one upstream 500.
        { name: 'broken', prefix: '/broken', upstreams: [failing.url] },
      ]),
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await failing?.close();
  });

  describe('GET /api/system-metrics', () => {
    it('should answer the documented shape as uncacheable JSON', async () => {
      const r = await send(gw.url, '/api/system-metrics');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      const body = r.json<SystemMetricsReport>();
      expect(body).toMatchObject({
        sampledAt: expect.any(String) as string,
        sample: expect.any(Number) as number,
        intervalMs: 2000,
        gateway: { version: expect.any(String) as string },
        host: {
          cpuPercent: expect.any(Number) as number,
          cores: expect.any(Number) as number,
          uptimeSeconds: expect.any(Number) as number,
          memory: {
            totalBytes: expect.any(Number) as number,
            freeBytes: expect.any(Number) as number,
            usedBytes: expect.any(Number) as number,
            usedPercent: expect.any(Number) as number,
          },
        },
        process: {
          cpuPercent: expect.any(Number) as number,
          rssBytes: expect.any(Number) as number,
          heapUsedBytes: expect.any(Number) as number,
          heapTotalBytes: expect.any(Number) as number,
          eventLoop: {
            delayMs: { p50: expect.any(Number) as number, p99: expect.any(Number) as number },
            utilization: expect.any(Number) as number,
          },
          uptimeSeconds: expect.any(Number) as number,
          nodeVersion: process.version,
        },
        traffic: {
          totals: { requests: expect.any(Number) as number },
          rates: { requestsPerSecond: expect.any(Number) as number },
          latencyMs: { p99: expect.any(Number) as number },
          routes: [{ name: 'app' }, { name: 'broken' }],
          upstreams: [
            { route: 'app', url: expect.stringContaining('127.0.0.1') as string },
            { route: 'broken', circuit: 'closed' },
          ],
        },
      });
      expect(body.host.loadAverage).toHaveLength(3);
      expect(body.host.cores).toBeGreaterThan(0);
      expect(body.host.memory.totalBytes).toBeGreaterThan(body.host.memory.freeBytes);
      expect(body.process.rssBytes).toBeGreaterThan(0);
      for (const series of Object.values(body.history).filter(Array.isArray)) {
        expect(series.length).toBeGreaterThan(0);
        expect(series.length).toBeLessThanOrEqual(60);
      }
    });

    it('should serve the background sample instead of measuring per call', async () => {
      const service = gw.gateway.app.get(SystemMetricsService);
      // Two calls a millisecond apart return the same bytes; a timer tick may fall between one
      // pair, never between all of them.
      let identical = false;
      for (let i = 0; i < 5 && !identical; i++) {
        const a = await send(gw.url, '/api/system-metrics');
        await sleep(1);
        const b = await send(gw.url, '/api/system-metrics');
        identical = a.text === b.text;
      }
      expect(identical).toBe(true);

      const sampleNow = jest.spyOn(service, 'sampleNow');
      try {
        for (let i = 0; i < 20; i++) {
          expect((await send(gw.url, '/api/system-metrics')).status).toBe(200);
        }
        // 20 calls, at most the timer's own samples (one per 2 s) in between.
        expect(sampleNow.mock.calls.length).toBeLessThan(20);
      } finally {
        sampleNow.mockRestore();
      }
    });

    it('should expose no command line, environment, path, PID or host name', async () => {
      const r = await send(gw.url, '/api/system-metrics');
      const keys = keysOf(r.json());
      for (const k of ['cmdline', 'argv', 'execArgv', 'env', 'pid', 'ppid', 'hostname', 'cwd']) {
        expect(keys.has(k)).toBe(false);
      }
      const forbidden = [
        process.execPath,
        process.cwd(),
        __dirname,
        ...process.argv.filter((a) => a.length > 3),
      ];
      for (const s of forbidden) {
        expect(r.text).not.toContain(s);
      }
    });

    it('should reflect proxied traffic in the next sample', async () => {
      for (let i = 0; i < 20; i++) {
        expect((await send(gw.url, '/app/x')).status).toBe(200);
      }
      expect((await send(gw.url, '/broken/x')).status).toBe(500);
      let body: SystemMetricsReport | undefined;
      const deadline = Date.now() + 15000;
      do {
        await sleep(200);
        body = (await send(gw.url, '/api/system-metrics')).json<SystemMetricsReport>();
      } while (body.traffic.totals.requests < 21 && Date.now() < deadline);
      expect(body.traffic.totals.requests).toBeGreaterThanOrEqual(21);
      expect(body.traffic.totals.errors).toBeGreaterThanOrEqual(1);
      expect(body.traffic.routes.find((r) => r.name === 'app')?.requests).toBeGreaterThanOrEqual(
        20,
      );
      expect(body.traffic.upstreams.find((u) => u.route === 'app')?.requests).toBeGreaterThan(0);
    });
  });

  describe('GET /monitor', () => {
    it('should serve the page with a strict CSP and revalidation', async () => {
      const r = await send(gw.url, '/monitor');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.headers['content-security-policy']).toContain("default-src 'none'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.text).toContain('<script src="/monitor/monitor.js?v=');
      const slash = await send(gw.url, '/monitor/');
      expect(slash.status).toBe(200);
      expect(slash.text).toBe(r.text);
      const etag = r.headers.etag as string;
      const again = await send(gw.url, '/monitor', { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
    });

    it('should serve its assets with their types and a long cache lifetime', async () => {
      const page = (await send(gw.url, '/monitor')).text;
      const refs = [...page.matchAll(/(?:src|href)="(\/monitor\/[^"]+)"/g)].map((m) => m[1]);
      const types: Record<string, string> = {
        js: 'text/javascript; charset=utf-8',
        css: 'text/css; charset=utf-8',
        svg: 'image/svg+xml',
      };
      expect(refs).toHaveLength(3);
      for (const ref of refs) {
        const r = await send(gw.url, ref);
        expect(r.status).toBe(200);
        const ext = /\.([a-z]+)\?/.exec(ref)?.[1] ?? '';
        expect(r.headers['content-type']).toBe(types[ext]);
        expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(r.headers['x-content-type-options']).toBe('nosniff');
      }
    });

    it('should answer 404 JSON for an unknown asset and never proxy /monitor/*', async () => {
      // Canonicalisation refuses `..` above the root before routing.
      const r = await send(gw.url, '/monitor/../../etc/passwd');
      expect([400, 404]).toContain(r.status);
      expect((await send(gw.url, '/monitor/monitor.js/x')).status).toBe(404);
      const unknown = await send(gw.url, '/monitor/nope.js');
      expect(unknown.status).toBe(404);
      expect(unknown.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(upstream.requests.some((q) => q.url.includes('monitor'))).toBe(false);
    });
  });

  describe('in headless Chromium', () => {
    let userDataDir: string;
    let context: BrowserContext | undefined;

    beforeAll(() => {
      userDataDir = mkdtempSync(join(tmpdir(), 'monitor-chromium-'));
    });
    afterAll(async () => {
      await context?.close();
      rmSync(userDataDir, { recursive: true, force: true });
    });

    /** Console errors, page errors and CSP violations seen by a page. */
    function watch(page: Page): { problems: string[] } {
      const seen = { problems: [] as string[] };
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') {
          seen.problems.push(`console.${m.type()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => seen.problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (q) => seen.problems.push(`requestfailed: ${q.url()}`));
      page.on('response', (r) => {
        if (r.status() >= 400) {
          seen.problems.push(`HTTP ${r.status()}: ${r.url()}`);
        }
      });
      return seen;
    }

    // Page-side code is passed as strings: the test project has no DOM typings.
    const violations = (page: Page): Promise<string[]> =>
      page.evaluate<string[]>('window.__csp || []');

    async function numberIn(page: Page, id: string): Promise<number> {
      const text = (await page.locator(`#${id}`).textContent()) ?? '';
      return Number(text.replace(/[^0-9.]/g, '') || 'NaN');
    }

    it('should render with no console errors or CSP violations and show live numbers', async () => {
      // A missing browser is a failure, not a skip: .ci/run installs Debian's chromium.
      expect(existsSync(CHROMIUM)).toBe(true);
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 1100 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      // Runs before the page's own script (and outside its CSP): records every violation.
      await context.addInitScript({
        content:
          'window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) {' +
          ' window.__csp.push(e.violatedDirective + " " + e.blockedURI); });',
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const seen = watch(page);

      const response = await page.goto(`${gw.url}/monitor`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(await page.title()).toContain('Monitor');

      // Keep traffic flowing (bounded) until the page shows it: the sample is taken every 2 s
      // and the page polls every 2 s.
      const deadline = Date.now() + 30000;
      let requests = 0;
      let rps = 0;
      while (Date.now() < deadline) {
        for (let i = 0; i < 5; i++) {
          await send(gw.url, '/app/browser');
        }
        await send(gw.url, '/broken/browser');
        requests = await numberIn(page, 'total-requests');
        rps = await numberIn(page, 'rps');
        if (requests > 0 && rps > 0 && (await page.locator('body.live').count()) === 1) {
          break;
        }
        await sleep(250);
      }
      expect(requests).toBeGreaterThan(0);
      expect(rps).toBeGreaterThan(0);
      expect(await numberIn(page, 'host-mem')).toBeGreaterThan(0);
      expect(await numberIn(page, 'proc-rss')).toBeGreaterThan(0);
      expect(await numberIn(page, 'cores')).toBeGreaterThan(0);
      expect(await page.locator('#error-rate').textContent()).toMatch(/%$/);
      // Tables: one row per route and per upstream, values inserted as text.
      const routeRows = await page.locator('#routes tr').allTextContents();
      expect(routeRows.join('\n')).toContain('app');
      expect(routeRows.join('\n')).toContain('broken');
      const upstreamRows = await page.locator('#upstreams tr').allTextContents();
      expect(upstreamRows.join('\n')).toContain(upstream.url.replace(/\/$/, ''));
      expect(upstreamRows.join('\n')).toContain('closed');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'monitor.png'), fullPage: true });

      expect(seen.problems).toEqual([]);
      expect(await violations(page)).toEqual([]);

      // The detector works and the CSP is enforced: an injected inline script is refused.
      await page.evaluate(
        'var s = document.createElement("script"); s.textContent = "window.__inlineRan = true";' +
          ' document.body.appendChild(s);',
      );
      await sleep(100);
      expect(await violations(page)).toEqual([expect.stringContaining('script-src')]);
      expect(await page.evaluate<boolean>('"__inlineRan" in window')).toBe(false);
    }, 120000);

    it("should also work under the gateway-wide CSP (default-src 'self')", async () => {
      expect(context).toBeDefined();
      const page = await (context as BrowserContext).newPage();
      // As if a gateway-wide hook replaced the page's policy with the proxy's default one.
      await page.route(`${gw.url}/monitor`, async (route) => {
        const r = await route.fetch();
        await route.fulfill({
          response: r,
          headers: { ...r.headers(), 'content-security-policy': "default-src 'self'" },
        });
      });
      const seen = watch(page);
      await page.goto(`${gw.url}/monitor`, { waitUntil: 'load' });
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && (await page.locator('body.live').count()) === 0) {
        await sleep(200);
      }
      expect(await page.locator('body.live').count()).toBe(1);
      expect(await numberIn(page, 'total-requests')).toBeGreaterThan(0);
      expect(seen.problems).toEqual([]);
      expect(await violations(page)).toEqual([]);
      await page.close();
    }, 60000);
  });
});
