/**
 * Micro-benchmark of authentication costs per request (not a test): JWT verification with
 * HS256, RS256 and ES256 (uncached, as for a token seen for the first time), the same through
 * AuthService with the verified-token cache, and an API-key lookup.
 *
 *   npm run build && node bench/auth-micro.js [iterations]
 *
 * Runs against dist/, single-threaded, after a warm-up; prints microseconds per call.
 */
'use strict';
require('reflect-metadata');
const { createPublicKey, createSecretKey, createHash } = require('node:crypto');
const { JwtVerifier } = require('../dist/security/auth/jwt-verifier');
const {
  hmacVerificationKey,
  publicVerificationKey,
} = require('../dist/security/auth/verification-key');
const { AuthService } = require('../dist/security/auth/auth.service');
const { InMemoryApiKeyStore } = require('../dist/security/auth/in-memory-api-key-store');
const { signJwt, generateTestKeyPair } = require('../dist/security/auth/testing/sign-jwt');

const iterations = Number(process.argv[2] ?? 20000);
const secret = 'bench-secret-'.padEnd(48, 'x');
const exp = Math.floor(Date.now() / 1000) + 3600;
const claims = { sub: 'user-42', email: 'user@example.com', iss: 'https://idp.example.com/', exp };

function measure(label, fn) {
  const warmup = Math.min(2000, iterations);
  for (let i = 0; i < warmup; i++) {
    fn();
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    fn();
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  process.stdout.write(`${label.padEnd(40)} ${us.toFixed(2).padStart(8)} µs\n`);
  return us;
}

function assertOk(result) {
  if (result instanceof Promise || !result.ok) {
    throw new Error(`unexpected result: ${JSON.stringify(result)}`);
  }
}

const rsa = generateTestKeyPair('rsa');
const ec = generateTestKeyPair('ec-p256');
const common = {
  issuers: ['https://idp.example.com/'],
  audiences: [],
  clockToleranceMs: 30000,
};

const hs = new JwtVerifier({
  algorithms: ['HS256'],
  hmacKey: hmacVerificationKey(createSecretKey(Buffer.from(secret)), ['HS256']),
  ...common,
});
const rs = new JwtVerifier({
  algorithms: ['RS256'],
  publicKey: publicVerificationKey(createPublicKey(rsa.publicPem)),
  ...common,
});
const es = new JwtVerifier({
  algorithms: ['ES256'],
  publicKey: publicVerificationKey(createPublicKey(ec.publicPem)),
  ...common,
});

const hsToken = signJwt(claims, secret, { alg: 'HS256' });
const rsToken = signJwt(claims, rsa.privateKey, { alg: 'RS256' });
const esToken = signJwt(claims, ec.privateKey, { alg: 'ES256' });

process.stdout.write(`node ${process.version}, ${iterations} iterations\n`);
measure('JwtVerifier HS256 (uncached)', () => assertOk(hs.verify(hsToken)));
measure('JwtVerifier RS256 (uncached)', () => assertOk(rs.verify(rsToken)));
measure('JwtVerifier ES256 (uncached)', () => assertOk(es.verify(esToken)));

const apiKey = 'bench-api-key-0123456789abcdef';
const auth = {
  jwtSecret: secret,
  jwtPublicKey: ec.publicPem,
  jwtAlgorithms: ['HS256', 'ES256'],
  jwtIssuers: ['https://idp.example.com/'],
  jwtAudiences: [],
  jwtClockToleranceMs: 30000,
  jwtForwardClaims: [{ claim: 'sub', header: 'x-user-id' }],
  apiKeys: [{ hash: createHash('sha256').update(apiKey).digest('hex'), name: 'bench' }],
  publicPaths: ['/login', '/public/*'],
};
const service = new AuthService({ auth }, new InMemoryApiKeyStore(auth.apiKeys));
const hsHeaders = { authorization: `Bearer ${hsToken}` };
const esHeaders = { authorization: `Bearer ${esToken}` };
const keyHeaders = { 'x-api-key': apiKey };

measure('AuthService HS256 (cached token)', () => assertOk(service.authenticate(hsHeaders)));
measure('AuthService ES256 (cached token)', () => assertOk(service.authenticate(esHeaders)));
measure('AuthService API key', () => assertOk(service.authenticate(keyHeaders)));
measure('AuthService isPublicPath', () => service.isPublicPath('/public/docs/index.html'));
