import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, sleep, waitFor } from './fixtures/http';
import { spawnGateway, type GatewayProcess } from './fixtures/process';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'large-table-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ROUTES = 20_000;

interface FileRoute {
  name: string;
  prefix: string;
  target_url: string;
}

/**
 * A 20,000-route table in the built gateway: matching, the boot log, admin route changes and a
 * reload, under steady traffic that must not see a single failure. Functional checks with
 * generous bounds; how fast these are is measured by `npm run bench:routes`.
 */
describe('a 20,000-route table (e2e, built gateway)', () => {
  let up: TestUpstream;
  let dir: string;
  let file: string;
  let gw: GatewayProcess;
  let routes: FileRoute[];

  const admin = (method: string, path: string, body?: unknown) =>
    send(gw.url, path, {
      method,
      headers: {
        ...AUTH,
        'content-type': 'application/json',
        'content-length': String(body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body))),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const fileRoutes = () =>
    (JSON.parse(readFileSync(file, 'utf8')) as { routes: FileRoute[] }).routes;

  beforeAll(async () => {
    up = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'gateway-large-table-'));
    file = join(dir, 'gateway.json');
    routes = Array.from({ length: ROUTES }, (_, i) => ({
      name: `svc${i}`,
      prefix: `/svc${i}/v4`,
      target_url: up.url,
    }));
    routes.push({ name: 'bench', prefix: '/bench', target_url: up.url });
    writeFileSync(file, JSON.stringify({ routes }));
    gw = await spawnGateway({
      GATEWAY_CONFIG: file,
      ADMIN_TOKEN: TOKEN,
      DEMO_UPSTREAM: 'false',
      LOG_LEVEL: 'info',
      MAX_REQUESTS_PER_SECOND: '1000000',
      MAX_BURST_SIZE: '1000000',
      DDOS_THRESHOLD: '100000000',
    });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should route by the longest prefix on segment boundaries, and log one line for the table', async () => {
    expect((await send(gw.url, '/svc12345/v4/items')).status).toBe(200);
    expect(up.requests.at(-1)?.url).toBe('/svc12345/v4/items');
    expect((await send(gw.url, '/svc12345/v44')).status).toBe(404);
    expect((await send(gw.url, '/svc12345')).status).toBe(404);
    expect((await send(gw.url, '/bench/x')).status).toBe(200);
    // stdout is written in batches (up to 100 ms late).
    await waitFor(() => gw.stdout().includes('route table:'));
    const tableLines = gw
      .stdout()
      .split('\n')
      .filter((l) => l.includes('route table:'));
    expect(tableLines).toHaveLength(1);
    expect(tableLines[0]).toContain(`route table: ${ROUTES + 1} routes, 1 upstream groups`);
    // Each route is described at debug only.
    expect(gw.stdout()).not.toContain('route svc1:');
  });

  it('should apply admin changes and a reload while traffic flows, losing no request', async () => {
    let running = true;
    const failures: string[] = [];
    let sent = 0;
    const traffic = (async () => {
      while (running) {
        const res = await send(gw.url, `/bench/${sent++}`).catch((e: Error) => ({
          status: 0,
          text: e.message,
        }));
        if (res.status !== 200) {
          failures.push(`${res.status} ${res.text.slice(0, 100)}`);
        }
        await sleep(2);
      }
    })();
    try {
      const created = await admin('POST', '/admin/routes', {
        name: 'added',
        prefix: '/added',
        target_url: up.url,
      });
      expect(created.status).toBe(201);
      expect(created.json()).toMatchObject({ route: { name: 'added' }, routes: ROUTES + 2 });
      expect((await send(gw.url, '/added/1')).status).toBe(200);

      const moved = await admin('PUT', '/admin/routes/svc7', {
        prefix: '/moved7/v4',
        target_url: up.url,
      });
      expect(moved.status).toBe(200);
      expect((await send(gw.url, '/moved7/v4/x')).status).toBe(200);
      expect((await send(gw.url, '/svc7/v4/x')).status).toBe(404);

      expect((await admin('DELETE', '/admin/routes/svc8')).status).toBe(200);
      expect((await send(gw.url, '/svc8/v4')).status).toBe(404);

      // Written back entry by entry, the rest of the file as it was.
      const written = fileRoutes();
      expect(written).toHaveLength(ROUTES + 1);
      expect(written.find((r) => r.name === 'svc7')?.prefix).toBe('/moved7/v4');
      expect(written.some((r) => r.name === 'svc8')).toBe(false);
      expect(written.at(-1)?.name).toBe('added');
      expect(written.find((r) => r.name === 'svc1234')).toEqual(routes[1234]);

      // An edit of the file, then a reload: one route moved, one added.
      const edited = fileRoutes().map((r) =>
        r.name === 'svc100' ? { ...r, prefix: '/reloaded100/v4' } : r,
      );
      edited.push({ name: 'fresh', prefix: '/fresh', target_url: up.url });
      writeFileSync(file, JSON.stringify({ routes: edited }));
      const reloaded = await admin('POST', '/admin/config/reload');
      expect(reloaded.status).toBe(200);
      expect(reloaded.json()).toMatchObject({ routes: ROUTES + 2 });
      expect((await send(gw.url, '/fresh/x')).status).toBe(200);
      expect((await send(gw.url, '/reloaded100/v4')).status).toBe(200);
      expect((await send(gw.url, '/svc100/v4')).status).toBe(404);
      expect((await send(gw.url, '/svc19999/v4')).status).toBe(200);
      // The reload's audit line names what changed, not the 20,000 routes.
      await waitFor(() => gw.stdout().includes('"config.reload"'));
      const audit = gw
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"config.reload"'));
      expect(audit).toHaveLength(1);
      expect(audit[0].length).toBeLessThan(10_000);
      expect(audit[0]).toContain('/reloaded100/v4');
    } finally {
      running = false;
      await traffic;
    }
    expect(sent).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  }, 120_000);
});
