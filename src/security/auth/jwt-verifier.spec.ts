import { createPublicKey, createSecretKey, sign } from 'node:crypto';
import type { JwtAlgorithm } from '../../config/gateway-config.types';
import { JwtVerifier, type JwtVerifierOptions } from './jwt-verifier';
import { base64url, generateTestKeyPair, signJwt, type TestKeyPair } from './testing/sign-jwt';
import { hmacVerificationKey, publicVerificationKey } from './verification-key';

const NOW = 1_800_000_000; // seconds
const SECRET = 's'.repeat(48);

describe('JwtVerifier', () => {
  let rsa: TestKeyPair;
  let ec: TestKeyPair;
  let ec384: TestKeyPair;

  beforeAll(() => {
    rsa = generateTestKeyPair('rsa');
    ec = generateTestKeyPair('ec-p256');
    ec384 = generateTestKeyPair('ec-p384');
  }, 30_000);

  function verifier(
    algorithms: JwtAlgorithm[],
    keys: { secret?: string; publicPem?: string },
    overrides: Partial<JwtVerifierOptions> = {},
  ): JwtVerifier {
    return new JwtVerifier({
      algorithms,
      ...(keys.secret === undefined
        ? {}
        : { hmacKey: hmacVerificationKey(createSecretKey(Buffer.from(keys.secret)), algorithms) }),
      ...(keys.publicPem === undefined
        ? {}
        : { publicKey: publicVerificationKey(createPublicKey(keys.publicPem)) }),
      issuers: [],
      audiences: [],
      clockToleranceMs: 30_000,
      clock: () => NOW * 1000,
      ...overrides,
    });
  }

  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'user-1',
    exp: NOW + 60,
    ...extra,
  });

  function reasonOf(result: ReturnType<JwtVerifier['verify']>): string {
    if (result instanceof Promise) {
      throw new Error('expected a synchronous result');
    }
    return result.ok ? 'ok' : result.reason;
  }

  describe('valid tokens', () => {
    it('should accept HS256 with the secret and return the claims', () => {
      const token = signJwt(claims(), SECRET, { alg: 'HS256' });

      expect(verifier(['HS256'], { secret: SECRET }).verify(token)).toEqual({
        ok: true,
        claims: { sub: 'user-1', exp: NOW + 60 },
        expiresAtMs: (NOW + 90) * 1000,
      });
    });

    it('should accept RS256 with the PEM public key', () => {
      const token = signJwt(claims(), rsa.privateKey, { alg: 'RS256' });

      expect(reasonOf(verifier(['RS256'], { publicPem: rsa.publicPem }).verify(token))).toBe('ok');
    });

    it('should accept ES256 in JOSE r||s form', () => {
      const token = signJwt(claims(), ec.privateKey, { alg: 'ES256' });

      expect(reasonOf(verifier(['ES256'], { publicPem: ec.publicPem }).verify(token))).toBe('ok');
    });

    it.each<[JwtAlgorithm, () => TestKeyPair]>([
      ['RS384', () => rsa],
      ['RS512', () => rsa],
      ['PS256', () => rsa],
      ['PS512', () => rsa],
      ['ES384', () => ec384],
    ])('should accept %s when it is pinned', (alg, pair) => {
      const token = signJwt(claims(), pair().privateKey, { alg });

      expect(reasonOf(verifier([alg], { publicPem: pair().publicPem }).verify(token))).toBe('ok');
    });

    it('should accept HS384 and HS512 with a long enough secret', () => {
      const secret = 'k'.repeat(64);
      const v = verifier(['HS384', 'HS512'], { secret });

      expect(reasonOf(v.verify(signJwt(claims(), secret, { alg: 'HS384' })))).toBe('ok');
      expect(reasonOf(v.verify(signJwt(claims(), secret, { alg: 'HS512' })))).toBe('ok');
    });
  });

  describe('algorithm pinning', () => {
    it('should refuse alg none, however it is spelled, with or without a signature', () => {
      const v = verifier(['HS256'], { secret: SECRET });
      const unsigned = signJwt(claims(), undefined, { alg: 'none' });
      const withJunk = `${unsigned}${base64url('junk')}`;
      const upper = signJwt(claims(), undefined, { alg: 'NONE' }) + base64url('x');

      expect(reasonOf(v.verify(unsigned))).toBe('malformed token (not base64url)');
      expect(reasonOf(v.verify(withJunk))).toBe('alg none');
      expect(reasonOf(v.verify(upper))).toBe('alg none');
    });

    it('should refuse an algorithm that is not pinned', () => {
      const token = signJwt(claims(), SECRET, { alg: 'HS512' });

      expect(reasonOf(verifier(['HS256'], { secret: SECRET }).verify(token))).toBe(
        'alg "HS512" not accepted',
      );
    });

    it('should refuse HS256 signed with the RSA public key as the secret (key confusion)', () => {
      const forged = signJwt(claims(), rsa.publicPem, { alg: 'HS256' });

      // Only RS256 pinned: HS256 is refused outright.
      expect(reasonOf(verifier(['RS256'], { publicPem: rsa.publicPem }).verify(forged))).toBe(
        'alg "HS256" not accepted',
      );
      // HS256 pinned too: HMAC uses JWT_SECRET only, never the public key.
      expect(
        reasonOf(
          verifier(['HS256', 'RS256'], { secret: SECRET, publicPem: rsa.publicPem }).verify(forged),
        ),
      ).toBe('bad signature');
      // HS256 pinned with no secret: no key at all, rather than the public key.
      expect(
        reasonOf(verifier(['HS256', 'RS256'], { publicPem: rsa.publicPem }).verify(forged)),
      ).toBe('no key for alg HS256');
    });

    it('should refuse a token whose algorithm does not fit the key', () => {
      const token = signJwt(claims(), ec.privateKey, { alg: 'ES256' });

      expect(
        reasonOf(verifier(['ES256', 'RS256'], { publicPem: rsa.publicPem }).verify(token)),
      ).toBe('alg ES256 does not fit the key');
    });

    it('should refuse an ES256 signature in DER form', () => {
      const header = base64url(JSON.stringify({ alg: 'ES256' }));
      const payload = base64url(JSON.stringify(claims()));
      const der = sign('sha256', Buffer.from(`${header}.${payload}`), ec.privateKey);

      expect(
        reasonOf(
          verifier(['ES256'], { publicPem: ec.publicPem }).verify(
            `${header}.${payload}.${base64url(der)}`,
          ),
        ),
      ).toBe('bad signature');
    });

    it('should refuse a crit header it does not understand', () => {
      const token = signJwt(claims(), SECRET, { alg: 'HS256', header: { crit: ['exp'] } });

      expect(reasonOf(verifier(['HS256'], { secret: SECRET }).verify(token))).toBe(
        'crit header not supported',
      );
    });
  });

  describe('signature', () => {
    it('should refuse a tampered payload', () => {
      const [header, , signature] = signJwt(claims(), SECRET, { alg: 'HS256' }).split('.');
      const payload = base64url(JSON.stringify(claims({ sub: 'admin' })));

      expect(
        reasonOf(
          verifier(['HS256'], { secret: SECRET }).verify(`${header}.${payload}.${signature}`),
        ),
      ).toBe('bad signature');
    });

    it('should refuse a token signed with another secret or key', () => {
      expect(
        reasonOf(
          verifier(['HS256'], { secret: SECRET }).verify(
            signJwt(claims(), 'o'.repeat(48), { alg: 'HS256' }),
          ),
        ),
      ).toBe('bad signature');
      const other = generateTestKeyPair('ec-p256');
      expect(
        reasonOf(
          verifier(['ES256'], { publicPem: ec.publicPem }).verify(
            signJwt(claims(), other.privateKey, { alg: 'ES256' }),
          ),
        ),
      ).toBe('bad signature');
    });

    it('should refuse a truncated signature', () => {
      const token = signJwt(claims(), rsa.privateKey, { alg: 'RS256' });

      expect(
        reasonOf(verifier(['RS256'], { publicPem: rsa.publicPem }).verify(token.slice(0, -10))),
      ).toBe('bad signature');
    });
  });

  describe('malformed tokens', () => {
    it.each([
      ['an empty token', '', 'malformed token (expected three parts)'],
      ['one part', 'abc', 'malformed token (expected three parts)'],
      ['two parts', 'a.b', 'malformed token (expected three parts)'],
      ['four parts', 'a.b.c.d', 'malformed token (expected three parts)'],
      ['a space', 'a b.c.d', 'malformed token (not base64url)'],
      ['plain base64', 'a+b.c.d', 'malformed token (not base64url)'],
      ['a header that is not JSON', `${base64url('not json')}.e30.c2ln`, 'malformed header'],
      ['a header that is an array', `${base64url('[1]')}.e30.c2ln`, 'malformed header'],
      ['a header without alg', `${base64url('{"typ":"JWT"}')}.e30.c2ln`, 'no alg'],
      ['a numeric kid', `${base64url('{"alg":"HS256","kid":7}')}.e30.c2ln`, 'kid is not a string'],
      ['a token over 8 KiB', `${'a'.repeat(9000)}.b.c`, 'token too long'],
    ])('should refuse %s', (_label, token, reason) => {
      expect(reasonOf(verifier(['HS256'], { secret: SECRET }).verify(token))).toBe(reason);
    });

    it('should refuse a correctly signed payload that is not a JSON object', () => {
      const header = base64url(JSON.stringify({ alg: 'ES256' }));
      const payload = base64url('"just a string"');
      const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
        key: ec.privateKey,
        dsaEncoding: 'ieee-p1363',
      });

      expect(
        reasonOf(
          verifier(['ES256'], { publicPem: ec.publicPem }).verify(
            `${header}.${payload}.${base64url(signature)}`,
          ),
        ),
      ).toBe('payload is not a JSON object');
    });
  });

  describe('claims', () => {
    const check = (payload: Record<string, unknown>, overrides: Partial<JwtVerifierOptions> = {}) =>
      reasonOf(
        verifier(['HS256'], { secret: SECRET }, overrides).verify(
          signJwt(payload, SECRET, { alg: 'HS256' }),
        ),
      );

    it('should require exp', () => {
      expect(check({ sub: 'u' })).toBe('no exp claim');
      expect(check({ sub: 'u', exp: String(NOW + 60) })).toBe('exp is not a number');
    });

    it('should refuse an expired token, allowing the clock tolerance', () => {
      expect(check({ exp: NOW - 31 })).toBe('expired');
      expect(check({ exp: NOW - 29 })).toBe('ok');
      expect(check({ exp: NOW - 1 }, { clockToleranceMs: 0 })).toBe('expired');
      expect(check({ exp: NOW }, { clockToleranceMs: 0 })).toBe('expired');
    });

    it('should refuse a token that is not valid yet, allowing the clock tolerance', () => {
      expect(check({ exp: NOW + 600, nbf: NOW + 31 })).toBe('not yet valid (nbf)');
      expect(check({ exp: NOW + 600, nbf: NOW + 29 })).toBe('ok');
      expect(check({ exp: NOW + 600, nbf: 'soon' })).toBe('nbf or iat is not a number');
      expect(check({ exp: NOW + 600, iat: 'today' })).toBe('nbf or iat is not a number');
    });

    it('should check iss only when issuers are configured', () => {
      const issuers = ['https://idp.example.com/'];

      expect(check({ exp: NOW + 60, iss: 'https://evil.example.com/' })).toBe('ok');
      expect(check({ exp: NOW + 60, iss: 'https://idp.example.com/' }, { issuers })).toBe('ok');
      expect(check({ exp: NOW + 60, iss: 'https://evil.example.com/' }, { issuers })).toBe(
        'issuer not accepted',
      );
      expect(check({ exp: NOW + 60 }, { issuers })).toBe('issuer not accepted');
    });

    it('should check aud, as a string or an array, only when audiences are configured', () => {
      const audiences = ['api', 'api-v2'];

      expect(check({ exp: NOW + 60, aud: 'other' })).toBe('ok');
      expect(check({ exp: NOW + 60, aud: 'api' }, { audiences })).toBe('ok');
      expect(check({ exp: NOW + 60, aud: ['other', 'api-v2'] }, { audiences })).toBe('ok');
      expect(check({ exp: NOW + 60, aud: 'other' }, { audiences })).toBe('audience not accepted');
      expect(check({ exp: NOW + 60, aud: ['other'] }, { audiences })).toBe('audience not accepted');
      expect(check({ exp: NOW + 60 }, { audiences })).toBe('audience not accepted');
    });
  });
});
