import { createHash } from 'node:crypto';
import { digestApiKey } from './api-key-store';
import { InMemoryApiKeyStore } from './in-memory-api-key-store';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

describe('InMemoryApiKeyStore', () => {
  const billingKey = 'billing-key-0123456789abcdef';
  const store = new InMemoryApiKeyStore([
    { hash: sha256(billingKey), name: 'billing', rateLimit: { rate: 5, burst: 10 } },
    { hash: sha256('anonymous-key-0123456789') },
  ]);

  it('should find a key by the SHA-256 of the presented value', () => {
    const record = store.lookup(digestApiKey(billingKey) as string);

    expect(record).toEqual({
      id: sha256(billingKey).slice(0, 16),
      name: 'billing',
      rateLimit: { rate: 5, burst: 10 },
      source: 'file',
    });
    expect(store.lookup(digestApiKey('anonymous-key-0123456789') as string)).toEqual({
      id: sha256('anonymous-key-0123456789').slice(0, 16),
      source: 'file',
    });
  });

  it('should not find unknown keys, hashes presented as keys, or truncated digests', () => {
    expect(store.lookup(digestApiKey('unknown-key-0123456789') as string)).toBeUndefined();
    expect(store.lookup(digestApiKey(sha256(billingKey)) as string)).toBeUndefined();
    expect(store.lookup(sha256(billingKey).slice(0, 32))).toBeUndefined();
  });

  it('should record when a key was last used and list every key', () => {
    const record = store.lookup(digestApiKey(billingKey) as string);
    store.markUsed(record!, 1_234);

    expect(store.list()).toEqual([
      expect.objectContaining({ name: 'billing', lastUsedAt: 1_234 }),
      expect.not.objectContaining({ lastUsedAt: expect.anything() as unknown }),
    ]);
  });

  it('should add admin-created keys that work at once, and revoke them (but not file keys)', () => {
    const runtime = new InMemoryApiKeyStore([{ hash: sha256(billingKey), name: 'billing' }]);
    const key = 'gw_runtime-key-0123456789abcdef';
    const record = runtime.add({ hash: sha256(key), name: 'bot', admin: true, createdAt: 5 });

    expect(record).toEqual({
      id: sha256(key).slice(0, 16),
      name: 'bot',
      admin: true,
      createdAt: 5,
      source: 'admin',
    });
    expect(runtime.lookup(digestApiKey(key) as string)).toBe(record);
    expect(runtime.list()).toHaveLength(2);

    expect(runtime.revoke(sha256(billingKey).slice(0, 16))).toEqual({ ok: false, reason: 'file' });
    expect(runtime.revoke(record.id)).toEqual({ ok: true, record, hash: sha256(key) });
    expect(runtime.lookup(digestApiKey(key) as string)).toBeUndefined();
    expect(runtime.revoke(record.id)).toEqual({ ok: false, reason: 'not-found' });
    expect(runtime.list()).toHaveLength(1);
  });

  it('should refuse empty and oversized values before hashing', () => {
    expect(digestApiKey('')).toBeUndefined();
    expect(digestApiKey('k'.repeat(9000))).toBeUndefined();
    expect(digestApiKey('k')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should hold no key when none is configured', () => {
    const empty = new InMemoryApiKeyStore([]);

    expect(empty.list()).toEqual([]);
    expect(empty.lookup(digestApiKey('demo-api-key-123') as string)).toBeUndefined();
  });
});
