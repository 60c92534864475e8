import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/gateway-config.types';
import { ApiKeyStore, type ApiKeyRecord, type NewApiKey, type RevokeResult } from './api-key-store';

interface StoredKey {
  digest: Buffer;
  record: ApiKeyRecord;
}

/**
 * The keys of `API_KEYS_FILE` (already hashed by the config loader), in a Map by hash, plus keys
 * the admin API creates at run time (kept in memory only, unless Redis holds them).
 */
export class InMemoryApiKeyStore extends ApiKeyStore {
  private readonly byHash: Map<string, StoredKey>;
  private records: readonly ApiKeyRecord[];

  constructor(keys: readonly ApiKeyConfig[]) {
    super();
    const byHash = new Map<string, StoredKey>();
    for (const key of keys) {
      const record: ApiKeyRecord = {
        id: key.hash.slice(0, 16),
        ...(key.name === undefined ? {} : { name: key.name }),
        ...(key.rateLimit === undefined ? {} : { rateLimit: { ...key.rateLimit } }),
        ...(key.admin === true ? { admin: true } : {}),
        source: 'file',
      };
      byHash.set(key.hash, { digest: Buffer.from(key.hash, 'hex'), record });
    }
    this.byHash = byHash;
    this.records = [...byHash.values()].map((stored) => stored.record);
  }

  lookup(digest: Buffer): ApiKeyRecord | undefined {
    const stored = this.byHash.get(digest.toString('hex'));
    // The Map lookup already matched; the constant-time compare is the belt to its braces.
    return stored !== undefined &&
      stored.digest.length === digest.length &&
      timingSafeEqual(stored.digest, digest)
      ? stored.record
      : undefined;
  }

  markUsed(record: ApiKeyRecord, atMs: number): void {
    record.lastUsedAt = atMs;
  }

  list(): readonly ApiKeyRecord[] {
    return this.records;
  }

  add(key: NewApiKey): ApiKeyRecord {
    const record = toAdminRecord(key, 'admin');
    this.byHash.set(key.hash, { digest: Buffer.from(key.hash, 'hex'), record });
    this.records = [...this.byHash.values()].map((stored) => stored.record);
    return record;
  }

  revoke(id: string): RevokeResult {
    for (const [hash, stored] of this.byHash) {
      if (stored.record.id === id) {
        if (stored.record.source === 'file') {
          return { ok: false, reason: 'file' };
        }
        this.byHash.delete(hash);
        this.records = [...this.byHash.values()].map((s) => s.record);
        return { ok: true, record: stored.record, hash };
      }
    }
    return { ok: false, reason: 'not-found' };
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
