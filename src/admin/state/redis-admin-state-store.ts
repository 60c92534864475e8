import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisService } from '../../redis/redis.service';
import { ADMIN_CHANGES_CHANNEL, ADMIN_REDIS_KEYS } from '../admin.constants';
import {
  AdminStateStore,
  type AdminStateListener,
  type DrainRule,
  type IpListsState,
  type Persisted,
  type RouteState,
} from './admin-state-store';

type StateKind = 'routes' | 'ip-lists' | 'drains';

interface ChangeMessage {
  from: string;
  kind: StateKind | 'api-keys';
  /** `api-keys`: the SHA-256 hex whose cached answer must be dropped. */
  hash?: string;
}

const KEY: Record<StateKind, string> = {
  routes: ADMIN_REDIS_KEYS.routes,
  'ip-lists': ADMIN_REDIS_KEYS.ipLists,
  drains: ADMIN_REDIS_KEYS.drains,
};

/**
 * Redis configured: routes, IP lists and drains are stored under `gateway:admin:*`, and a message
 * on `gateway:admin:changes` makes every other replica load and apply them (well within a
 * second). A replica loads the stored state at boot and after every Redis reconnect, so changes
 * made while it was cut off reach it too.
 */
export class RedisAdminStateStore extends AdminStateStore {
  readonly persistence = 'redis';

  private readonly logger = new Logger('AdminApi');
  private readonly instanceId = randomUUID();
  private listener: AdminStateListener | undefined;
  private unsubscribeStatus: (() => void) | undefined;

  constructor(
    private readonly redis: RedisService,
    /** How long a change made while Redis is still connecting waits for it. */
    private readonly readyWaitMs = 2_000,
  ) {
    super();
  }

  saveRoutes({ routes, json }: RouteState): Promise<Persisted> {
    return this.save('routes', () => json(routes));
  }

  saveIpLists(lists: IpListsState): Promise<Persisted> {
    return this.save('ip-lists', () => Promise.resolve(JSON.stringify(lists)));
  }

  saveDrains(rules: readonly DrainRule[]): Promise<Persisted> {
    return this.save('drains', () => Promise.resolve(JSON.stringify(rules)));
  }

  async adoptReload(routes: RouteState, lists: IpListsState): Promise<Persisted> {
    // The file is the truth again: stored, so every replica (and the next boot) follows it.
    const results = await Promise.all([this.saveRoutes(routes), this.saveIpLists(lists)]);
    return results.includes('failed') ? 'failed' : 'redis';
  }

  async announceApiKeyChange(hash: string): Promise<void> {
    await this.publish({ from: this.instanceId, kind: 'api-keys', hash }).catch((err: unknown) =>
      this.redis.reportFailure(err),
    );
  }

  start(listener: AdminStateListener): void {
    this.listener = listener;
    // Closed by RedisService on shutdown, like every duplicate.
    const subscriber = this.redis.duplicate();
    if (subscriber !== undefined) {
      subscriber.on('message', (_channel: string, raw: string) => this.onMessage(raw));
      // On every (re)connect: without an offline queue a SUBSCRIBE sent earlier would fail.
      const subscribe = (): void => {
        subscriber.subscribe(ADMIN_CHANGES_CHANNEL).catch((err: unknown) => {
          this.logger.warn(`cannot subscribe to ${ADMIN_CHANGES_CHANNEL}: ${String(err)}`);
        });
      };
      subscriber.on('ready', subscribe);
      if (subscriber.status === 'ready') {
        subscribe();
      }
    }
    // Load at boot and after every reconnect: changes made while this replica was cut off.
    this.unsubscribeStatus = this.redis.onStatusChange((ready) => {
      if (ready) {
        void this.loadAll();
      }
    });
    if (this.redis.isReady) {
      void this.loadAll();
    }
  }

  stop(): void {
    this.unsubscribeStatus?.();
    this.listener = undefined;
  }

  /** Stores `json()` (the value as JSON) under the kind's key and tells the other replicas. */
  private async save(kind: StateKind, json: () => Promise<string>): Promise<Persisted> {
    try {
      const value = await json();
      await this.redisReady();
      await this.requireRedis().set(KEY[kind], value);
      await this.publish({ from: this.instanceId, kind });
      return 'redis';
    } catch (err) {
      if (this.redis.isReady) {
        // A command failed on a connection that looked fine: let the service probe it.
        this.redis.reportFailure(err);
      }
      this.logger.error(
        `admin change to ${kind} applied on this replica but not persisted (redis): ${String(err)}`,
      );
      return 'failed';
    }
  }

  private async loadAll(): Promise<void> {
    await Promise.all([this.load('routes'), this.load('ip-lists'), this.load('drains')]);
  }

  private onMessage(raw: string): void {
    let message: ChangeMessage;
    try {
      message = JSON.parse(raw) as ChangeMessage;
    } catch {
      return;
    }
    if (message.from === this.instanceId) {
      return;
    }
    if (message.kind === 'api-keys') {
      if (typeof message.hash === 'string') {
        this.listener?.apiKeyChanged(message.hash);
      }
      return;
    }
    if (message.kind in KEY) {
      void this.load(message.kind);
    }
  }

  /** Reads one kind of state and hands it to the listener; absent state keeps the config's. */
  private async load(kind: StateKind): Promise<void> {
    const client = this.redis.client;
    if (client === undefined) {
      return;
    }
    let raw: string | null;
    try {
      raw = await client.get(KEY[kind]);
    } catch (err) {
      this.redis.reportFailure(err);
      return;
    }
    const listener = this.listener;
    if (raw === null || listener === undefined) {
      return;
    }
    if (kind === 'routes') {
      // Parsed and validated by the listener, off the event loop when large.
      await listener.routes(raw, KEY.routes);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (err) {
      this.logger.error(`ignoring the ${kind} stored in Redis (${KEY[kind]}): ${String(err)}`);
      return;
    }
    if (kind === 'ip-lists') {
      listener.ipLists(data);
    } else {
      listener.drains(data);
    }
  }

  /** Waits (bounded) for Redis while it is still connecting, e.g. a change right after boot. */
  private redisReady(): Promise<void> {
    if (this.redis.isReady) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.readyWaitMs);
      const stop = this.redis.onStatusChange((ready) => {
        if (ready) {
          done();
        }
      });
      function done(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  }

  private async publish(message: ChangeMessage): Promise<void> {
    await this.requireRedis().publish(ADMIN_CHANGES_CHANNEL, JSON.stringify(message));
  }

  private requireRedis(): Redis {
    const client = this.redis.client;
    if (client === undefined || !this.redis.isReady) {
      throw new Error('Redis is unavailable');
    }
    return client;
  }
}
