import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, type Reply } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

/*
 * An upstream URL that carries a key in its query (`?key=…`, as many SaaS APIs want) must never
 * show it: outside the admin API only scheme, host, port and path are shown; the admin API and
 * its audit log mask query values. The key still reaches the upstream.
 */

const TOKEN = 'secret-urls-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const SECRET = 'S3CR3T-K3Y-0f9e8d';
const WS_SECRET = 'WS-S3CR3T-1a2b3c';

function json(body: unknown): { headers: Record<string, string>; body: string } {
  const text = JSON.stringify(body);
  return {
    headers: {
      ...AUTH,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    },
    body: text,
  };
}

describe('upstream URLs with secrets (e2e)', () => {
  let up: TestUpstream;
  let wss: WebSocketServer;
  let wsUrl: string;
  let gw: TestGateway;
  let label: string;

  beforeAll(async () => {
    up = await startUpstream();
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (m) => socket.send(m)));
    wsUrl = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    label = `${up.url}/v1`;
    gw = await startGateway(
      testConfig(
        [
          {
            name: 'maps',
            prefix: '/maps',
            stripPrefix: true,
            upstreams: [`${label}?key=${SECRET}`],
          },
          { name: 'live', prefix: '/live', upstreams: [`${wsUrl}/?token=${WS_SECRET}`] },
        ],
        // At debug, so each route's own startup line (upstreams=...) is logged too.
        { admin: { token: TOKEN }, log: { ...testConfig([]).log, level: 'debug' } },
      ),
    );
    // Traffic, so every per-upstream series exists.
    expect((await send(gw.url, '/maps/tiles?z=1')).status).toBe(200);
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/live`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  const expectNoSecret = (what: string, text: string): void => {
    expect([what, text.includes(SECRET) || text.includes(WS_SECRET)]).toEqual([what, false]);
  };

  it('should still send the key to the upstream', () => {
    expect(up.requests.at(-1)?.url).toBe(`/v1/tiles?key=${SECRET}&z=1`);
  });

  it('should show scheme, host, port and path only outside the admin API', async () => {
    const pages: [string, Reply][] = [];
    for (const path of ['/health', '/health/ready', '/stats', '/metrics', '/api/system-metrics']) {
      pages.push([path, await send(gw.url, path)]);
    }
    pages.push([
      '/metrics (OpenMetrics)',
      await send(gw.url, '/metrics', {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      }),
    ]);
    for (const [what, res] of pages) {
      expect([what, res.status]).toEqual([what, 200]);
      expectNoSecret(what, res.text);
    }
    const health = pages[0][1].json<{ backends: { url: string }[] }>();
    expect(health.backends.map((b) => b.url)).toContain(label);
    expect(pages[2][1].text).toContain(label);
    expect(pages[3][1].text).toContain(`backend_health_status{backend="${label}"}`);
    expect(pages[3][1].text).toMatch(/upstream="http:\/\/127\.0\.0\.1:\d+\/v1"/);
  });

  it('should keep the key out of every log line: startup, access, WebSocket', () => {
    const text = JSON.stringify(gw.logs);
    expectNoSecret('logs', text);
    expect(gw.logs.some((l) => l.path === '/maps/tiles' && l.upstream === label)).toBe(true);
    expect(gw.logs.some((l) => l.path === '/live' && l.status === 101)).toBe(true);
    expect(text).toContain(`upstreams=${label}`);
  });

  it('should mask query values in every admin answer and audit line', async () => {
    for (const path of ['/admin/config', '/admin/routes', '/admin/upstreams']) {
      const res = await send(gw.url, path, { headers: AUTH });
      expect([path, res.status]).toEqual([path, 200]);
      expectNoSecret(path, res.text);
      expect(res.text).toContain(`${label}?key=***`);
    }
  });

  it('should take a listed route back unchanged, masked URL and all, and keep the key', async () => {
    const listed = (await send(gw.url, '/admin/routes', { headers: AUTH })).json<{
      routes: { name: string; target_url: string }[];
    }>();
    const maps = listed.routes.find((r) => r.name === 'maps')!;
    expect(maps.target_url).toBe(`${label}?key=***`);
    const put = await send(gw.url, '/admin/routes/maps', { method: 'PUT', ...json(maps) });
    expect(put.status).toBe(200);
    expectNoSecret('PUT answer', put.text);
    expect((await send(gw.url, '/maps/after-edit')).status).toBe(200);
    expect(up.requests.at(-1)?.url).toBe(`/v1/after-edit?key=${SECRET}`);

    const drained = await send(gw.url, '/admin/upstreams/drain', {
      method: 'POST',
      ...json({ url: `${label}?key=***` }),
    });
    expect(drained.status).toBe(200);
    expect(drained.json()).toMatchObject({ url: `${label}?key=***`, affected: 1 });
    expect(
      (
        await send(gw.url, '/admin/upstreams/enable', {
          method: 'POST',
          ...json({ url: `${label}?key=***` }),
        })
      ).status,
    ).toBe(200);

    // A masked URL that stands for nothing configured is refused, never stored as `***`.
    const unknown = await send(gw.url, '/admin/routes', {
      method: 'POST',
      ...json({ name: 'ghost', prefix: '/ghost', target_url: 'http://127.0.0.1:1/?key=***' }),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json<{ details: { field: string }[] }>().details).toEqual([
      expect.objectContaining({ field: 'body.target_url' }),
    ]);

    const audit = gw.logs.filter((l) => l.audit === true);
    expect(audit.map((l) => l.action)).toEqual(
      expect.arrayContaining(['route.update', 'upstream.drain', 'upstream.enable']),
    );
    expectNoSecret('audit', JSON.stringify(audit));
    expectNoSecret('logs after the edit', JSON.stringify(gw.logs));
  });
});
