import { hash } from 'node:crypto';
import { MAX_CREDENTIAL_LENGTH } from './auth.constants';
import type { Principal } from './auth.types';

/** What the gateway knows about an API key; never the key, and not even its full hash. */
export interface ApiKeyRecord {
  /** First 16 hex digits of the key's SHA-256: stable, unique in practice, safe to log. */
  readonly id: string;
  readonly name?: string;
  /** The key's own token bucket (requests per second, capacity). */
  readonly rateLimit?: { rate: number; burst: number };
  /** Epoch milliseconds of the last successful use since this process started. */
  lastUsedAt?: number;
  /** The key may call the admin API (`scopes=admin`). */
  readonly admin?: boolean;
  /** Epoch milliseconds the key was created through the admin API. */
  readonly createdAt?: number;
  /** Where the key is kept: `API_KEYS_FILE`, this process's memory (admin API), or Redis. */
  readonly source?: 'file' | 'admin' | 'redis';
}

/** What the admin API stores with a new key (never the key itself). */
export interface NewApiKey {
  /** Lower-case hex SHA-256 of the key. */
  hash: string;
  name?: string;
  admin?: boolean;
  rateLimit?: { rate: number; burst: number };
  createdAt: number;
}

/**
 * Where API keys are kept, and the DI token for it (an abstract class, so no string token).
 * `InMemoryApiKeyStore` holds the keys of `API_KEYS_FILE`; a Redis store (admin and scale-out
 * issues) implements the same three methods, and `lookup` may then return a promise: the proxy
 * path handles both without allocating a promise for the synchronous case.
 *
 * Stores only ever see SHA-256 digests: the key itself is hashed by the caller
 * ({@link digestApiKey}) and never stored, logged or compared as such.
 */
export abstract class ApiKeyStore {
  /**
   * Where keys created through the admin API are kept: Redis (every replica, survives restarts)
   * or this process's memory (gone at the next start).
   */
  abstract readonly persistence: 'redis' | 'memory';

  /** The key whose SHA-256 (lower-case hex, from {@link digestApiKey}) is `digest`. */
  abstract lookup(digest: string): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>;

  /** Records a successful use. Called once per authenticated request, so it must be cheap. */
  abstract markUsed(record: ApiKeyRecord, atMs: number): void;

  /** Every key, for the admin API. */
  abstract list(): readonly ApiKeyRecord[] | Promise<readonly ApiKeyRecord[]>;

  /** Adds a key created by the admin API; it authenticates from the moment this resolves. */
  abstract add(key: NewApiKey): ApiKeyRecord | Promise<ApiKeyRecord>;

  /**
   * Revokes an admin-created key by id. Keys of `API_KEYS_FILE` are refused (`'file'`): they
   * would come back at the next start, so they are removed from the file instead.
   */
  abstract revoke(id: string): RevokeResult | Promise<RevokeResult>;

  /**
   * Drops whatever this store remembers about the key with this SHA-256 hex (a cached hit or
   * miss), because another replica created or revoked it.
   */
  abstract forget(hashHex: string): void;
}

export type RevokeResult =
  | { ok: true; record: ApiKeyRecord; /** SHA-256 hex of the revoked key. */ hash: string }
  | { ok: false; reason: 'not-found' | 'file' };

/**
 * SHA-256 of a presented key as lower-case hex, or undefined for a value that cannot be a key
 * (empty, too long). Stores look keys up by this digest only, so comparisons never touch the key:
 * how long a lookup takes can at most reveal how much of a SHA-256 matched, which does not help
 * anyone find a key (a constant-time compare of the digests would add nothing; Kong and most
 * gateways look keys up the same way).
 */
export function digestApiKey(key: string): string | undefined {
  if (key === '' || key.length > MAX_CREDENTIAL_LENGTH) {
    return undefined;
  }
  // One-shot hash straight to hex: a Buffer digest (and its ArrayBuffer) cost 3x as much
  // (node bench/auth-micro.js), and the stores are keyed by hex anyway.
  return hash('sha256', key, 'hex');
}

export function apiKeyPrincipal(record: ApiKeyRecord): Principal {
  return {
    kind: 'api-key',
    id: record.id,
    key: `api-key:${record.id}`,
    ...(record.name === undefined ? {} : { name: record.name }),
    ...(record.rateLimit === undefined ? {} : { rateLimit: record.rateLimit }),
    ...(record.admin === true ? { admin: true } : {}),
  };
}
