import { setTimeout as sleep } from 'node:timers/promises';
import {
  generateTestKeyPair,
  startJwksServer,
  type JwksServer,
  type TestKeyPair,
} from '../../../test/fixtures/jwt';
import { JwksKeySet, type JwksKeySetOptions } from './jwks-key-set';

describe('JwksKeySet', () => {
  let rsa: TestKeyPair;
  let ec: TestKeyPair;
  let server: JwksServer;
  let now: number;
  let warnings: string[];
  const sets: JwksKeySet[] = [];

  beforeAll(() => {
    rsa = generateTestKeyPair('rsa');
    ec = generateTestKeyPair('ec-p256');
  }, 30_000);

  beforeEach(async () => {
    server = await startJwksServer([rsa.jwk('rsa-1', 'RS256'), ec.jwk('ec-1', 'ES256')]);
    now = 1_000_000;
    warnings = [];
  });

  afterEach(async () => {
    sets.splice(0).forEach((set) => set.stop());
    await server.close();
  });

  function keySet(options: Partial<JwksKeySetOptions> = {}): JwksKeySet {
    const set = new JwksKeySet({
      url: server.url,
      algorithms: ['RS256', 'ES256'],
      clock: () => now,
      timeoutMs: 1_000,
      logger: { log: () => undefined, warn: (message) => warnings.push(message) },
      ...options,
    });
    sets.push(set);
    return set;
  }

  it('should load RSA and EC P-256 keys at start and find them by kid', async () => {
    const set = keySet();

    await set.start();

    expect(set.size).toBe(2);
    expect([...(set.get('rsa-1')?.algorithms ?? [])]).toEqual(['RS256']);
    expect([...(set.get('ec-1')?.algorithms ?? [])]).toEqual(['ES256']);
    expect(set.get('nope')).toBeUndefined();
    expect(server.requests).toBe(1);
  });

  it('should pick up rotated keys on refresh and report the change once', async () => {
    const onChange = jest.fn();
    const set = keySet({ onChange });
    await set.start();
    const next = generateTestKeyPair('ec-p256');

    server.setKeys([next.jwk('ec-2', 'ES256')]);
    await set.refresh();
    await set.refresh();

    expect(set.get('ec-1')).toBeUndefined();
    expect(set.get('ec-2')).toBeDefined();
    expect(onChange).toHaveBeenCalledTimes(2); // the first load, then the rotation
  });

  it('should keep the keys it has when the endpoint fails, answers garbage or has no usable key', async () => {
    const set = keySet();
    await set.start();

    server.setMode('error');
    await expect(set.refresh()).resolves.toBe(false);
    server.setMode('garbage');
    await expect(set.refresh()).resolves.toBe(false);
    server.setMode('ok');
    server.setKeys([{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }]);
    await expect(set.refresh()).resolves.toBe(false);
    await server.close();
    await expect(set.refresh()).resolves.toBe(false);

    expect(set.get('rsa-1')).toBeDefined();
    expect(set.get('ec-1')).toBeDefined();
    expect(warnings).toEqual([
      expect.stringMatching(/refresh failed \(HTTP 503\); keeping 2 cached key\(s\)$/),
      expect.stringMatching(/refresh failed \(not JSON\)/),
      expect.stringMatching(/refresh failed \(no usable signing key \(1 skipped\)\)/),
      expect.stringMatching(/refresh failed \(.+\); keeping 2 cached key\(s\)$/),
    ]);
  });

  it('should not hold up start beyond the timeout when the endpoint hangs', async () => {
    server.setMode('hang');
    const set = keySet({ timeoutMs: 200 });
    const started = performance.now();

    await set.start();

    expect(performance.now() - started).toBeLessThan(2_000);
    expect(set.size).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it('should refresh for an unknown kid at most once per cooldown', async () => {
    const set = keySet({ cooldownMs: 30_000 });
    await set.start();
    const next = generateTestKeyPair('ec-p256');
    server.setKeys([rsa.jwk('rsa-1', 'RS256'), next.jwk('ec-2', 'ES256')]);

    // The start-up fetch just happened: still cooling down.
    expect(set.refreshForUnknownKid()).toBeUndefined();
    now += 30_000;
    await expect(set.refreshForUnknownKid()).resolves.toBe(true);
    expect(set.get('ec-2')).toBeDefined();
    now += 29_999;
    expect(set.refreshForUnknownKid()).toBeUndefined();
    now += 1;
    await expect(set.refreshForUnknownKid()).resolves.toBe(true);

    expect(server.requests).toBe(3);
  });

  it('should coalesce concurrent refreshes into one request', async () => {
    const set = keySet({ cooldownMs: 0 });

    const results = await Promise.all([
      set.refreshForUnknownKid(),
      set.refreshForUnknownKid(),
      set.refresh(),
      set.refreshForUnknownKid(),
    ]);

    expect(results).toEqual([true, true, true, true]);
    expect(server.requests).toBe(1);
  });

  it('should refresh periodically', async () => {
    const set = keySet({ refreshIntervalMs: 40 });
    await set.start();

    await sleep(150);

    expect(server.requests).toBeGreaterThanOrEqual(3);
  });

  it('should skip keys it must not or cannot use', async () => {
    const small = generateTestKeyPair('rsa', 1024);
    const p384 = generateTestKeyPair('ec-p384');
    server.setKeys([
      { ...rsa.jwk('enc'), use: 'enc' },
      { ...rsa.jwk('ops'), key_ops: ['encrypt'] },
      rsa.jwk('hs', 'HS256'),
      p384.jwk('p384', 'ES384'),
      small.jwk('small'),
      { kty: 'RSA', kid: 'broken', n: 'AAAA', e: 'AQAB' },
      { kty: 'oct', kid: 'secret', k: 'c2VjcmV0' },
      { ...rsa.jwk(), kid: 42 },
      ec.jwk('ok', 'ES256'),
      ec.jwk('ok', 'ES256'),
    ]);
    const set = keySet();

    await set.start();

    expect(set.size).toBe(1);
    expect(set.get('ok')).toBeDefined();
  });

  it('should build keys from the public members only', async () => {
    const jwk = { ...(ec.privateKey.export({ format: 'jwk' }) as object), kid: 'leaky' };
    server.setKeys([jwk]);
    const set = keySet();

    await set.start();

    expect(set.get('leaky')?.algorithms.has('ES256')).toBe(true);
  });

  it('should offer the sole key of an algorithm to tokens without kid', async () => {
    server.setKeys([
      rsa.jwk(undefined, 'RS256'),
      ec.jwk('ec-1'),
      generateTestKeyPair('ec-p256').jwk('ec-2'),
    ]);
    const set = keySet();

    await set.start();

    expect(set.soleKeyFor('RS256')).toBeDefined();
    expect(set.soleKeyFor('ES256')).toBeUndefined();
  });
});
