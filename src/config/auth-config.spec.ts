import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from './api-keys-file';
import type { AuthConfig } from './gateway-config.types';
import { loadGatewayConfig, type LoadGatewayConfigResult } from './load-config';

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function load(
  env: Record<string, string>,
  files: Record<string, string> = {},
): LoadGatewayConfigResult {
  const cwd = mkdtempSync(join(tmpdir(), 'gateway-auth-'));
  tmpDirs.push(cwd);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(cwd, name), text);
  }
  return loadGatewayConfig({ env: { DEMO_UPSTREAM: 'false', ...env }, cwd, isTTY: false });
}

function authOf(env: Record<string, string>, files: Record<string, string> = {}): AuthConfig {
  const result = load(env, files);
  if (!result.ok) {
    throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  }
  return result.config.auth;
}

function warningsOf(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  const result = load(env, files);
  if (!result.ok) {
    throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  }
  return result.warnings.filter((w) => !w.startsWith('no routes'));
}

function problemsOf(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  const result = load(env, files);
  if (result.ok) {
    throw new Error('expected problems, got a valid config');
  }
  return result.problems;
}

const SECRET = 'k'.repeat(40);
const PROTECTED = { ROUTE_API_URL: 'h:1', ROUTE_API_REQUIRE_AUTH: 'true' };

describe('auth configuration', () => {
  const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

  it('should read every auth variable', () => {
    const auth = authOf(
      {
        JWT_SECRET: SECRET,
        JWT_PUBLIC_KEY: rsaPem.replace(/\n/g, '\\n'),
        JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
        JWT_ALGORITHMS: 'hs256, RS256,ES256,RS256',
        JWT_ISSUER: 'https://idp.example.com/',
        JWT_AUDIENCE: 'api,api-v2',
        JWT_CLOCK_TOLERANCE: '5s',
        JWT_FORWARD_CLAIMS: 'sub:X-User-Id, https://example.com/roles:X-User-Roles',
        API_KEYS_FILE: 'keys.txt',
        PUBLIC_PATHS: '/login, /public/*',
      },
      { 'keys.txt': `${'a'.repeat(64)} billing 5/10\n` },
    );

    expect(auth).toEqual({
      jwtSecret: SECRET,
      jwtPublicKey: rsaPem,
      jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
      jwtAlgorithms: ['HS256', 'RS256', 'ES256'],
      jwtIssuers: ['https://idp.example.com/'],
      jwtAudiences: ['api', 'api-v2'],
      jwtClockToleranceMs: 5_000,
      jwtForwardClaims: [
        { claim: 'sub', header: 'x-user-id' },
        { claim: 'https://example.com/roles', header: 'x-user-roles' },
      ],
      apiKeysFile: expect.stringMatching(/keys\.txt$/) as unknown,
      apiKeys: [{ hash: 'a'.repeat(64), name: 'billing', rateLimit: { rate: 5, burst: 10 } }],
      publicPaths: ['/login', '/public/*'],
    });
  });

  it('should read the auth group of the config file, with a key file path', () => {
    const yaml = [
      'auth:',
      '  jwt_public_key_file: ec.pem',
      '  jwt_issuer: [https://idp.example.com/]',
      '  jwt_clock_tolerance: 0s',
      '  jwt_forward_claims: ["sub:X-Subject", "email:X-Email"]',
      '  public_paths: [/health, /docs/*]',
      '',
    ].join('\n');

    expect(
      authOf({ GATEWAY_CONFIG: 'gw.yaml' }, { 'gw.yaml': yaml, 'ec.pem': ecPem }),
    ).toMatchObject({
      jwtPublicKey: ecPem,
      jwtAlgorithms: ['ES256'],
      jwtIssuers: ['https://idp.example.com/'],
      jwtClockToleranceMs: 0,
      jwtForwardClaims: [
        { claim: 'sub', header: 'x-subject' },
        { claim: 'email', header: 'x-email' },
      ],
      publicPaths: ['/health', '/docs/*'],
    });
  });

  describe('derived algorithms', () => {
    it.each<[string, Record<string, string>, string[]]>([
      ['no key', {}, []],
      ['a secret', { JWT_SECRET: SECRET }, ['HS256']],
      ['an RSA public key', { JWT_PUBLIC_KEY: rsaPem }, ['RS256']],
      ['an EC P-256 public key', { JWT_PUBLIC_KEY: ecPem }, ['ES256']],
      ['a JWKS', { JWKS_URL: 'https://idp.example.com/jwks' }, ['RS256', 'ES256']],
      [
        'all of them',
        { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: ecPem, JWKS_URL: 'https://idp.example.com/jwks' },
        ['HS256', 'ES256', 'RS256'],
      ],
    ])('should accept only what %s can verify', (_label, env, algorithms) => {
      expect(authOf(env).jwtAlgorithms).toEqual(algorithms);
    });
  });

  describe('problems', () => {
    it('should refuse alg none and unknown algorithms', () => {
      expect(problemsOf({ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'HS256,none' })).toEqual([
        'JWT_ALGORITHMS: "none" is never accepted: unsigned tokens would authenticate anyone',
      ]);
      expect(problemsOf({ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'HS257' })).toEqual([
        'JWT_ALGORITHMS: unknown algorithm "HS257" (expected HS256|HS384|HS512|RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512)',
      ]);
    });

    it('should refuse pinned algorithms that no configured key can verify', () => {
      expect(problemsOf({ JWT_ALGORITHMS: 'HS256,RS256' })).toEqual([
        'JWT_ALGORITHMS: HS256 needs JWT_SECRET',
        'JWT_ALGORITHMS: RS256 needs JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWKS_URL',
      ]);
      expect(problemsOf({ JWT_PUBLIC_KEY: ecPem, JWT_ALGORITHMS: 'RS256' })).toEqual([
        'JWT_ALGORITHMS: accepts none of the algorithms the configured public key verifies (ES256)',
      ]);
    });

    it('should refuse private, broken, small and unsupported public keys', () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const smallPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const edPem = generateKeyPairSync('ed25519')
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();

      expect(problemsOf({ JWT_PUBLIC_KEY: privatePem })).toEqual([
        'JWT_PUBLIC_KEY: is a private key; give the gateway only the public key (`openssl pkey -in key.pem -pubout`)',
      ]);
      expect(problemsOf({ JWT_PUBLIC_KEY: 'not a key' })).toEqual([
        'JWT_PUBLIC_KEY: expected a PEM public key ("-----BEGIN PUBLIC KEY-----")',
      ]);
      expect(
        problemsOf({
          JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        }),
      ).toEqual(['JWT_PUBLIC_KEY: invalid PEM public key']);
      expect(problemsOf({ JWT_PUBLIC_KEY: smallPem })).toEqual([
        'JWT_PUBLIC_KEY: RSA key of 1024 bits; at least 2048 are required',
      ]);
      expect(problemsOf({ JWT_PUBLIC_KEY: edPem })).toEqual([
        'JWT_PUBLIC_KEY: unsupported key type ed25519 (expected RSA or EC)',
      ]);
    });

    it('should refuse two public key sources and a missing key file', () => {
      expect(problemsOf({ JWT_PUBLIC_KEY: rsaPem, JWT_PUBLIC_KEY_FILE: 'k.pem' })).toEqual([
        'JWT_PUBLIC_KEY: conflicts with JWT_PUBLIC_KEY_FILE; set only one',
      ]);
      expect(problemsOf({ JWT_PUBLIC_KEY_FILE: 'missing.pem' })).toEqual([
        'JWT_PUBLIC_KEY_FILE: cannot read "missing.pem": no such file',
      ]);
    });

    it('should refuse unusable JWKS URLs and warn about plain http', () => {
      expect(problemsOf({ JWKS_URL: 'ftp://idp/jwks' })).toEqual([
        'JWKS_URL: unsupported scheme "ftp:" (expected https:)',
      ]);
      expect(problemsOf({ JWKS_URL: 'https://user:pw@idp/jwks' })).toEqual([
        'JWKS_URL: must not contain credentials or a fragment',
      ]);
      expect(problemsOf({ JWKS_URL: 'jwks.json' })).toEqual(['JWKS_URL: invalid URL "jwks.json"']);
      expect(warningsOf({ JWKS_URL: 'http://idp.internal/jwks' })).toEqual([
        'JWKS_URL: keys fetched over plain http can be replaced in transit; use https (idp.internal)',
      ]);
      expect(warningsOf({ JWKS_URL: 'http://127.0.0.1:8080/jwks' })).toEqual([]);
    });

    it('should bound the clock tolerance', () => {
      expect(problemsOf({ JWT_CLOCK_TOLERANCE: '11m' })).toEqual([
        'JWT_CLOCK_TOLERANCE: must be at most 10m, got "11m"',
      ]);
      expect(problemsOf({ JWT_CLOCK_TOLERANCE: '30' })).toEqual([
        expect.stringMatching(/^JWT_CLOCK_TOLERANCE: invalid duration "30"/),
      ]);
    });

    it('should refuse forwarded claims that are malformed or aim at protected headers', () => {
      expect(authOf({ JWT_FORWARD_CLAIMS: 'none' }).jwtForwardClaims).toEqual([]);
      for (const [value, message] of [
        ['sub', 'invalid entry "sub" (expected claim:Header, e.g. sub:X-User-Id, or none)'],
        ['sub:X User', 'invalid header name "X User"'],
        [
          'sub:Authorization',
          'Authorization cannot carry a claim: the gateway or the protocol owns it',
        ],
        [
          'sub:X-Forwarded-User',
          'X-Forwarded-User cannot carry a claim: the gateway or the protocol owns it',
        ],
        ['sub:X-User,email:x-user', 'x-user is listed twice'],
      ]) {
        expect(problemsOf({ JWT_FORWARD_CLAIMS: value })).toEqual([
          `JWT_FORWARD_CLAIMS: ${message}`,
        ]);
      }
    });

    it('should refuse public paths that are not exact canonical paths or explicit /* prefixes', () => {
      for (const [value, message] of [
        ['login', '"login" must start with "/"'],
        [
          '/api/*/public',
          '"/api/*/public": "*" is only allowed as a final "/*" (e.g. "/public/*")',
        ],
        ['/public*', '"/public*": "*" is only allowed as a final "/*" (e.g. "/public/*")'],
        [
          '/a/../admin',
          '"/a/../admin" is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)',
        ],
        [
          '/a//b',
          '"/a//b" is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)',
        ],
        [
          '/%2e%2e/x',
          '"/%2e%2e/x" is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)',
        ],
        [
          '/login?x=1',
          '"/login?x=1" is not a canonical path (no "//", "." or ".." segments, query, or encoded dot/slash)',
        ],
      ]) {
        expect(problemsOf({ PUBLIC_PATHS: value })).toEqual([`PUBLIC_PATHS: ${message}`]);
      }
      expect(warningsOf({ PUBLIC_PATHS: '/*' })).toEqual([
        'PUBLIC_PATHS: "/*" makes every path public, so require_auth has no effect',
      ]);
    });
  });

  describe('API_KEYS_FILE', () => {
    it('should report a missing file and every bad line', () => {
      expect(problemsOf({ API_KEYS_FILE: 'nope.txt' })).toEqual([
        'API_KEYS_FILE: cannot read "nope.txt": no such file',
      ]);
      expect(
        problemsOf({ API_KEYS_FILE: 'keys.txt' }, { 'keys.txt': 'short\nalso-short key\n' }),
      ).toEqual([
        'API_KEYS_FILE: keys.txt, line 1: plain key shorter than 16 characters; use a random key (e.g. `openssl rand -base64 32`)',
        'API_KEYS_FILE: keys.txt, line 2: plain key shorter than 16 characters; use a random key (e.g. `openssl rand -base64 32`)',
      ]);
    });

    it('should hash plain keys at load and warn that they are stored in plain text', () => {
      const key = 'plain-text-key-0123456789';
      const result = load({ API_KEYS_FILE: 'keys.txt' }, { 'keys.txt': `${key}\n` });

      expect(result).toMatchObject({
        ok: true,
        config: { auth: { apiKeys: [{ hash: sha256Hex(key) }] } },
        warnings: expect.arrayContaining([
          'API_KEYS_FILE: 1 key is stored in plain text; store SHA-256 hashes instead (`printf %s "$KEY" | sha256sum`)',
        ]) as unknown,
      });
      expect(JSON.stringify(result)).not.toContain(key);
    });

    it('should warn about a file without keys', () => {
      expect(warningsOf({ API_KEYS_FILE: 'keys.txt' }, { 'keys.txt': '# none yet\n' })).toEqual([
        'API_KEYS_FILE: keys.txt holds no key',
      ]);
    });
  });

  describe('JWT_SECRET', () => {
    it('should refuse a short secret when a route requires auth or HS256 is pinned', () => {
      expect(problemsOf({ ...PROTECTED, JWT_SECRET: 'short' })).toEqual([
        'JWT_SECRET: shorter than 32 bytes; HS256 needs a key of at least 256 random bits (e.g. `openssl rand -base64 48`)',
      ]);
      expect(problemsOf({ JWT_SECRET: 'short', JWT_ALGORITHMS: 'HS256' })).toEqual([
        'JWT_SECRET: shorter than 32 bytes; HS256 needs a key of at least 256 random bits (e.g. `openssl rand -base64 48`)',
      ]);
      expect(problemsOf({ JWT_SECRET: 'k'.repeat(40), JWT_ALGORITHMS: 'HS256,HS512' })).toEqual([
        'JWT_SECRET: shorter than 64 bytes; HS256/HS512 needs a key of at least 512 random bits (e.g. `openssl rand -base64 48`)',
      ]);
    });

    it('should only warn about a short secret nothing uses yet', () => {
      expect(warningsOf({ JWT_SECRET: 'short' })).toEqual([
        'JWT_SECRET: shorter than 32 bytes; HS256 keys should have at least 256 bits',
      ]);
      expect(
        warningsOf({ JWT_SECRET: SECRET, JWKS_URL: 'https://idp/jwks', JWT_ALGORITHMS: 'RS256' }),
      ).toEqual(['JWT_ALGORITHMS: accepts no HS algorithm, so JWT_SECRET is not used']);
    });

    it('should accept require_auth routes with any one credential', () => {
      for (const env of <Record<string, string>[]>[
        { JWT_SECRET: SECRET },
        { JWT_PUBLIC_KEY: ecPem },
        { JWKS_URL: 'https://idp.example.com/jwks' },
        { API_KEYS_FILE: 'keys.txt' },
      ]) {
        expect(load({ ...PROTECTED, ...env }, { 'keys.txt': `${'c'.repeat(64)}\n` }).ok).toBe(true);
      }
    });

    it('should not count an API_KEYS_FILE without keys as a credential', () => {
      expect(problemsOf({ ...PROTECTED, API_KEYS_FILE: 'keys.txt' }, { 'keys.txt': '\n' })).toEqual(
        [
          expect.stringMatching(
            /^routes: api require authentication but no credential is configured/,
          ),
        ],
      );
    });
  });
});
