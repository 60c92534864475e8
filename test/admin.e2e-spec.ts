import { AdminAuthLimiter } from '../src/admin/admin-auth-limiter';
import { UpstreamPoolsService } from '../src/load-balancing/upstream-pools.service';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { send, sleep, waitFor, type Reply } from './fixtures/http';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const TOKEN = 'test-admin-token-0123456789abcdef-XYZ';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/**
 * The operator's own address: the cases below blacklist and block 127.0.0.1 (the proxied client),
 * and the deny list and blocks cover the admin API too.
 */
const OPERATOR = '127.0.0.2';

function admin(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<Reply> {
  return send(gw.url, path, {
    method,
    headers: {
      ...headers,
      // Explicit length: Node's client frames a DELETE body with neither length nor chunking.
      ...(body === undefined
        ? {}
        : {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(JSON.stringify(body))),
          }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    localAddress: OPERATOR,
  });
}

const auditLines = (gw: TestGateway) => gw.logs.filter((l) => l.audit === true);

describe('Admin API disabled without ADMIN_TOKEN (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(testConfig([{ prefix: '/', upstreams: [up.url] }]));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should answer 404 on every admin and docs path, with or without a token, never proxying', async () => {
    for (const path of ['/admin/whitelist', '/admin/routes', '/admin', '/docs', '/docs-json']) {
      const res = await send(gw.url, path, { headers: AUTH });
      expect(res.status).toBe(404);
    }
    expect((await send(gw.url, '/admin/whitelist?ip=1.2.3.4', { method: 'POST' })).status).toBe(
      404,
    );
    expect(up.requests).toHaveLength(0);
  });
});

describe('Admin API (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let slow: TestUpstream;
  let other: TestUpstream;
  let releaseSlow: (() => void) | undefined;

  beforeAll(async () => {
    up = await startUpstream();
    other = await startUpstream();
    slow = await startUpstream((req, res) => {
      if (req.url?.includes('slow')) {
        releaseSlow = () => res.end('slow done');
        return;
      }
      res.end('fast');
    });
    gw = await startGateway(
      testConfig(
        [
          { name: 'api', prefix: '/api', upstreams: [up.url] },
          { name: 'private', prefix: '/private', requireAuth: true, upstreams: [up.url] },
          { name: 'pair', prefix: '/pair', upstreams: [slow.url, other.url] },
        ],
        {
          admin: { token: TOKEN },
          auth: {
            ...testConfig([]).auth,
            apiKeys: [],
          },
        },
      ),
    );
  });
  afterAll(async () => {
    releaseSlow?.();
    await gw.close();
    await Promise.all([up.close(), slow.close(), other.close()]);
  });

  describe('authentication', () => {
    it('should answer 401 without credentials and with a wrong token, in the JSON error shape', async () => {
      const missing = await send(gw.url, '/admin/routes');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="gateway-admin"');
      expect(missing.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(missing.json()).toHaveProperty('requestId');
      const wrong = await send(gw.url, '/admin/routes', {
        headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
      });
      expect(wrong.status).toBe(401);
      expect((await admin(gw, 'GET', '/admin/routes')).status).toBe(200);
    });

    it('should answer failures past 10 a minute with 429, and still accept the right token or an admin-scoped key', async () => {
      const created = await admin(gw, 'POST', '/admin/api-keys', {
        name: 'lockout-ops',
        admin: true,
      });
      const { key, id } = created.json<{ key: string; id: string }>();
      const plain = await admin(gw, 'POST', '/admin/api-keys', { name: 'lockout-plain' });
      const plainKey = plain.json<{ key: string }>().key;
      // The limiter is per client IP and every test shares 127.0.0.1: start from a clean count.
      const limiter = gw.gateway.app.get(AdminAuthLimiter);
      const failures = (limiter as unknown as { failures: { delete(k: string): void } }).failures;
      failures.delete('127.0.0.1');

      const wrong = (headers: Record<string, string>) =>
        send(gw.url, '/admin/routes', { headers }).then((r) => r.status);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        statuses.push(await wrong({ authorization: `Bearer ${TOKEN.slice(0, -1)}x` }));
      }
      expect(statuses).toEqual(Array(10).fill(401));

      // After 10 failures in the minute, the right token and an admin key from the same address
      // still get in...
      expect((await send(gw.url, '/admin/routes', { headers: AUTH })).status).toBe(200);
      const byKey = await send(gw.url, '/admin/routes', { headers: { 'x-api-key': key } });
      expect(byKey.status).toBe(200);
      // ...through passport's API-key strategy, which records the use.
      const listed = await admin(gw, 'GET', '/admin/api-keys');
      expect(
        listed.json<{ keys: { id: string; lastUsedAt?: string }[] }>().keys.find((k) => k.id === id)
          ?.lastUsedAt,
      ).toEqual(expect.any(String));

      // ...while every further failure, of any kind, is answered 429 with Retry-After.
      const failing: Record<string, string>[] = [
        { authorization: 'Bearer nope' },
        { 'x-api-key': 'not-a-key-0123456789' },
        // A valid key without the admin scope is a failure here.
        { 'x-api-key': plainKey },
        {},
      ];
      for (const headers of failing) {
        const limited = await send(gw.url, '/admin/routes', { headers });
        expect(limited.status).toBe(429);
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(limited.json()).toMatchObject({ statusCode: 429 });
      }
      expect((await send(gw.url, '/admin/routes', { headers: AUTH })).status).toBe(200);
      // Failures are counted per address: the operator's was never limited.
      expect((await admin(gw, 'GET', '/admin/routes')).status).toBe(200);
      failures.delete('127.0.0.1');
    });
  });

  describe('body parsing', () => {
    it('should answer 415 for a non-JSON body and 400 for invalid JSON', async () => {
      const form = await send(gw.url, '/admin/blacklist', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'ip=1.2.3.4',
      });
      expect(form.status).toBe(415);
      const broken = await send(gw.url, '/admin/blacklist', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: '{"ip": ',
      });
      expect(broken.status).toBe(400);
      expect(broken.json<{ message: string }>().message).toMatch(/invalid JSON/);
    });

    it('should answer 413 for a body over 1 MiB', async () => {
      const res = await send(gw.url, '/admin/routes', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
      });
      expect(res.status).toBe(413);
    });
  });

  describe('IP lists and blocks', () => {
    it('should add, list, enforce and remove blacklist entries (JSON body and the Go ?ip= form)', async () => {
      const added = await admin(gw, 'POST', '/admin/blacklist', { ip: '127.0.0.1' });
      expect(added.status).toBe(200);
      expect(added.json()).toMatchObject({
        ip: '127.0.0.1',
        status: 'blacklisted',
        persisted: 'memory',
      });
      expect((await send(gw.url, '/api/x')).status).toBe(403);
      // The deny list covers the admin API as well; the operator, at another address, can undo it.
      expect((await send(gw.url, '/admin/blacklist', { headers: AUTH })).status).toBe(403);
      const list = await admin(gw, 'GET', '/admin/blacklist');
      expect(list.json()).toEqual({ list: 'blacklist', entries: [{ entry: '127.0.0.1' }] });
      expect((await admin(gw, 'DELETE', '/admin/blacklist?ip=127.0.0.1')).status).toBe(200);
      expect((await send(gw.url, '/api/x')).status).toBe(200);

      const go = await send(gw.url, '/admin/whitelist?ip=10.0.0.0/8', {
        method: 'POST',
        headers: AUTH,
      });
      expect(go.status).toBe(200);
      expect(go.json()).toMatchObject({ ip: '10.0.0.0/8', status: 'whitelisted' });
      expect(
        (await admin(gw, 'DELETE', '/admin/whitelist', { ip: '::ffff:10.0.0.0/104' })).status,
      ).toBe(200);
      expect((await admin(gw, 'DELETE', '/admin/whitelist', { ip: '10.0.0.0/8' })).status).toBe(
        404,
      );
    });

    it('should expire an entry after its ttl', async () => {
      const added = await admin(gw, 'POST', '/admin/blacklist', {
        ip: '203.0.113.5',
        ttl: '300ms',
      });
      expect(added.json<{ expiresAt: string }>().expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      await sleep(400);
      expect((await admin(gw, 'GET', '/admin/blacklist')).json()).toEqual({
        list: 'blacklist',
        entries: [],
      });
    });

    it('should reject bad input with field-level messages and change nothing', async () => {
      const bad = await admin(gw, 'POST', '/admin/blacklist', {
        ip: 'example.com',
        ttl: 'soon',
        x: 1,
      });
      expect(bad.status).toBe(400);
      const details = bad.json<{ details: { field: string; message: string }[] }>().details;
      expect(details.map((d) => d.field).sort()).toEqual(['body', 'body.ip', 'body.ttl']);
      expect(
        (await send(gw.url, '/admin/blacklist?ip=300.1.1.1', { method: 'POST', headers: AUTH }))
          .status,
      ).toBe(400);
      expect(
        (await send(gw.url, '/admin/blacklist', { method: 'POST', headers: AUTH })).status,
      ).toBe(400);
      expect((await admin(gw, 'GET', '/admin/blacklist')).json()).toEqual({
        list: 'blacklist',
        entries: [],
      });
    });

    it('should block and unblock a client IP', async () => {
      expect(
        (await admin(gw, 'POST', '/admin/blocks', { ip: '127.0.0.1', duration: '1m' })).status,
      ).toBe(200);
      expect((await send(gw.url, '/api/x')).status).toBe(429);
      expect((await send(gw.url, '/admin/blocks', { headers: AUTH })).status).toBe(429);
      const blocks = await admin(gw, 'GET', '/admin/blocks');
      expect(blocks.json<{ blocks: { ip: string; reason: string }[] }>().blocks).toEqual([
        expect.objectContaining({ ip: '127.0.0.1', reason: 'manual' }),
      ]);
      expect((await admin(gw, 'DELETE', '/admin/blocks/127.0.0.1')).status).toBe(200);
      expect((await admin(gw, 'DELETE', '/admin/blocks/127.0.0.1')).status).toBe(404);
      expect((await send(gw.url, '/api/x')).status).toBe(200);
      expect((await admin(gw, 'POST', '/admin/blocks', { ip: '10.0.0.0/8' })).status).toBe(400);
    });
  });

  describe('routes', () => {
    it('should serve a route added over the API immediately, then update and delete it', async () => {
      expect((await send(gw.url, '/new/thing')).status).toBe(404);
      const created = await admin(gw, 'POST', '/admin/routes', {
        name: 'new',
        prefix: '/new',
        target_url: other.url,
        strip_prefix: true,
      });
      expect(created.status).toBe(201);
      expect(created.json()).toMatchObject({ route: { name: 'new', prefix: '/new' }, routes: 4 });
      const res = await send(gw.url, '/new/thing');
      expect(res.status).toBe(200);
      expect(other.requests.at(-1)?.url).toBe('/thing');

      const updated = await admin(gw, 'PUT', '/admin/routes/new', {
        prefix: '/new',
        target_url: up.url,
        strip_prefix: false,
      });
      expect(updated.status).toBe(200);
      await send(gw.url, '/new/again');
      expect(up.requests.at(-1)?.url).toBe('/new/again');

      const listed = await admin(gw, 'GET', '/admin/routes');
      expect(listed.json<{ routes: { name: string }[] }>().routes.map((r) => r.name)).toEqual([
        'api',
        'private',
        'pair',
        'new',
      ]);
      expect((await admin(gw, 'DELETE', '/admin/routes/new')).status).toBe(200);
      expect((await send(gw.url, '/new/thing')).status).toBe(404);
      expect((await admin(gw, 'DELETE', '/admin/routes/new')).status).toBe(404);
    });

    it('should name an unnamed route as the config file would, against the running table', async () => {
      // Derived from host and prefix (`api`), made unique against the running routes. (`/api/`
      // would be refused: it differs from `/api` only by a trailing slash.)
      const second = await admin(gw, 'POST', '/admin/routes', {
        prefix: '/api-',
        target_url: up.url,
      });
      expect(second.status).toBe(201);
      expect(second.json()).toMatchObject({ route: { name: 'api-2', prefix: '/api-' } });
      const third = await admin(gw, 'POST', '/admin/routes', {
        prefix: '/api_',
        target_url: up.url,
      });
      expect(third.json()).toMatchObject({ route: { name: 'api-3' } });
      try {
        // A replacement may not take another route's host and prefix; its own is fine.
        const clash = await admin(gw, 'PUT', '/admin/routes/api-3', {
          prefix: '/api-',
          target_url: up.url,
        });
        expect(clash.status).toBe(400);
        expect(clash.json<{ message: string }>().message).toMatch(
          /"api-2" and "api-3" both match host "\*" prefix "\/api-"/,
        );
        const same = await admin(gw, 'PUT', '/admin/routes/api-3', {
          prefix: '/api_',
          target_url: other.url,
        });
        expect(same.status).toBe(200);
        expect((await send(gw.url, '/api/x')).status).toBe(200);
        expect(up.requests.at(-1)?.url).toBe('/api/x');
      } finally {
        expect((await admin(gw, 'DELETE', '/admin/routes/api-3')).status).toBe(200);
        expect((await admin(gw, 'DELETE', '/admin/routes/api-2')).status).toBe(200);
      }
    });

    it('should let a request in flight on a removed route finish, then close its pool', async () => {
      let release: (() => void) | undefined;
      const temp = await startUpstream((_req, res) => {
        release = () => res.end('late answer');
      });
      try {
        const pools = gw.gateway.app.get(UpstreamPoolsService);
        await admin(gw, 'POST', '/admin/routes', {
          name: 'temp',
          prefix: '/temp',
          target_url: temp.url,
        });
        const before = pools.poolCount;
        const pending = send(gw.url, '/temp/slow');
        await waitFor(() => release !== undefined, 10_000);
        expect((await admin(gw, 'DELETE', '/admin/routes/temp')).status).toBe(200);
        expect((await send(gw.url, '/temp/new')).status).toBe(404);
        release?.();
        const res = await pending;
        expect([res.status, res.text]).toEqual([200, 'late answer']);
        await waitFor(() => pools.poolCount === before - 1, 10_000);
      } finally {
        await temp.close();
      }
    });

    it('should reject an invalid route with the config file messages and keep the running table', async () => {
      const before = (await admin(gw, 'GET', '/admin/routes')).text;
      const bad = await admin(gw, 'POST', '/admin/routes', {
        name: 'bad',
        prefix: 'nope',
        target_url: 'ftp://x',
        strip_prefx: true,
      });
      expect(bad.status).toBe(400);
      const fields = bad.json<{ details: { field: string }[] }>().details.map((d) => d.field);
      expect(fields).toEqual(
        expect.arrayContaining(['body.strip_prefx', 'body.prefix', 'body.target_url']),
      );
      const clash = await admin(gw, 'POST', '/admin/routes', {
        name: 'dup',
        prefix: '/api',
        target_url: up.url,
      });
      expect(clash.status).toBe(400);
      expect(clash.json<{ message: string }>().message).toMatch(/both match host/);
      expect(
        (
          await admin(gw, 'POST', '/admin/routes', {
            name: 'api',
            prefix: '/z',
            target_url: up.url,
          })
        ).status,
      ).toBe(409);
      expect(
        (
          await admin(gw, 'PUT', '/admin/routes/api', {
            name: 'renamed',
            prefix: '/api',
            target_url: up.url,
          })
        ).status,
      ).toBe(400);
      expect((await admin(gw, 'GET', '/admin/routes')).text).toBe(before);
      expect((await send(gw.url, '/api/still')).status).toBe(200);
    });
  });

  describe('upstreams', () => {
    it('should drain an upstream: a slow request in flight finishes, new requests avoid it', async () => {
      const inFlight = send(gw.url, '/pair/slow');
      await waitFor(() => releaseSlow !== undefined, 10_000);
      const drained = await admin(gw, 'POST', '/admin/upstreams/drain', {
        url: slow.url,
        route: 'pair',
      });
      expect(drained.status).toBe(200);
      expect(drained.json()).toMatchObject({ url: `${slow.url}/`, route: 'pair', affected: 1 });

      const before = slow.requests.length;
      for (let i = 0; i < 6; i++) {
        const res = await send(gw.url, '/pair/fast');
        expect(res.status).toBe(200);
      }
      expect(slow.requests.length).toBe(before);

      const listed = await admin(gw, 'GET', '/admin/upstreams');
      const entries = listed.json<{
        upstreams: {
          route: string;
          url: string;
          draining: boolean;
          inFlight: number;
          breaker: string;
        }[];
      }>().upstreams;
      expect(entries.find((u) => u.route === 'pair' && u.url === `${slow.url}/`)).toMatchObject({
        draining: true,
        inFlight: 1,
        breaker: 'closed',
      });
      // /health says so too, next to alive and ejected.
      const health = (await send(gw.url, '/health')).json<{
        routes: { name: string; backends: { url: string; draining: boolean }[] }[];
      }>();
      const pair = health.routes.find((r) => r.name === 'pair');
      expect(pair?.backends.find((b) => b.url === `${slow.url}/`)?.draining).toBe(true);

      releaseSlow?.();
      const finished = await inFlight;
      expect(finished.status).toBe(200);
      expect(finished.text).toBe('slow done');

      expect((await admin(gw, 'POST', '/admin/upstreams/enable', { url: slow.url })).status).toBe(
        200,
      );
      const seen = slow.requests.length;
      for (let i = 0; i < 4; i++) {
        await send(gw.url, '/pair/fast');
      }
      expect(slow.requests.length).toBeGreaterThan(seen);
    });

    it('should drain an upstream on one route only while another route shares the upstreams', async () => {
      // Same targets as `pair`: the two routes share one upstream group until a drain names one.
      const created = await admin(gw, 'POST', '/admin/routes', {
        name: 'twin',
        prefix: '/twin',
        targets: [slow.url, other.url],
      });
      expect(created.status).toBe(201);
      try {
        const drained = await admin(gw, 'POST', '/admin/upstreams/drain', {
          url: slow.url,
          route: 'twin',
        });
        expect(drained.json()).toMatchObject({ route: 'twin', affected: 1 });
        const before = slow.requests.length;
        for (let i = 0; i < 6; i++) {
          expect((await send(gw.url, '/twin/fast')).status).toBe(200);
        }
        expect(slow.requests.length).toBe(before);
        for (let i = 0; i < 6; i++) {
          expect((await send(gw.url, '/pair/fast')).status).toBe(200);
        }
        expect(slow.requests.length).toBeGreaterThan(before);
        const listed = (await admin(gw, 'GET', '/admin/upstreams')).json<{
          upstreams: { route: string; url: string; draining: boolean }[];
        }>().upstreams;
        const slowOn = (route: string) =>
          listed.find((u) => u.route === route && u.url === `${slow.url}/`)?.draining;
        expect([slowOn('twin'), slowOn('pair')]).toEqual([true, false]);
      } finally {
        await admin(gw, 'POST', '/admin/upstreams/enable', { url: slow.url, route: 'twin' });
        expect((await admin(gw, 'DELETE', '/admin/routes/twin')).status).toBe(200);
      }
    });

    it('should reset a breaker and refuse unknown upstreams', async () => {
      const reset = await admin(gw, 'POST', '/admin/upstreams/reset-breaker', { url: up.url });
      expect(reset.status).toBe(200);
      expect(
        (await admin(gw, 'POST', '/admin/upstreams/drain', { url: 'http://127.0.0.1:1' })).status,
      ).toBe(404);
      expect((await admin(gw, 'POST', '/admin/upstreams/drain', { url: 'ftp://x' })).status).toBe(
        400,
      );
      expect((await admin(gw, 'POST', '/admin/upstreams/drain', {})).status).toBe(400);
    });
  });

  describe('API keys', () => {
    it('should create a key that works at once on a require_auth route, list it, and revoke it', async () => {
      expect((await send(gw.url, '/private/x')).status).toBe(401);
      const created = await admin(gw, 'POST', '/admin/api-keys', { name: 'robot' });
      expect(created.status).toBe(201);
      const { key, id, persisted } = created.json<{ key: string; id: string; persisted: string }>();
      expect(key).toMatch(/^gw_[A-Za-z0-9_-]{43}$/);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      // Without Redis the key lives in this process only, and the answer and audit line say so.
      expect(persisted).toBe('memory');
      expect(
        auditLines(gw).find((l) => l.action === 'api-key.create' && l.target === id),
      ).toMatchObject({ persisted: 'memory' });

      expect((await send(gw.url, '/private/x', { headers: { 'x-api-key': key } })).status).toBe(
        200,
      );
      const listed = await admin(gw, 'GET', '/admin/api-keys');
      expect(listed.text).not.toContain(key);
      const entry = listed
        .json<{ keys: Record<string, unknown>[] }>()
        .keys.find((k) => k.id === id);
      expect(entry).toMatchObject({ name: 'robot', admin: false, source: 'admin' });
      expect(entry?.createdAt).toEqual(expect.any(String));
      expect(entry?.lastUsedAt).toEqual(expect.any(String));
      // A non-admin key does not open the admin API.
      expect(
        (await admin(gw, 'GET', '/admin/routes', undefined, { 'x-api-key': key })).status,
      ).toBe(401);

      expect((await admin(gw, 'POST', '/admin/api-keys', { name: 'robot' })).status).toBe(409);
      const revoked = await admin(gw, 'DELETE', `/admin/api-keys/${id}`);
      expect(revoked.status).toBe(200);
      expect(revoked.json()).toMatchObject({ id, persisted: 'memory' });
      expect((await send(gw.url, '/private/x', { headers: { 'x-api-key': key } })).status).toBe(
        401,
      );
      expect((await admin(gw, 'DELETE', `/admin/api-keys/${id}`)).status).toBe(404);
      expect((await admin(gw, 'POST', '/admin/api-keys', { name: 'bad name!' })).status).toBe(400);
    });

    it('should let an admin-scoped key call the admin API, named in the audit log', async () => {
      const created = await admin(gw, 'POST', '/admin/api-keys', { name: 'ops-bot', admin: true });
      const { key } = created.json<{ key: string }>();
      const headers = { 'x-api-key': key };
      const res = await admin(gw, 'POST', '/admin/whitelist', { ip: '192.0.2.1' }, headers);
      expect(res.status).toBe(200);
      const line = auditLines(gw).find(
        (l) => l.action === 'whitelist.add' && l.target === '192.0.2.1',
      );
      expect(line).toMatchObject({ actor: 'api-key:ops-bot', ip: OPERATOR, msg: 'admin audit' });
    });
  });

  describe('config and audit', () => {
    it('should show the effective config with secrets masked', async () => {
      const res = await admin(gw, 'GET', '/admin/config');
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(TOKEN);
      const body = res.json<{ admin: { token: string }; routes: unknown[]; persistence: string }>();
      expect(body.admin.token).toBe('***');
      expect(body.routes.length).toBe(3);
      expect(body.persistence).toBe('memory');
    });

    it('should write one audit line per mutation with who, ip, what, before and after', async () => {
      await admin(gw, 'POST', '/admin/routes', {
        name: 'audited',
        prefix: '/audited',
        target_url: up.url,
      });
      await admin(gw, 'DELETE', '/admin/routes/audited');
      const lines = auditLines(gw).filter((l) => l.target === 'audited');
      expect(lines).toEqual([
        expect.objectContaining({
          audit: true,
          msg: 'admin audit',
          actor: 'admin-token',
          ip: OPERATOR,
          action: 'route.create',
          before: null,
          after: expect.objectContaining({ name: 'audited', prefix: '/audited' }) as unknown,
          persisted: 'memory',
        }),
        expect.objectContaining({
          action: 'route.delete',
          before: expect.objectContaining({ name: 'audited' }) as unknown,
          after: null,
        }),
      ]);
      expect(JSON.stringify(auditLines(gw))).not.toContain(TOKEN);
      // Reads are not audited.
      expect(auditLines(gw).some((l) => String(l.action).startsWith('GET'))).toBe(false);
    });
  });
});

describe('Admin API: cache purge and stats (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      const body = `hello ${req.url}`;
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': 'public, max-age=300',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
    const base = testConfig([]);
    gw = await startGateway(
      testConfig(
        [{ prefix: '/', upstreams: [up.url], cache: { enabled: true, allowSetCookie: false } }],
        { admin: { token: TOKEN }, cache: { ...base.cache, enabled: true, compression: false } },
      ),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should purge one URL or a prefix, report stats, and audit the purge', async () => {
    for (const path of ['/p/a', '/p/b', '/q/c']) {
      await send(gw.url, path);
      expect((await send(gw.url, path)).headers['x-cache']).toBe('HIT');
    }
    const stats = await admin(gw, 'GET', '/admin/cache/stats');
    expect(stats.json()).toMatchObject({ store: 'memory', memoryEntries: 3 });
    expect(stats.json<{ hits: number }>().hits).toBeGreaterThanOrEqual(3);

    const one = await admin(gw, 'POST', '/admin/cache/purge', { url: '/q/c' });
    expect(one.json()).toEqual({ url: '/q/c', removed: 1 });
    expect((await send(gw.url, '/q/c')).headers['x-cache']).toBe('MISS');
    const prefix = await admin(gw, 'POST', '/admin/cache/purge', { prefix: '/p/' });
    expect(prefix.json()).toEqual({ prefix: '/p/', removed: 2 });
    expect((await send(gw.url, '/p/a')).headers['x-cache']).toBe('MISS');
    expect(auditLines(gw).map((l) => l.action)).toEqual(['cache.purge', 'cache.purge-prefix']);

    const both = await admin(gw, 'POST', '/admin/cache/purge', { url: '/a', prefix: '/b' });
    expect(both.status).toBe(400);
    expect((await admin(gw, 'POST', '/admin/cache/purge', { url: 'ftp://x' })).status).toBe(400);
  });
});

describe('Admin API: health checks follow a replaced route table (e2e)', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    const base = testConfig([]);
    gw = await startGateway(
      testConfig([{ name: 'live', prefix: '/live', upstreams: [up.url] }], {
        admin: { token: TOKEN },
        loadBalancing: {
          ...base.loadBalancing,
          healthCheckFails: 1,
          healthCheckIntervalMs: 60_000,
        },
      }),
    );
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('should probe the upstreams of a route added over the API at once', async () => {
    const dead = await startUpstream();
    const deadUrl = dead.url;
    await dead.close();
    const res = await admin(gw, 'POST', '/admin/routes', {
      name: 'dead',
      prefix: '/dead',
      target_url: deadUrl,
    });
    expect(res.status).toBe(201);
    // The next probe is a minute away: only an immediate one can mark it down.
    const deadline = Date.now() + 10_000;
    let entry: { healthy: boolean } | undefined;
    while (Date.now() < deadline) {
      const list = await admin(gw, 'GET', '/admin/upstreams');
      entry = list
        .json<{ upstreams: { route: string; healthy: boolean }[] }>()
        .upstreams.find((u) => u.route === 'dead');
      if (entry?.healthy === false) {
        break;
      }
      await sleep(50);
    }
    expect(entry).toMatchObject({ healthy: false });
    expect((await send(gw.url, '/dead/x')).status).toBe(503);
    expect((await send(gw.url, '/live/x')).status).toBe(200);
  });
});
