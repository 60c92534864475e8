import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/gateway-config.types';
import { ApiKeyStore, type ApiKeyRecord } from './api-key-store';

interface StoredKey {
  digest: Buffer;
  record: ApiKeyRecord;
}

/** The keys of `API_KEYS_FILE` (already hashed by the config loader), in a Map by hash. */
export class InMemoryApiKeyStore extends ApiKeyStore {
  private readonly byHash: ReadonlyMap<string, StoredKey>;
  private readonly records: readonly ApiKeyRecord[];

  constructor(keys: readonly ApiKeyConfig[]) {
    super();
    const byHash = new Map<string, StoredKey>();
    for (const key of keys) {
      const record: ApiKeyRecord = {
        id: key.hash.slice(0, 16),
        ...(key.name === undefined ? {} : { name: key.name }),
        ...(key.rateLimit === undefined ? {} : { rateLimit: { ...key.rateLimit } }),
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
}
