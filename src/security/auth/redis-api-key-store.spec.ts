import { createHash } from 'node:crypto';
import type { RedisService } from '../../redis/redis.service';
import { InMemoryApiKeyStore } from './in-memory-api-key-store';
import { REDIS_API_KEYS, RedisApiKeyStore } from './redis-api-key-store';

const digest = (key: string): string => createHash('sha256').update(key).digest('hex');

function fakeRedis(entries: Record<string, string>) {
  const calls: string[] = [];
  const redis = {
    isReady: true,
    client: {
      hget: (hash: string, field: string) => {
        calls.push(`${hash}:${field}`);
        return Promise.resolve(entries[field] ?? null);
      },
    },
    reportFailure: () => undefined,
  };
  return { redis: redis as unknown as RedisService, calls };
}

describe('RedisApiKeyStore', () => {
  const fileKey = 'file-key-0123456789abcdef';
  const fileStore = new InMemoryApiKeyStore([{ hash: digest(fileKey), name: 'file' }]);

  it('should answer file keys synchronously without asking Redis', () => {
    const { redis, calls } = fakeRedis({});
    const store = new RedisApiKeyStore(fileStore, redis);
    expect(store.lookup(digest(fileKey))).toMatchObject({ name: 'file' });
    expect(calls).toEqual([]);
  });

  it('should find Redis keys with their metadata and cache hits and misses', async () => {
    const shared = digest('shared-key-0123456789');
    const { redis, calls } = fakeRedis({
      [shared]: JSON.stringify({ name: 'bot', rate: 5, burst: 10 }),
    });
    let now = 1_000;
    const store = new RedisApiKeyStore(fileStore, redis, 30_000, 5_000, 100, () => now);
    await expect(store.lookup(shared)).resolves.toMatchObject({
      name: 'bot',
      rateLimit: { rate: 5, burst: 10 },
    });
    expect(store.lookup(shared)).toMatchObject({ name: 'bot' });
    const unknown = digest('unknown-key-0123456789');
    await expect(store.lookup(unknown)).resolves.toBeUndefined();
    for (let i = 0; i < 5; i++) {
      expect(store.lookup(unknown)).toBeUndefined();
    }
    expect(calls).toHaveLength(2);
    now += 5_001;
    await store.lookup(unknown);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toBe(`${REDIS_API_KEYS}:${shared}`);
  });

  it('should fail closed for Redis keys while Redis is down', () => {
    const { redis, calls } = fakeRedis({});
    (redis as { isReady: boolean }).isReady = false;
    const store = new RedisApiKeyStore(fileStore, redis);
    expect(store.lookup(digest('shared-key-0123456789'))).toBeUndefined();
    expect(calls).toEqual([]);
  });
  it('should store admin-created keys by hash, drop a cached miss, and revoke them', async () => {
    const hash: Record<string, string> = {};
    const redis = {
      isReady: true,
      client: {
        hget: (_h: string, field: string) => Promise.resolve(hash[field] ?? null),
        hset: (_h: string, field: string, value: string) => {
          hash[field] = value;
          return Promise.resolve(1);
        },
        hgetall: () => Promise.resolve({ ...hash }),
        hdel: (_h: string, field: string) => {
          delete hash[field];
          return Promise.resolve(1);
        },
      },
      reportFailure: () => undefined,
    } as unknown as RedisService;
    const store = new RedisApiKeyStore(fileStore, redis);
    const key = digest('gw_admin-created-0123456789');
    const hex = key;
    // A miss is cached before the key exists…
    await expect(store.lookup(key)).resolves.toBeUndefined();

    const record = await store.add({ hash: hex, name: 'bot', admin: true, createdAt: 7 });
    expect(record).toEqual({
      id: hex.slice(0, 16),
      name: 'bot',
      admin: true,
      createdAt: 7,
      source: 'redis',
    });
    expect(JSON.parse(hash[hex])).toEqual({ name: 'bot', admin: true, created: 7 });
    // …and dropped by add(), so the key works at once.
    await expect(store.lookup(key)).resolves.toMatchObject({ name: 'bot', admin: true });
    expect((await store.list()).map((r) => r.source)).toEqual(['file', 'redis']);

    const fileId = digest(fileKey).slice(0, 16);
    await expect(store.revoke(fileId)).resolves.toEqual({ ok: false, reason: 'file' });
    await expect(store.revoke(hex.slice(0, 16))).resolves.toMatchObject({ ok: true, hash: hex });
    expect(hash).toEqual({});
    // The cached hit is gone with the key: the next lookup asks Redis, which no longer has it.
    await expect(Promise.resolve(store.lookup(key))).resolves.toBeUndefined();
    await expect(store.revoke(hex.slice(0, 16))).resolves.toEqual({
      ok: false,
      reason: 'not-found',
    });
  });
});
