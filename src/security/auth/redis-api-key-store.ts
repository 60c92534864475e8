import { GenerationalMap } from '../../common/generational-map';
import type { RedisService } from '../../redis/redis.service';
import { ApiKeyStore, type ApiKeyRecord, type NewApiKey, type RevokeResult } from './api-key-store';
import { toAdminRecord, type InMemoryApiKeyStore } from './in-memory-api-key-store';

/** Redis hash holding API keys: field = SHA-256 hex of the key, value = JSON metadata. */
export const REDIS_API_KEYS = 'gateway:api-keys';

/** What a Redis entry may hold besides the hash; the key itself is never stored. */
interface StoredMetadata {
  name?: string;
  rate?: number;
  burst?: number;
  /** `true`: the key may call the admin API. */
  admin?: boolean;
  /** Epoch ms the admin API created it. */
  created?: number;
}

interface Cached {
  record: ApiKeyRecord | null;
  expiresAt: number;
}

/**
 * API keys from `API_KEYS_FILE` (answered synchronously, as before) plus keys shared by every
 * replica in the Redis hash `gateway:api-keys`. Redis answers are cached for a short while,
 * misses included, in a bounded map: a client cycling through invalid keys costs at most one
 * Redis round trip per distinct key per `missTtlMs`, and memory stays capped. While Redis is
 * unreachable only the file's keys work (auth fails closed for Redis-held keys).
 */
export class RedisApiKeyStore extends ApiKeyStore {
  readonly persistence = 'redis';
  private readonly cache: GenerationalMap<Cached>;
  /** Last use by key id: records are rebuilt from Redis on every list, this survives that. */
  private readonly lastUsed = new Map<string, number>();

  constructor(
    private readonly fileKeys: InMemoryApiKeyStore,
    private readonly redis: RedisService,
    private readonly hitTtlMs = 30_000,
    private readonly missTtlMs = 5_000,
    maxCached = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.cache = new GenerationalMap(maxCached);
  }

  lookup(hex: string): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined> {
    const fromFile = this.fileKeys.lookup(hex);
    if (fromFile !== undefined) {
      return fromFile;
    }
    const cached = this.cache.get(hex);
    if (cached !== undefined && cached.expiresAt > this.now()) {
      return cached.record ?? undefined;
    }
    const client = this.redis.client;
    if (client === undefined || !this.redis.isReady) {
      return undefined;
    }
    return client.hget(REDIS_API_KEYS, hex).then(
      (raw) => {
        const record = raw === null ? null : toRecord(hex, raw);
        this.cache.set(hex, {
          record,
          expiresAt: this.now() + (record ? this.hitTtlMs : this.missTtlMs),
        });
        return record ?? undefined;
      },
      (err: unknown) => {
        this.redis.reportFailure(err);
        return undefined;
      },
    );
  }

  markUsed(record: ApiKeyRecord, atMs: number): void {
    record.lastUsedAt = atMs;
    if (record.source !== 'file') {
      this.lastUsed.set(record.id, atMs);
    }
  }

  async list(): Promise<readonly ApiKeyRecord[]> {
    const client = this.redis.client;
    const fromFile = this.fileKeys.list();
    if (client === undefined || !this.redis.isReady) {
      return fromFile;
    }
    const all = await client.hgetall(REDIS_API_KEYS);
    return [
      ...fromFile,
      ...Object.entries(all).flatMap(([hex, raw]) => {
        const record = toRecord(hex, raw);
        const lastUsedAt = record === null ? undefined : this.lastUsed.get(record.id);
        return record === null
          ? []
          : lastUsedAt === undefined
            ? [record]
            : [{ ...record, lastUsedAt }];
      }),
    ];
  }

  /** Stored in Redis (so every replica sees it); throws when Redis is unavailable. */
  async add(key: NewApiKey): Promise<ApiKeyRecord> {
    const client = this.requireClient();
    const meta: StoredMetadata = {
      ...(key.name === undefined ? {} : { name: key.name }),
      ...(key.rateLimit === undefined
        ? {}
        : { rate: key.rateLimit.rate, burst: key.rateLimit.burst }),
      ...(key.admin === true ? { admin: true } : {}),
      created: key.createdAt,
    };
    await client.hset(REDIS_API_KEYS, key.hash, JSON.stringify(meta));
    // A cached miss (someone tried the key before it existed) must not hide it.
    this.forget(key.hash);
    return toAdminRecord(key, 'redis');
  }

  async revoke(id: string): Promise<RevokeResult> {
    if (this.fileKeys.list().some((record) => record.id === id)) {
      return { ok: false, reason: 'file' };
    }
    const client = this.requireClient();
    const all = await client.hgetall(REDIS_API_KEYS);
    const hex = Object.keys(all).find((candidate) => candidate.slice(0, 16) === id);
    const record = hex === undefined ? null : toRecord(hex, all[hex]);
    if (hex === undefined || record === null) {
      return { ok: false, reason: 'not-found' };
    }
    await client.hdel(REDIS_API_KEYS, hex);
    this.forget(hex);
    this.lastUsed.delete(id);
    return { ok: true, record, hash: hex };
  }

  /** Drops a cached answer (hit or miss), e.g. when another replica created or revoked the key. */
  forget(hashHex: string): void {
    this.cache.delete(hashHex);
  }

  private requireClient(): NonNullable<RedisService['client']> {
    const client = this.redis.client;
    if (client === undefined || !this.redis.isReady) {
      throw new Error('Redis is unavailable');
    }
    return client;
  }
}

/** A Redis entry as a record; a malformed entry is treated as no key (fail closed). */
function toRecord(hex: string, raw: string): ApiKeyRecord | null {
  let meta: StoredMetadata;
  try {
    meta = JSON.parse(raw) as StoredMetadata;
  } catch {
    return null;
  }
  if (!/^[0-9a-f]{64}$/.test(hex) || typeof meta !== 'object' || meta === null) {
    return null;
  }
  const rateLimit =
    typeof meta.rate === 'number' && meta.rate > 0
      ? {
          rate: meta.rate,
          burst:
            typeof meta.burst === 'number' && meta.burst >= 1 ? meta.burst : Math.ceil(meta.rate),
        }
      : undefined;
  return {
    id: hex.slice(0, 16),
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(meta.admin === true ? { admin: true } : {}),
    ...(typeof meta.created === 'number' ? { createdAt: meta.created } : {}),
    source: 'redis',
  };
}
