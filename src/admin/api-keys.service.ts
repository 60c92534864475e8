import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { sha256Hex } from '../config/api-keys-file';
import { WorkerSync } from '../cluster/worker-sync';
import { ApiKeyStore, type ApiKeyRecord, type NewApiKey } from '../security/auth/api-key-store';
import { AdminError, conflict, notFound } from './admin-error';
import { AdminStateService } from './admin-state.service';
import type { CreateApiKey } from './dto/api-key.dto';
import type { Persisted } from './state/admin-state-store';

export interface ApiKeyView {
  id: string;
  name?: string;
  admin: boolean;
  source: 'file' | 'admin' | 'redis';
  createdAt?: string;
  lastUsedAt?: string;
}

/**
 * API keys created and revoked at run time. A new key is 32 random bytes (base64url, `gw_`
 * prefix so it is recognisable in a leak scan), shown once; only its SHA-256 is stored: in Redis
 * (`gateway:api-keys`, every replica) when configured, else in this process's memory.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly state: AdminStateService,
    private readonly sync: WorkerSync,
  ) {
    // Without Redis each worker keeps its own keys: a key made in one is added to the others.
    sync.handle('api-key.add', (key) => {
      void this.store.add(key as NewApiKey);
    });
    sync.handle('api-key.revoke', (payload) => {
      void this.store.revoke((payload as { id: string }).id);
    });
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.store.list()).map(view);
  }

  /**
   * Where keys created here are kept: Redis, or this process's memory only (they vanish at the
   * next start, even with a config file: it holds no keys).
   */
  get persisted(): Persisted {
    return this.store.persistence;
  }

  async create(
    input: CreateApiKey,
  ): Promise<{ key: string; record: ApiKeyView; persisted: Persisted }> {
    const existing = await this.store.list();
    if (existing.some((r) => r.name === input.name)) {
      throw conflict(`an API key named ${JSON.stringify(input.name)} exists`);
    }
    const key = `gw_${randomBytes(32).toString('base64url')}`;
    const hash = sha256Hex(key);
    const stored: NewApiKey = {
      hash,
      name: input.name,
      ...(input.admin === true ? { admin: true } : {}),
      ...(input.rate_limit === undefined
        ? {}
        : {
            rateLimit: {
              rate: input.rate_limit.rate,
              burst: input.rate_limit.burst ?? Math.max(1, Math.ceil(input.rate_limit.rate)),
            },
          }),
      createdAt: Date.now(),
    };
    const record = await this.unavailableAs503(() => this.store.add(stored));
    await this.state.announceApiKeyChange(hash);
    await this.sync.broadcast('api-key.add', stored, { key: `api-key:${record.id}` });
    return { key, record: view(record), persisted: this.persisted };
  }

  async revoke(id: string): Promise<ApiKeyView> {
    if (!/^[0-9a-f]{16}$/.test(id)) {
      throw notFound(`no API key with id ${JSON.stringify(id)}`);
    }
    const before = (await this.store.list()).find((r) => r.id === id);
    const result = await this.unavailableAs503(() => Promise.resolve(this.store.revoke(id)));
    if (!result.ok) {
      if (result.reason === 'file') {
        throw conflict(
          `API key ${id} is defined in API_KEYS_FILE; remove its line there and restart (or reload)`,
        );
      }
      throw notFound(`no API key with id ${JSON.stringify(id)}`);
    }
    await this.state.announceApiKeyChange(result.hash);
    await this.sync.broadcast('api-key.revoke', { id }, { key: `api-key:${id}`, drop: true });
    return view(before ?? result.record);
  }

  private async unavailableAs503<T>(action: () => T | Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof AdminError) {
        throw error;
      }
      throw new AdminError(
        503,
        'the API key store (Redis) is unavailable; nothing was changed',
        [],
        {
          'retry-after': '5',
        },
      );
    }
  }
}

function view(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    ...(record.name === undefined ? {} : { name: record.name }),
    admin: record.admin === true,
    source: record.source ?? 'file',
    ...(record.createdAt === undefined
      ? {}
      : { createdAt: new Date(record.createdAt).toISOString() }),
    ...(record.lastUsedAt === undefined
      ? {}
      : { lastUsedAt: new Date(record.lastUsedAt).toISOString() }),
  };
}
