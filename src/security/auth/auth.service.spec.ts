import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Test } from '@nestjs/testing';
import {
  generateTestKeyPair,
  nowSeconds,
  signJwt,
  startJwksServer,
  testAuthConfig,
  type JwksServer,
  type TestKeyPair,
} from '../../../test/fixtures/jwt';
import { GatewayConfigModule } from '../../config/gateway.config';
import type { AuthConfig, GatewayConfig } from '../../config/gateway-config.types';
import { ApiKeyStore } from './api-key-store';
import { AuthModule } from './auth.module';
import { AuthService } from './auth.service';
import type { AuthOutcome } from './auth.types';
import { InMemoryApiKeyStore } from './in-memory-api-key-store';
import { compileRouteAuth } from './route-auth';

const SECRET = 'gateway-test-secret-'.padEnd(48, 'x');
const API_KEY = 'mobile-app-key-0123456789abcdef';
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

function configWith(auth: Partial<AuthConfig>): GatewayConfig {
  // AuthService reads only the auth group.
  return {
    auth: testAuthConfig(auth),
    redis: { sentinels: [], sentinelName: 'mymaster', clusterNodes: [] },
  } as unknown as GatewayConfig;
}

function createService(auth: Partial<AuthConfig>): AuthService {
  const config = configWith(auth);
  return new AuthService(config, new InMemoryApiKeyStore(config.auth.apiKeys));
}

/** Awaits when needed, and says whether it was needed. */
async function settle(
  outcome: AuthOutcome | Promise<AuthOutcome>,
): Promise<{ outcome: AuthOutcome; async: boolean }> {
  return { outcome: await outcome, async: outcome instanceof Promise };
}

function sync(outcome: AuthOutcome | Promise<AuthOutcome>): AuthOutcome {
  if (outcome instanceof Promise) {
    throw new Error('expected a synchronous outcome');
  }
  return outcome;
}

/** The start-up fetch is recent; pretend the unknown-kid cooldown (30 s) has passed. */
function endCooldown(service: AuthService): void {
  const jwks = service['jwks'] as unknown as { lastFetchAt: number };
  jwks.lastFetchAt -= 30_000;
}

const bearer = (token: string): IncomingHttpHeaders => ({ authorization: `Bearer ${token}` });

describe('AuthService', () => {
  const hs256 = (claims: Record<string, unknown> = {}) =>
    signJwt({ sub: 'user-1', exp: nowSeconds() + 300, ...claims }, SECRET, { alg: 'HS256' });

  describe('with JWT_SECRET and API keys', () => {
    const service = createService({
      jwtSecret: SECRET,
      jwtAlgorithms: ['HS256'],
      jwtForwardClaims: [
        { claim: 'sub', header: 'x-user-id' },
        { claim: 'email', header: 'x-user-email' },
      ],
      apiKeys: [{ hash: sha256(API_KEY), name: 'mobile', rateLimit: { rate: 5, burst: 10 } }],
      publicPaths: ['/login', '/docs/*'],
    });

    it('should expose the public paths and the headers the proxy must strip', () => {
      expect(service.isPublicPath('/login')).toBe(true);
      expect(service.isPublicPath('/docs/x')).toBe(true);
      expect(service.isPublicPath('/loginx')).toBe(false);
      expect(service.identityHeaders).toEqual([
        'x-user-id',
        'x-user-email',
        'x-api-key-id',
        'x-api-key-name',
      ]);
    });

    it('should answer 401 with a bare Bearer challenge when no credential is sent', () => {
      expect(sync(service.authenticate({}))).toEqual({
        ok: false,
        status: 401,
        wwwAuthenticate: 'Bearer realm="gateway"',
        reason: 'no credentials',
      });
      expect(sync(service.authenticate({ authorization: 'Basic dXNlcjpwYXNz' }))).toMatchObject({
        ok: false,
        wwwAuthenticate: 'Bearer realm="gateway"',
      });
    });

    it('should authenticate a valid token synchronously and forward its claims', () => {
      const outcome = sync(service.authenticate(bearer(hs256({ email: 'a@example.com' }))));

      expect(outcome).toEqual({
        ok: true,
        principal: {
          kind: 'jwt',
          id: 'user-1',
          key: 'jwt:user-1',
          claims: expect.objectContaining({ sub: 'user-1', email: 'a@example.com' }) as unknown,
        },
        upstreamHeaders: { 'x-user-id': 'user-1', 'x-user-email': 'a@example.com' },
      });
    });

    it('should name a numeric sub by its string form and give any other sub no id', () => {
      const idOf = (sub: unknown): string | undefined => {
        const outcome = sync(service.authenticate(bearer(hs256({ sub }))));
        return outcome.ok ? outcome.principal.id : undefined;
      };
      expect(idOf(42)).toBe('42');
      expect(idOf('42')).toBe('42');
      expect(idOf(1.5)).toBe('1.5');
      expect(idOf(true)).toBe('');
      expect(idOf({ id: 1 })).toBe('');
      expect(idOf(null)).toBe('');
      expect(idOf(undefined)).toBe('');
    });

    it('should accept the scheme in any case', () => {
      expect(sync(service.authenticate({ authorization: `bearer ${hs256()}` })).ok).toBe(true);
      expect(sync(service.authenticate({ authorization: `BEARER  ${hs256()} ` })).ok).toBe(true);
    });

    it('should reuse the verified outcome for the same token', () => {
      const token = hs256({ jti: 'cached' });

      expect(sync(service.authenticate(bearer(token)))).toBe(
        sync(service.authenticate(bearer(token))),
      );
    });

    it('should answer 401 invalid_token for a bad, garbled or empty token, the reason only in the log', () => {
      const [header, payload, signature] = hs256().split('.');
      const tampered = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
      const cases: [IncomingHttpHeaders, string][] = [
        [bearer(tampered), 'jwt: bad signature'],
        [bearer(hs256({ exp: nowSeconds() - 3600 })), 'jwt: expired'],
        [bearer('garbage'), 'jwt: malformed token (expected three parts)'],
        [{ authorization: 'Bearer' }, 'jwt: malformed token (expected three parts)'],
        [
          bearer(signJwt({ sub: 'x', exp: nowSeconds() + 60 }, undefined, { alg: 'none' }) + 'e30'),
          'jwt: alg none',
        ],
      ];

      for (const [headers, reason] of cases) {
        expect(sync(service.authenticate(headers))).toEqual({
          ok: false,
          status: 401,
          wwwAuthenticate: 'Bearer realm="gateway", error="invalid_token"',
          reason,
        });
      }
    });

    it('should authenticate a known API key with its name and rate limit, and record its use', () => {
      const before = Date.now();
      const outcome = sync(service.authenticate({ 'x-api-key': API_KEY }));

      expect(outcome).toEqual({
        ok: true,
        principal: {
          kind: 'api-key',
          id: sha256(API_KEY).slice(0, 16),
          key: `api-key:${sha256(API_KEY).slice(0, 16)}`,
          name: 'mobile',
          rateLimit: { rate: 5, burst: 10 },
        },
        // The key's identity reaches the upstream, as a JWT's claims do.
        upstreamHeaders: {
          'x-api-key-id': sha256(API_KEY).slice(0, 16),
          'x-api-key-name': 'mobile',
        },
      });
      expect(service['apiKeys'].list()).toEqual([
        expect.objectContaining({ lastUsedAt: expect.any(Number) as unknown }),
      ]);
      expect(
        (service['apiKeys'] as InMemoryApiKeyStore).list()[0].lastUsedAt,
      ).toBeGreaterThanOrEqual(before);
    });

    it('should answer a known API key with one frozen outcome per key, and a new one once the key is replaced', () => {
      const store = service['apiKeys'] as InMemoryApiKeyStore;
      const first = sync(service.authenticate({ 'x-api-key': API_KEY }));
      const again = sync(service.authenticate({ 'x-api-key': API_KEY }));

      expect(again).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      expect(first.ok && Object.isFrozen(first.principal)).toBe(true);

      // The admin API replaces a key's record rather than editing it: the old outcome must go.
      const other = 'rotated-key-0123456789abcdef';
      const added = store.add({ hash: sha256(other), name: 'rotated', createdAt: 1 });
      const rotated = sync(service.authenticate({ 'x-api-key': other }));
      expect(rotated).toMatchObject({ ok: true, principal: { name: 'rotated', id: added.id } });
      expect(store.revoke(added.id)).toMatchObject({ ok: true });
      expect(sync(service.authenticate({ 'x-api-key': other }))).toMatchObject({
        ok: false,
        reason: 'api-key: unknown key',
      });
    });

    it('should refuse unknown, empty and repeated API keys with a bare challenge', () => {
      for (const value of ['demo-api-key-123', '', sha256(API_KEY)]) {
        expect(sync(service.authenticate({ 'x-api-key': value }))).toEqual({
          ok: false,
          status: 401,
          wwwAuthenticate: 'Bearer realm="gateway"',
          reason: value === '' ? 'api-key: malformed' : 'api-key: unknown key',
        });
      }
      expect(sync(service.authenticate({ 'x-api-key': [API_KEY, API_KEY] }))).toMatchObject({
        ok: false,
        reason: 'api-key: malformed',
      });
    });

    it('should let either valid credential authenticate when both are sent, the token first', () => {
      const both = (token: string, key: string) =>
        sync(service.authenticate({ ...bearer(token), 'x-api-key': key }));

      expect(both(hs256(), API_KEY)).toMatchObject({ ok: true, principal: { kind: 'jwt' } });
      expect(both(hs256(), 'wrong-key-0123456789')).toMatchObject({
        ok: true,
        principal: { kind: 'jwt' },
      });
      expect(both('bad.token.here', API_KEY)).toMatchObject({
        ok: true,
        principal: { kind: 'api-key' },
      });
      expect(both('bad.token.here', 'wrong-key-0123456789')).toEqual({
        ok: false,
        status: 401,
        wwwAuthenticate: 'Bearer realm="gateway", error="invalid_token"',
        reason: 'jwt: malformed header; api-key: unknown key',
      });
    });
  });

  describe("a route's methods (auth:)", () => {
    const service = createService({
      jwtSecret: SECRET,
      jwtAlgorithms: ['HS256'],
      apiKeys: [
        { hash: sha256(API_KEY), name: 'mobile' },
        { hash: sha256('odd-name-key-0123456789'), name: 'bad\r\nname' },
      ],
    });
    const token = signJwt({ sub: 'user-1', exp: nowSeconds() + 300 }, SECRET, { alg: 'HS256' });

    it('should refuse a valid JWT on an api_key route, with the Key challenge', () => {
      const apiKeyOnly = compileRouteAuth({ auth: ['api_key'] });

      expect(sync(service.authenticate(bearer(token), apiKeyOnly))).toEqual({
        ok: false,
        status: 401,
        wwwAuthenticate: 'Key realm="gateway"',
        reason: 'no credentials',
      });
      expect(
        sync(service.authenticate({ 'x-api-key': 'nope-0123456789abcdef' }, apiKeyOnly)),
      ).toMatchObject({
        ok: false,
        wwwAuthenticate: 'Key realm="gateway"',
        reason: 'api-key: unknown key',
      });
      expect(
        sync(service.authenticate({ ...bearer(token), 'x-api-key': API_KEY }, apiKeyOnly)),
      ).toMatchObject({ ok: true, principal: { kind: 'api-key', name: 'mobile' } });
    });

    it('should refuse a valid API key on a jwt route', () => {
      const jwtOnly = compileRouteAuth({ auth: ['jwt'] });

      expect(sync(service.authenticate({ 'x-api-key': API_KEY }, jwtOnly))).toEqual({
        ok: false,
        status: 401,
        wwwAuthenticate: 'Bearer realm="gateway"',
        reason: 'no credentials',
      });
      expect(
        sync(service.authenticate({ ...bearer('bad.token.here'), 'x-api-key': API_KEY }, jwtOnly)),
      ).toMatchObject({ ok: false, reason: 'jwt: malformed header' });
      expect(sync(service.authenticate(bearer(token), jwtOnly)).ok).toBe(true);
    });

    it('should forward only the id of a key whose name cannot be a header value', () => {
      const outcome = sync(service.authenticate({ 'x-api-key': 'odd-name-key-0123456789' }));

      expect(outcome.ok && outcome.upstreamHeaders).toEqual({
        'x-api-key-id': sha256('odd-name-key-0123456789').slice(0, 16),
      });
    });
  });

  it('should refuse every bearer token when no JWT key is configured', () => {
    const service = createService({ apiKeys: [{ hash: sha256(API_KEY) }] });

    expect(sync(service.authenticate(bearer(hs256())))).toMatchObject({
      ok: false,
      reason: 'jwt: no JWT key configured',
    });
    expect(sync(service.authenticate({ 'x-api-key': API_KEY })).ok).toBe(true);
  });

  describe('with a PEM public key', () => {
    let rsa: TestKeyPair;
    let ec: TestKeyPair;

    beforeAll(() => {
      rsa = generateTestKeyPair('rsa');
      ec = generateTestKeyPair('ec-p256');
    }, 30_000);

    it('should verify RS256 and ES256 tokens', () => {
      const claims = { sub: 'svc', exp: nowSeconds() + 60 };
      const withRsa = createService({ jwtPublicKey: rsa.publicPem, jwtAlgorithms: ['RS256'] });
      const withEc = createService({ jwtPublicKey: ec.publicPem, jwtAlgorithms: ['ES256'] });

      expect(
        sync(withRsa.authenticate(bearer(signJwt(claims, rsa.privateKey, { alg: 'RS256' })))).ok,
      ).toBe(true);
      expect(
        sync(withEc.authenticate(bearer(signJwt(claims, ec.privateKey, { alg: 'ES256' })))).ok,
      ).toBe(true);
      // The HMAC/RSA confusion: HS256 "signed" with the public key text.
      expect(
        sync(withRsa.authenticate(bearer(signJwt(claims, rsa.publicPem, { alg: 'HS256' })))),
      ).toMatchObject({
        ok: false,
        reason: 'jwt: alg "HS256" not accepted',
      });
    });
  });

  describe('with a JWKS', () => {
    let k1: TestKeyPair;
    let k2: TestKeyPair;
    let server: JwksServer;
    let service: AuthService;
    const token = (pair: TestKeyPair, kid: string, alg = 'RS256') =>
      signJwt({ sub: kid, exp: nowSeconds() + 60 }, pair.privateKey, { alg, kid });

    beforeAll(() => {
      k1 = generateTestKeyPair('rsa');
      k2 = generateTestKeyPair('ec-p256');
    }, 30_000);

    beforeEach(async () => {
      server = await startJwksServer([k1.jwk('k1', 'RS256')]);
      service = createService({ jwksUrl: server.url, jwtAlgorithms: ['RS256', 'ES256'] });
      await service.onModuleInit();
    });

    afterEach(async () => {
      service.onModuleDestroy();
      await server.close();
    });

    it('should verify with the keys fetched at startup, without waiting', async () => {
      const result = await settle(service.authenticate(bearer(token(k1, 'k1'))));

      expect(result).toEqual({
        outcome: expect.objectContaining({ ok: true }) as unknown,
        async: false,
      });
      expect(server.requests).toBe(1);
    });

    it('should follow a rotation: refresh on the new kid, then refuse tokens of the removed key', async () => {
      const old = token(k1, 'k1');
      expect(sync(service.authenticate(bearer(old))).ok).toBe(true);
      server.setKeys([k2.jwk('k2', 'ES256')]);
      endCooldown(service);

      const rotated = await settle(service.authenticate(bearer(token(k2, 'k2', 'ES256'))));
      const stale = await settle(service.authenticate(bearer(old)));

      expect(rotated).toEqual({
        outcome: expect.objectContaining({ ok: true }) as unknown,
        async: true,
      });
      // Not served from the verification cache: the key set changed.
      expect(stale.outcome).toMatchObject({
        ok: false,
        reason: 'jwt: unknown kid "k1" (JWKS refresh cooling down)',
      });
      expect(server.requests).toBe(2);
    });

    it('should not fetch again for unknown kids within the cooldown', async () => {
      const outcomes = await Promise.all(
        ['x1', 'x2', 'x3'].map((kid) => settle(service.authenticate(bearer(token(k1, kid))))),
      );

      expect(outcomes.map((o) => o.outcome)).toEqual([
        expect.objectContaining({ ok: false, status: 401 }),
        expect.objectContaining({ ok: false, status: 401 }),
        expect.objectContaining({ ok: false, status: 401 }),
      ]);
      expect(outcomes.every((o) => !o.async)).toBe(true);
      expect(server.requests).toBe(1);
    });

    it('should keep its keys while the JWKS endpoint is down', async () => {
      server.setMode('error');
      endCooldown(service);

      const unknown = await settle(service.authenticate(bearer(token(k2, 'k9', 'ES256'))));
      const known = await settle(service.authenticate(bearer(token(k1, 'k1'))));

      expect(unknown.outcome).toMatchObject({ ok: false, reason: 'jwt: unknown kid "k9"' });
      expect(known.outcome.ok).toBe(true);
      expect(server.requests).toBe(2);
    });

    it('should boot without keys when the JWKS endpoint is down, and refuse tokens', async () => {
      server.setMode('error');
      const cold = createService({ jwksUrl: server.url, jwtAlgorithms: ['RS256'] });
      await cold.onModuleInit();

      const outcome = await cold.authenticate(bearer(token(k1, 'k1')));
      cold.onModuleDestroy();

      expect(outcome).toMatchObject({ ok: false, status: 401 });
    });
  });

  it('should be provided by AuthModule with the in-memory key store', async () => {
    const config = configWith({ apiKeys: [{ hash: sha256(API_KEY), name: 'mobile' }] });
    const moduleRef = await Test.createTestingModule({
      imports: [GatewayConfigModule.forRoot(config), AuthModule],
    }).compile();
    await moduleRef.init();

    const service = moduleRef.get(AuthService);

    expect(moduleRef.get(ApiKeyStore)).toBeInstanceOf(InMemoryApiKeyStore);
    expect(sync(service.authenticate({ 'x-api-key': API_KEY }))).toMatchObject({
      ok: true,
      principal: { name: 'mobile' },
    });
    await moduleRef.close();
  });
});
