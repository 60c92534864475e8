import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'port-test-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** ADMIN_PORT: the management plane answers only on its own listener. */
describe('Admin API on a separate listener (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let adminUrl: string;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(
      testConfig([{ prefix: '/', upstreams: [up.url] }], {
        admin: { token: TOKEN, listen: { host: '127.0.0.1', port: 0 } },
      }),
    );
    adminUrl = gw.gateway.adminUrl ?? '';
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should listen on a different port than the gateway', () => {
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adminUrl).not.toBe(gw.url);
  });

  it('should serve admin, docs and metrics on the admin port only (404 on the public port)', async () => {
    for (const path of ['/admin/routes', '/docs', '/docs-json', '/metrics']) {
      const pub = await send(gw.url, path, { headers: AUTH });
      expect([path, pub.status]).toEqual([path, 404]);
      expect(pub.json()).toMatchObject({ statusCode: 404 });
    }
    const routes = await send(adminUrl, '/admin/routes', { headers: AUTH });
    expect(routes.status).toBe(200);
    expect(routes.headers['x-content-type-options']).toBe('nosniff');
    expect(routes.headers['content-security-policy']).toBe("default-src 'self'");
    expect((await send(adminUrl, '/admin/routes')).status).toBe(401);
    expect((await send(adminUrl, '/docs-json')).status).toBe(200);
    expect((await send(adminUrl, '/metrics')).status).toBe(200);
    // The Go-compatible write form is not reachable from the public side either.
    expect(
      (await send(gw.url, '/admin/blacklist?ip=1.2.3.4', { method: 'POST', headers: AUTH })).status,
    ).toBe(404);
    expect(up.requests).toHaveLength(0);
  });

  it('should never proxy from the admin port, and keep health on both', async () => {
    const res = await send(adminUrl, '/anything');
    expect(res.status).toBe(404);
    expect(up.requests).toHaveLength(0);
    expect((await send(gw.url, '/anything')).status).toBe(200);
    expect((await send(adminUrl, '/health')).status).toBe(200);
    expect((await send(gw.url, '/health')).status).toBe(200);
  });

  it('should apply changes made on the admin port to public traffic', async () => {
    const res = await send(adminUrl, '/admin/blacklist', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ ip: '127.0.0.1' }),
    });
    expect(res.status).toBe(200);
    expect((await send(gw.url, '/anything')).status).toBe(403);
    // The deny list covers the admin listener too: only another address can lift it.
    expect((await send(adminUrl, '/admin/blacklist', { headers: AUTH })).status).toBe(403);
    expect(
      (
        await send(adminUrl, '/admin/blacklist?ip=127.0.0.1', {
          method: 'DELETE',
          headers: AUTH,
          localAddress: '127.0.0.2',
        })
      ).status,
    ).toBe(200);
    expect((await send(gw.url, '/anything')).status).toBe(200);
  });
});
