import { freePort, spawnGateway } from './fixtures/process';
import { send } from './fixtures/http';

const TOKEN = 'startup-admin-token-0123456789abcdef';

/** The built gateway (`dist/main.js`): the admin token rules at startup. */
describe('Admin API startup rules (e2e, built gateway)', () => {
  it('should refuse to start with an ADMIN_TOKEN shorter than 32 characters', async () => {
    const gw = await spawnGateway({ ADMIN_TOKEN: 'too-short-token' }, { waitReady: false });
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toContain('ADMIN_TOKEN: shorter than 32 characters');
    // The token itself is never echoed.
    expect(gw.stderr() + gw.stdout()).not.toContain('too-short-token');
  });

  it('should start with the admin API off and say how to enable it', async () => {
    const gw = await spawnGateway({ DEMO_UPSTREAM: 'false' });
    try {
      expect(
        (await send(gw.url, '/admin/routes', { headers: { authorization: `Bearer ${TOKEN}` } }))
          .status,
      ).toBe(404);
      expect((await send(gw.url, '/docs')).status).toBe(404);
      expect(gw.stdout()).toMatch(/admin API disabled.*set ADMIN_TOKEN/);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('should serve the admin API on ADMIN_PORT only, and log where', async () => {
    const adminPort = await freePort();
    const gw = await spawnGateway({
      DEMO_UPSTREAM: 'false',
      ADMIN_TOKEN: TOKEN,
      ADMIN_PORT: String(adminPort),
    });
    try {
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      expect((await send(adminUrl, '/admin/routes', auth)).status).toBe(200);
      expect((await send(gw.url, '/admin/routes', auth)).status).toBe(404);
      expect(gw.stdout()).toContain('admin API listening on its own port');
      expect(gw.stdout()).not.toContain(TOKEN);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});
