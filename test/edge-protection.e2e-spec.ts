import { createHash } from 'node:crypto';
import { startGateway, testConfig, type TestGateway } from './fixtures/gateway';
import { rawExchange, send, sleep } from './fixtures/http';
import {
  generateTestKeyPair,
  nowSeconds,
  signJwt,
  startJwksServer,
  testAuthConfig,
} from './fixtures/jwt';
import { startUpstream, type TestUpstream } from './fixtures/upstream';

const SECRET = 'e2e-secret-that-is-long-enough-for-hs256!';
const API_KEY = 'live_0123456789abcdef0123';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('edge protection (e2e)', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(() => up.close());

  describe('token bucket per client IP', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      const base = testConfig([]);
      gw = await startGateway(
        testConfig([{ upstreams: [up.url] }], {
          security: { ...base.security, maxRequestsPerSecond: 5, maxBurstSize: 10 },
        }),
      );
    });
    afterAll(() => gw.close());

    it('should pass a full burst, refuse the next with standard headers, then refill', async () => {
      const statuses: number[] = [];
      const replies = [];
      for (let i = 0; i < 10; i++) {
        replies.push(await send(gw.url, '/x'));
      }
      statuses.push(...replies.map((r) => r.status));
      const last = replies[9];
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(last.headers['x-ratelimit-limit']).toBe('10');
      expect(last.headers['ratelimit-policy']).toBeDefined();
      expect(last.headers.ratelimit).toBeDefined();
      const refused = await send(gw.url, '/x');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers['x-ratelimit-remaining']).toBe('0');
      expect(refused.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      await sleep(450); // 5 tokens/s: two tokens back
      expect((await send(gw.url, '/x')).status).toBe(200);
      expect((await send(gw.url, '/x')).status).toBe(200);
      expect((await send(gw.url, '/x')).status).toBe(429);
    });

    it('should keep the limit on the real address when X-Forwarded-For is spoofed', async () => {
      await sleep(2100); // refill fully
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(
          (await send(gw.url, '/x', { headers: { 'x-forwarded-for': `10.9.9.${i}` } })).status,
        );
      }
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('per-route and per-key buckets', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startGateway(
        testConfig(
          [
            {
              name: 'tight',
              prefix: '/tight',
              upstreams: [up.url],
              rateLimit: { rate: 0.1, burst: 2, key: 'ip' },
            },
            {
              name: 'per-user',
              prefix: '/per-user',
              requireAuth: true,
              upstreams: [up.url],
              rateLimit: { rate: 0.1, burst: 2, key: 'api_key' },
            },
            { name: 'rest', prefix: '/', upstreams: [up.url] },
          ],
          {
            auth: testAuthConfig({
              apiKeys: [
                { hash: sha256(API_KEY), name: 'ci-bot' },
                { hash: sha256(`${API_KEY}-2`), name: 'other', rateLimit: { rate: 0.1, burst: 1 } },
              ],
            }),
          },
        ),
      );
    });
    afterAll(() => gw.close());

    it('should add a route bucket on top of the per-IP one and name it in the headers', async () => {
      expect((await send(gw.url, '/tight/a')).status).toBe(200);
      expect((await send(gw.url, '/tight/a')).status).toBe(200);
      const refused = await send(gw.url, '/tight/a');
      expect(refused.status).toBe(429);
      expect(refused.headers['ratelimit-policy']).toContain('"tight"');
      // The rest of the gateway still answers this client.
      expect((await send(gw.url, '/other')).status).toBe(200);
    });

    it("should key a route bucket by API key, and honour a key's own limit", async () => {
      const as = (key: string) => ({ headers: { 'x-api-key': key } });
      expect((await send(gw.url, '/per-user/x', as(API_KEY))).status).toBe(200);
      expect((await send(gw.url, '/per-user/x', as(API_KEY))).status).toBe(200);
      expect((await send(gw.url, '/per-user/x', as(API_KEY))).status).toBe(429);
      // Same client IP, other key: its own buckets (and its own limit of 1).
      expect((await send(gw.url, '/per-user/x', as(`${API_KEY}-2`))).status).toBe(200);
      expect((await send(gw.url, '/per-user/x', as(`${API_KEY}-2`))).status).toBe(429);
    });
  });

  describe('buckets keyed by JWT subject', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startGateway(
        testConfig(
          [
            {
              name: 'by-user',
              prefix: '/by-user',
              requireAuth: true,
              upstreams: [up.url],
              rateLimit: { rate: 0.01, burst: 2, key: 'jwt_sub' },
            },
            { name: 'plain', prefix: '/plain', requireAuth: true, upstreams: [up.url] },
          ],
          { auth: testAuthConfig({ jwtSecret: SECRET, jwtAlgorithms: ['HS256'] }) },
        ),
      );
    });
    afterAll(() => gw.close());

    const as = (claims: Record<string, unknown>) => ({
      headers: {
        authorization: `Bearer ${signJwt({ exp: nowSeconds() + 300, ...claims }, SECRET, { alg: 'HS256' })}`,
      },
    });

    it('should key a numeric sub by its string form: one bucket per user, not one for all', async () => {
      expect((await send(gw.url, '/by-user/x', as({ sub: 7 }))).status).toBe(200);
      expect((await send(gw.url, '/by-user/x', as({ sub: 7 }))).status).toBe(200);
      const refused = await send(gw.url, '/by-user/x', as({ sub: 7 }));
      expect(refused.status).toBe(429);
      expect(refused.headers['ratelimit-policy']).toContain('"by-user"');
      // "7" is the same user as 7; 8 is another one with a bucket of its own.
      expect((await send(gw.url, '/by-user/x', as({ sub: '7' }))).status).toBe(429);
      expect((await send(gw.url, '/by-user/x', as({ sub: 8 }))).status).toBe(200);
      const seen = up.requests.at(-1)!.headers;
      expect(seen['x-user-id']).toBe('8');
    });

    it.each([
      ['no sub', {}],
      ['a boolean sub', { sub: true }],
      ['an object sub', { sub: { id: 9 } }],
      ['an empty sub', { sub: '' }],
    ])(
      'should refuse a token with %s on a jwt_sub route with 401 invalid_token',
      async (_n, claims) => {
        const r = await send(gw.url, '/by-user/x', as(claims));
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toContain('error="invalid_token"');
        expect(r.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        // The same token is fine where no bucket needs a subject.
        expect((await send(gw.url, '/plain/x', as(claims))).status).toBe(200);
      },
    );
  });

  describe('flood blocking and IP lists', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      const base = testConfig([]);
      gw = await startGateway(
        testConfig([{ upstreams: [up.url] }], {
          security: {
            ...base.security,
            maxRequestsPerSecond: 1000,
            maxBurstSize: 1000,
            ddosThreshold: 15,
            blockDurationMs: 1500,
            ipBlacklist: ['192.0.2.0/24'],
            ipWhitelist: ['198.51.100.7'],
          },
          proxy: { ...base.proxy, trustedProxies: ['127.0.0.1/32'] },
        }),
      );
    });
    afterAll(() => gw.close());

    const as = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

    it('should refuse denylisted CIDRs with 403 JSON', async () => {
      const r = await send(gw.url, '/x', as('192.0.2.44'));
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ statusCode: 403 });
    });

    it('should block a client past the threshold, count unrouted requests too, and unblock it later', async () => {
      const ip = '203.0.113.77';
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await send(gw.url, i % 2 ? '/x' : '/health/nope', as(ip))).status);
      }
      expect(statuses.slice(0, 15).every((s) => s !== 429)).toBe(true);
      expect(statuses.slice(16).every((s) => s === 429)).toBe(true);
      const blocked = await send(gw.url, '/x', as(ip));
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(blocked.headers['ratelimit-policy']).toBe('"flood";q=15;w=60');
      expect(blocked.headers['x-ratelimit-remaining']).toBe('0');
      // Another client is unaffected.
      expect((await send(gw.url, '/x', as('203.0.113.78'))).status).toBe(200);
      await sleep(1700);
      expect((await send(gw.url, '/x', as(ip))).status).toBe(200);
    });

    it('should never block or limit an allowlisted client', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        statuses.push((await send(gw.url, '/x', as('198.51.100.7'))).status);
      }
      expect(statuses.every((s) => s === 200)).toBe(true);
    });
  });

  describe('authentication', () => {
    let gw: TestGateway;
    const rsa = generateTestKeyPair('rsa');
    const ec = generateTestKeyPair('ec-p256');
    let jwks: Awaited<ReturnType<typeof startJwksServer>>;

    beforeAll(async () => {
      jwks = await startJwksServer([ec.jwk('ec1', 'ES256')]);
      gw = await startGateway(
        testConfig(
          [
            { name: 'open', prefix: '/open', upstreams: [up.url] },
            { name: 'private', prefix: '/private', requireAuth: true, upstreams: [up.url] },
            {
              name: 'keys',
              prefix: '/keys',
              requireAuth: true,
              auth: ['api_key'],
              hideCredentials: true,
              upstreams: [up.url],
            },
            {
              name: 'tokens',
              prefix: '/tokens',
              requireAuth: true,
              auth: ['jwt'],
              upstreams: [up.url],
            },
            {
              name: 'hidden',
              prefix: '/hidden',
              requireAuth: true,
              hideCredentials: true,
              upstreams: [up.url],
            },
          ],
          {
            auth: testAuthConfig({
              jwtSecret: SECRET,
              jwtPublicKey: rsa.publicPem,
              jwksUrl: jwks.url,
              jwtAlgorithms: ['HS256', 'RS256', 'ES256'],
              jwtIssuers: ['https://issuer.test'],
              apiKeys: [{ hash: sha256(API_KEY), name: 'ci-bot' }],
              publicPaths: ['/private/status', '/private/docs/*'],
            }),
          },
        ),
      );
    });
    afterAll(async () => {
      await gw.close();
      await jwks.close();
    });

    const claims = (extra: Record<string, unknown> = {}) => ({
      sub: 'user-42',
      iss: 'https://issuer.test',
      exp: nowSeconds() + 300,
      ...extra,
    });
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const seenBy = (r: Awaited<ReturnType<typeof send>>) =>
      r.json<{ headers: Record<string, string> }>().headers;

    it('should let anyone through on routes that do not require auth', async () => {
      expect((await send(gw.url, '/open/x')).status).toBe(200);
    });

    it('should answer 401 with WWW-Authenticate and no detail when credentials are missing', async () => {
      const r = await send(gw.url, '/private/x');
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toContain('Bearer realm=');
      expect(r.json()).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String) as string,
        requestId: r.headers['x-request-id'],
      });
    });

    it.each([
      ['HS256', () => signJwt(claims(), SECRET, { alg: 'HS256' })],
      ['RS256', () => signJwt(claims(), rsa.privateKey, { alg: 'RS256' })],
      ['ES256 via JWKS', () => signJwt(claims(), ec.privateKey, { alg: 'ES256', kid: 'ec1' })],
    ])('should accept a valid %s token and forward the subject', async (_name, token) => {
      const r = await send(gw.url, '/private/x', {
        headers: { authorization: `Bearer ${token()}`, 'x-user-id': 'forged-admin' },
      });
      expect(r.status).toBe(200);
      expect(seenBy(r)['x-user-id']).toBe('user-42');
    });

    it.each([
      ['expired', () => signJwt(claims({ exp: nowSeconds() - 3600 }), SECRET, { alg: 'HS256' })],
      [
        'not yet valid',
        () => signJwt(claims({ nbf: nowSeconds() + 3600 }), SECRET, { alg: 'HS256' }),
      ],
      [
        'wrong issuer',
        () => signJwt(claims({ iss: 'https://evil.test' }), SECRET, { alg: 'HS256' }),
      ],
      [
        'missing exp',
        () => signJwt({ sub: 'x', iss: 'https://issuer.test' }, SECRET, { alg: 'HS256' }),
      ],
      ['alg none', () => signJwt(claims(), undefined, { alg: 'none' })],
      [
        'HS256 keyed with the RSA public key',
        () => signJwt(claims(), rsa.publicPem, { alg: 'HS256' }),
      ],
      [
        'tampered payload',
        () => {
          const [h, , s] = signJwt(claims(), SECRET, { alg: 'HS256' }).split('.');
          const evil = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
          return `${h}.${evil}.${s}`;
        },
      ],
      ['garbage', () => 'not.a.jwt'],
    ])('should refuse a %s token with 401 invalid_token', async (_name, token) => {
      const r = await send(gw.url, '/private/x', bearer(token()));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toContain('invalid_token');
    });

    it('should accept a valid API key and refuse an unknown one', async () => {
      const ok = await send(gw.url, '/private/x', { headers: { 'x-api-key': API_KEY } });
      expect(ok.status).toBe(200);
      const line = gw.logs.find((l) => l.requestId === ok.headers['x-request-id']);
      expect(line?.principal).toBe('ci-bot');
      const bad = await send(gw.url, '/private/x', {
        headers: { 'x-api-key': 'live_wrong_key_000000000' },
      });
      expect(bad.status).toBe(401);
    });

    it('should refuse a valid JWT on an `auth: [api_key]` route, and a valid key on a `[jwt]` one', async () => {
      const token = signJwt(claims(), SECRET, { alg: 'HS256' });
      const jwtOnKeys = await send(gw.url, '/keys/x', bearer(token));
      expect(jwtOnKeys.status).toBe(401);
      expect(jwtOnKeys.headers['www-authenticate']).toBe('Key realm="gateway"');
      expect((await send(gw.url, '/keys/x', { headers: { 'x-api-key': API_KEY } })).status).toBe(
        200,
      );

      const keyOnTokens = await send(gw.url, '/tokens/x', { headers: { 'x-api-key': API_KEY } });
      expect(keyOnTokens.status).toBe(401);
      expect(keyOnTokens.headers['www-authenticate']).toBe('Bearer realm="gateway"');
      expect((await send(gw.url, '/tokens/x', bearer(token))).status).toBe(200);
    });

    it("should send an API key's identity upstream, never a client's copy of it", async () => {
      const forged = { 'x-api-key-name': 'root', 'x-api-key-id': 'ffffffffffffffff' };
      const byKey = await send(gw.url, '/private/x', {
        headers: { 'x-api-key': API_KEY, ...forged },
      });
      expect(byKey.status).toBe(200);
      expect(seenBy(byKey)).toMatchObject({
        'x-api-key-name': 'ci-bot',
        'x-api-key-id': sha256(API_KEY).slice(0, 16),
      });
      // A JWT names its user instead; the forged key identity is dropped all the same.
      const byToken = await send(gw.url, '/private/x', {
        headers: {
          authorization: `Bearer ${signJwt(claims(), SECRET, { alg: 'HS256' })}`,
          ...forged,
        },
      });
      expect(seenBy(byToken)['x-api-key-name']).toBeUndefined();
      expect(seenBy(byToken)['x-api-key-id']).toBeUndefined();
      const open = await send(gw.url, '/open/x', { headers: forged });
      expect(seenBy(open)['x-api-key-name']).toBeUndefined();
    });

    it('should remove the credentials before forwarding with hide_credentials, and only then', async () => {
      const token = signJwt(claims(), SECRET, { alg: 'HS256' });
      const kept = seenBy(
        await send(gw.url, '/private/x', {
          headers: { authorization: `Bearer ${token}`, 'x-api-key': API_KEY },
        }),
      );
      expect(kept.authorization).toBe(`Bearer ${token}`);
      expect(kept['x-api-key']).toBe(API_KEY);

      const hidden = await send(gw.url, '/hidden/x', {
        headers: { authorization: `Bearer ${token}`, 'x-api-key': API_KEY },
      });
      expect(hidden.status).toBe(200);
      expect(seenBy(hidden).authorization).toBeUndefined();
      expect(seenBy(hidden)['x-api-key']).toBeUndefined();
      expect(seenBy(hidden)['x-user-id']).toBe('user-42');

      // Another scheme is not the gateway's credential: it may be meant for the upstream.
      const basic = seenBy(
        await send(gw.url, '/hidden/x', {
          headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': API_KEY },
        }),
      );
      expect(basic.authorization).toBe('Basic dXNlcjpwYXNz');
      expect(basic['x-api-key']).toBeUndefined();

      // An api_key route hides only the key: the bearer token is not its credential.
      const keys = seenBy(
        await send(gw.url, '/keys/x', {
          headers: { authorization: `Bearer ${token}`, 'x-api-key': API_KEY },
        }),
      );
      expect(keys['x-api-key']).toBeUndefined();
      expect(keys.authorization).toBe(`Bearer ${token}`);
    });

    it('should treat only exact public paths and explicit /* prefixes as public', async () => {
      expect((await send(gw.url, '/private/status')).status).toBe(200);
      expect((await send(gw.url, '/private/statusx')).status).toBe(401);
      expect((await send(gw.url, '/private/docs/a/b')).status).toBe(200);
      expect((await send(gw.url, '/private/docs')).status).toBe(401);
    });

    it('should apply the same authentication to WebSocket upgrades', async () => {
      const upgrade = (extra: string) =>
        rawExchange(
          gw.port,
          'GET /private/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
            extra +
            '\r\n',
          3000,
        );
      const refused = await upgrade('');
      expect(refused).toMatch(/^HTTP\/1\.1 401/);
      expect(refused).toMatch(/www-authenticate: Bearer/i);
      expect(refused).toContain('"statusCode":401');
      // With a key the upgrade reaches the (plain HTTP) upstream, which declines it.
      const admitted = await upgrade(`X-API-Key: ${API_KEY}\r\n`);
      expect(admitted).not.toMatch(/^HTTP\/1\.1 401/);
    });

    it('should not let a dot segment reach a protected path through a public one', async () => {
      const r = await send(gw.url, '/private/docs/../secret');
      expect(r.status).toBe(401);
    });
  });
});
