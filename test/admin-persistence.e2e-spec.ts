import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { ADMIN_REDIS_KEYS } from '../src/admin/admin.constants';
import type { GatewayConfig } from '../src/config/gateway-config.types';
import { loadGatewayConfig } from '../src/config/load-config';
import { RedisService } from '../src/redis/redis.service';
import { REDIS_API_KEYS } from '../src/security/auth/redis-api-key-store';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, waitFor, type Reply } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'persistence-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

function admin(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return send(base, path, {
    method,
    headers: {
      ...AUTH,
      ...(text === undefined
        ? {}
        : {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(text)),
          }),
    },
    ...(text === undefined ? {} : { body: text }),
  });
}

/** Polls until `check` passes; a replica must apply another's change well within a second. */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`not applied within ${ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Admin changes shared through Redis (e2e)', () => {
  let redis: Redis;
  let up: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;
  let config: () => GatewayConfig;

  beforeAll(async () => {
    const url = process.env.TEST_REDIS_URL;
    if (!url) {
      throw new Error('TEST_REDIS_URL is not set: the e2e globalSetup starts redis-server');
    }
    redis = new Redis(url);
    await redis.del(...Object.values(ADMIN_REDIS_KEYS), REDIS_API_KEYS);
    up = await startUpstream();
    config = () =>
      testConfig(
        [
          { name: 'base', prefix: '/base', upstreams: [up.url] },
          { name: 'private', prefix: '/private', requireAuth: true, upstreams: [up.url] },
        ],
        {
          admin: { token: TOKEN },
          redis: { url, sentinels: [], sentinelName: 'mymaster', clusterNodes: [] },
        },
      );
    a = await startGateway(config());
    b = await startGateway(config());
    // Both replicas connected (a change made before that waits up to 2 s for Redis).
    await waitFor(() => [a, b].every((g) => g.gateway.app.get(RedisService).isReady), 10_000);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await up.close();
    await redis.del(...Object.values(ADMIN_REDIS_KEYS), REDIS_API_KEYS);
    await redis.quit();
  });

  it('should apply a blacklist entry added on one replica on the other within a second', async () => {
    const res = await admin(a.url, 'POST', '/admin/blacklist', { ip: '198.51.100.0/24' });
    expect(res.json()).toMatchObject({ persisted: 'redis' });
    await within(1_000, async () =>
      (await admin(b.url, 'GET', '/admin/blacklist')).text.includes('198.51.100.0/24'),
    );
  });

  it('should serve a route added on one replica from the other within a second', async () => {
    expect((await send(b.url, '/shared/x')).status).toBe(404);
    const res = await admin(a.url, 'POST', '/admin/routes', {
      name: 'shared',
      prefix: '/shared',
      target_url: up.url,
    });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ persisted: 'redis' });
    await within(1_000, async () => (await send(b.url, '/shared/x')).status === 200);
  });

  it('should share drains', async () => {
    await admin(a.url, 'POST', '/admin/upstreams/drain', { url: up.url, route: 'base' });
    await within(1_000, async () => {
      const list = (await admin(b.url, 'GET', '/admin/upstreams')).json<{
        upstreams: { route: string; draining: boolean }[];
      }>();
      return list.upstreams.some((u) => u.route === 'base' && u.draining);
    });
    expect((await send(b.url, '/base/x')).status).toBe(503);
    await admin(a.url, 'POST', '/admin/upstreams/enable', { url: up.url });
    await within(1_000, async () => (await send(b.url, '/base/x')).status === 200);
  });

  it('should make an API key created on one replica work on the other, and its revocation too', async () => {
    const created = await admin(a.url, 'POST', '/admin/api-keys', { name: 'shared-bot' });
    expect(created.status).toBe(201);
    const { key, id, source, persisted } = created.json<{
      key: string;
      id: string;
      source: string;
      persisted: string;
    }>();
    expect([source, persisted]).toEqual(['redis', 'redis']);
    expect(await redis.hlen(REDIS_API_KEYS)).toBe(1);
    expect(JSON.stringify(await redis.hgetall(REDIS_API_KEYS))).not.toContain(key);
    const withKey = { headers: { 'x-api-key': key } };
    expect((await send(b.url, '/private/x', withKey)).status).toBe(200);
    expect((await send(a.url, '/private/x', withKey)).status).toBe(200);

    expect((await admin(a.url, 'DELETE', `/admin/api-keys/${id}`)).status).toBe(200);
    expect((await send(a.url, '/private/x', withKey)).status).toBe(401);
    // B had the key cached as valid; the revocation message drops it.
    await within(1_000, async () => (await send(b.url, '/private/x', withKey)).status === 401);
  });

  it('should load the persisted state when a replica starts', async () => {
    const c = await startGateway(config());
    try {
      await within(2_000, async () => (await send(c.url, '/shared/x')).status === 200);
      expect((await admin(c.url, 'GET', '/admin/blacklist')).text).toContain('198.51.100.0/24');
    } finally {
      await c.close();
    }
  });
});

describe('Admin changes written back to the config file (e2e)', () => {
  let dir: string;
  let file: string;
  let up: TestUpstream;

  const load = (): GatewayConfig => {
    const loaded = loadGatewayConfig({
      env: {
        GATEWAY_CONFIG: file,
        GATEWAY_PORT: '127.0.0.1:0',
        ADMIN_TOKEN: TOKEN,
        DEMO_UPSTREAM: 'false',
        NO_DASHBOARD: '1',
        ENABLE_CACHING: 'false',
      },
      cwd: dir,
      isTTY: false,
    });
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('; '));
    }
    return loaded.config;
  };

  beforeAll(async () => {
    up = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'gw-admin-'));
    file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      [
        '# operator comment kept across rewrites',
        'routes:',
        '  - name: first',
        '    prefix: /first',
        `    target_url: ${up.url}`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should rewrite the file atomically and come back with the change after a restart', async () => {
    const gw = await startGateway(load());
    try {
      const route = await admin(gw.url, 'POST', '/admin/routes', {
        name: 'second',
        prefix: '/second',
        target_url: up.url,
        strip_prefix: true,
      });
      expect(route.json()).toMatchObject({ persisted: 'config-file' });
      const ip = await admin(gw.url, 'POST', '/admin/blacklist', { ip: '203.0.113.0/24' });
      expect(ip.json()).toMatchObject({ persisted: 'config-file' });
      await admin(gw.url, 'POST', '/admin/blacklist', { ip: '203.0.113.99', ttl: '1h' });
    } finally {
      await gw.close();
    }

    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# operator comment kept across rewrites');
    const data = parse(text) as {
      routes: { name: string }[];
      security: { ip_blacklist: string[] };
    };
    expect(data.routes.map((r) => r.name)).toEqual(['first', 'second']);
    // Expiring entries are not written: the file has no expiry field.
    expect(data.security.ip_blacklist).toEqual(['203.0.113.0/24']);

    const again = await startGateway(load());
    try {
      const res = await send(again.url, '/second/x');
      expect(res.status).toBe(200);
      expect(up.requests.at(-1)?.url).toBe('/x');
      expect((await admin(again.url, 'GET', '/admin/blacklist')).text).toContain('203.0.113.0/24');
    } finally {
      await again.close();
    }
  });

  it('should re-read the file on POST /admin/config/reload, and refuse an invalid one', async () => {
    const gw = await startGateway(load());
    const saved = { ...process.env };
    try {
      process.env.GATEWAY_CONFIG = file;
      process.env.DEMO_UPSTREAM = 'false';
      const edit = (change: (data: { routes: Record<string, unknown>[] }) => void): void => {
        const data = parse(readFileSync(file, 'utf8')) as { routes: Record<string, unknown>[] };
        change(data);
        writeFileSync(file, stringify(data));
      };
      edit((data) => data.routes.push({ name: 'third', prefix: '/third', target_url: up.url }));
      const before = (await admin(gw.url, 'GET', '/admin/routes')).json<{ routes: unknown[] }>();
      const reloaded = await admin(gw.url, 'POST', '/admin/config/reload');
      expect(reloaded.status).toBe(200);
      expect(reloaded.json()).toMatchObject({ routes: before.routes.length + 1 });
      expect((await send(gw.url, '/third/x')).status).toBe(200);

      edit((data) => data.routes.push({ name: 'broken', prefix: 'nope' }));
      const refused = await admin(gw.url, 'POST', '/admin/config/reload');
      expect(refused.status).toBe(400);
      expect(refused.json<{ details: { field: string }[] }>().details.length).toBeGreaterThan(0);
      expect((await send(gw.url, '/third/x')).status).toBe(200);
    } finally {
      process.env = saved;
      await gw.close();
    }
  });
});
