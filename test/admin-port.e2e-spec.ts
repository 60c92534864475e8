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

  it('should serve every gateway path on the admin port, and leave the public port to routes but the probes', async () => {
    const routes = await send(adminUrl, '/admin/routes', { headers: AUTH });
    expect(routes.status).toBe(200);
    expect(routes.headers['x-content-type-options']).toBe('nosniff');
    expect(routes.headers['content-security-policy']).toBe("default-src 'self'");
    expect((await send(adminUrl, '/admin/routes')).status).toBe(401);
    expect((await send(adminUrl, '/docs-json')).status).toBe(200);
    expect((await send(adminUrl, '/metrics')).status).toBe(200);
    // /health's detail (routes, auth flags, upstreams) is on the admin port.
    const detail = await send(adminUrl, '/health');
    expect(detail.json()).toMatchObject({ status: 'healthy', routes: [{ prefix: '/' }] });

    // On the public port these are ordinary paths: the `/` route's upstream answers them, so
    // no gateway path shadows a service; the admin API is not reachable there.
    for (const path of ['/admin/routes', '/docs', '/docs-json', '/metrics', '/stats', '/health']) {
      const pub = await send(gw.url, path, { headers: AUTH });
      expect([path, pub.status, pub.json<{ url?: string }>().url]).toEqual([path, 200, path]);
    }
    expect(up.requests.map((r) => r.url)).toEqual([
      '/admin/routes',
      '/docs',
      '/docs-json',
      '/metrics',
      '/stats',
      '/health',
    ]);
    // The probes stay the gateway's on the public port, for load balancers and Kubernetes.
    expect((await send(gw.url, '/health/live')).json()).toEqual({ status: 'ok' });
    expect((await send(gw.url, '/health/ready')).json()).toMatchObject({ status: 'ok' });
    expect(up.requests).toHaveLength(6);
    up.requests.length = 0;
  });

  it('should never proxy from the admin port', async () => {
    const res = await send(adminUrl, '/anything');
    expect(res.status).toBe(404);
    expect(up.requests).toHaveLength(0);
    expect((await send(gw.url, '/anything')).status).toBe(200);
    expect((await send(adminUrl, '/health/live')).status).toBe(200);
    up.requests.length = 0;
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
