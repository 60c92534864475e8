import type { ApiKeyConfig } from '../../config/gateway-config.types';
import { ApiKeyStore, type ApiKeyRecord, type NewApiKey, type RevokeResult } from './api-key-store';

/**
 * The keys of `API_KEYS_FILE` (already hashed by the config loader), in a Map by hash, plus keys
 * the admin API creates at run time (kept in memory only, unless Redis holds them).
 */
export class InMemoryApiKeyStore extends ApiKeyStore {
  readonly persistence = 'memory';
  private readonly byHash: Map<string, ApiKeyRecord>;
  private records: readonly ApiKeyRecord[];

  constructor(keys: readonly ApiKeyConfig[]) {
    super();
    const byHash = new Map<string, ApiKeyRecord>();
    for (const key of keys) {
      const record: ApiKeyRecord = {
        id: key.hash.slice(0, 16),
        ...(key.name === undefined ? {} : { name: key.name }),
        ...(key.rateLimit === undefined ? {} : { rateLimit: { ...key.rateLimit } }),
        ...(key.admin === true ? { admin: true } : {}),
        source: 'file',
      };
      byHash.set(key.hash, record);
    }
    this.byHash = byHash;
    this.records = [...byHash.values()];
  }

  lookup(digest: string): ApiKeyRecord | undefined {
    return this.byHash.get(digest);
  }

  markUsed(record: ApiKeyRecord, atMs: number): void {
    record.lastUsedAt = atMs;
  }

  list(): readonly ApiKeyRecord[] {
    return this.records;
  }

  add(key: NewApiKey): ApiKeyRecord {
    const record = toAdminRecord(key, 'admin');
    this.byHash.set(key.hash, record);
    this.records = [...this.byHash.values()];
    return record;
  }

  revoke(id: string): RevokeResult {
    for (const [hash, record] of this.byHash) {
      if (record.id === id) {
        if (record.source === 'file') {
          return { ok: false, reason: 'file' };
        }
        this.byHash.delete(hash);
        this.records = [...this.byHash.values()];
        return { ok: true, record, hash };
      }
    }
    return { ok: false, reason: 'not-found' };
  }

  forget(_hashHex: string): void {
    // Nothing cached: every answer comes from the map itself.
  }
}

/** The record of an admin-created key (shared with the Redis store). */
export function toAdminRecord(key: NewApiKey, source: 'admin' | 'redis'): ApiKeyRecord {
  return {
    id: key.hash.slice(0, 16),
    ...(key.name === undefined ? {} : { name: key.name }),
    ...(key.rateLimit === undefined ? {} : { rateLimit: { ...key.rateLimit } }),
    ...(key.admin === true ? { admin: true } : {}),
    createdAt: key.createdAt,
    source,
  };
}
