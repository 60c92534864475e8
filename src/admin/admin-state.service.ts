import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { parseDocument } from 'yaml';
import { RedisService } from '../redis/redis.service';
import { normalizeUpstream } from '../config/env-parsers';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { RouteFileEntry } from '../config/gateway-config.schema';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { buildRoutesFromEntries, loadGatewayConfig } from '../config/load-config';
import { UpstreamHealthCheckService } from '../health/upstream-health-check.service';
import { RouteTableService } from '../routing/route-table.service';
import { ApiKeyStore } from '../security/auth/api-key-store';
import { RedisApiKeyStore } from '../security/auth/redis-api-key-store';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import type { IpListEntry } from '../security/ip-filter/ip-list';
import { ADMIN_CHANGES_CHANNEL, ADMIN_REDIS_KEYS } from './admin.constants';
import { AdminError, badRequest, problemToField } from './admin-error';
import { ConfigFileWriter } from './config-file-writer';
import { routeToFileEntry } from './route-entries';

/** Where admin changes are kept (README "Admin API"). */
export type Persistence = 'redis' | 'config-file' | 'memory';

/** A drained upstream: by URL on every route, or on one route only. */
export interface DrainRule {
  url: string;
  route?: string;
}

export interface IpListsState {
  allow: IpListEntry[];
  deny: IpListEntry[];
}

type ChangeKind = 'routes' | 'ip-lists' | 'drains' | 'api-keys';

interface ChangeMessage {
  from: string;
  kind: ChangeKind;
  /** `api-keys`: the SHA-256 hex whose cached answer must be dropped. */
  hash?: string;
}

/**
 * Applies admin changes to the running gateway and keeps them:
 *
 * - **Redis** configured: routes, IP lists and drains are stored under `gateway:admin:*` and a
 *   message on `gateway:admin:changes` makes every other replica load and apply them (well within
 *   a second). A replica loads the stored state at boot and after every Redis reconnect.
 * - else a **config file** in use: routes and permanent IP list entries are written back into it
 *   (atomically), so a restart keeps them. Routes that came from the environment stay out of the
 *   file (they would be defined twice on restart), so their changes last until the restart.
 * - else changes live in **memory** until the process stops.
 */
@Injectable()
export class AdminStateService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly persistence: Persistence;

  private readonly logger = new Logger('AdminApi');
  private readonly instanceId = randomUUID();
  private readonly fileWriter: ConfigFileWriter | undefined;
  /** Routes whose definition is not in the config file (environment, demo). */
  private readonly nonFileRoutes: ReadonlySet<string>;
  private drainRules: DrainRule[] = [];
  private unsubscribeStatus: (() => void) | undefined;

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly table: RouteTableService,
    private readonly health: UpstreamHealthCheckService,
    private readonly ipFilter: IpFilterService,
    private readonly redis: RedisService,
    private readonly apiKeys: ApiKeyStore,
  ) {
    if (redis.client !== undefined) {
      this.persistence = 'redis';
    } else if (config.configFile !== undefined) {
      this.persistence = 'config-file';
      this.fileWriter = new ConfigFileWriter(config.configFile);
    } else {
      this.persistence = 'memory';
    }
    this.nonFileRoutes = this.routesOutsideFile();
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  get defaultTimeoutMs(): number {
    return this.config.proxy.connectionTimeoutMs;
  }

  routeEntries(): RouteFileEntry[] {
    return this.table.routes.map((r) => routeToFileEntry(r.config, this.defaultTimeoutMs));
  }

  /**
   * Validates the complete new route list with the config file's rules and swaps it in as one
   * table. Nothing changes when any route is invalid.
   * @throws AdminError 400 with one detail per problem
   */
  buildRoutes(entries: readonly unknown[], label = 'body'): RouteConfig[] {
    const built = buildRoutesFromEntries(entries, this.defaultTimeoutMs, label);
    if (!built.ok) {
      throw badRequest(
        `invalid route configuration: ${built.problems.join('; ')}`,
        built.problems.map(problemToField),
      );
    }
    return built.routes;
  }

  /** Applies a validated table and persists it. @returns where it was persisted */
  async applyRoutes(routes: readonly RouteConfig[]): Promise<string> {
    this.installRoutes(routes);
    return this.persist('routes', async () => {
      const entries = routes.map((r) => routeToFileEntry(r, this.defaultTimeoutMs));
      if (this.persistence === 'redis') {
        await this.requireRedis().set(ADMIN_REDIS_KEYS.routes, JSON.stringify(entries));
      } else if (this.fileWriter !== undefined) {
        const kept = routes
          .filter((r) => !this.nonFileRoutes.has(r.name))
          .map((r) => routeToFileEntry(r, this.defaultTimeoutMs));
        await this.fileWriter.write([{ path: ['routes'], value: kept }]);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // IP lists

  ipLists(): IpListsState {
    const { allow, deny } = this.ipFilter.listEntries();
    return { allow, deny };
  }

  /** Persists the current allow/deny lists (after the caller changed them). */
  async saveIpLists(): Promise<string> {
    return this.persist('ip-lists', async () => {
      const lists = this.ipLists();
      if (this.persistence === 'redis') {
        await this.requireRedis().set(ADMIN_REDIS_KEYS.ipLists, JSON.stringify(lists));
      } else if (this.fileWriter !== undefined) {
        // The file has no expiry field: entries with one live in memory only.
        const permanent = (entries: IpListEntry[]) =>
          entries.filter((e) => e.expiresAt === undefined).map((e) => e.entry);
        await this.fileWriter.write([
          { path: ['security', 'ip_whitelist'], value: permanent(lists.allow) },
          { path: ['security', 'ip_blacklist'], value: permanent(lists.deny) },
        ]);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // Drains

  get drains(): readonly DrainRule[] {
    return this.drainRules;
  }

  /** `url` normalised the way upstream keys are (`http://h:1/`). */
  static upstreamKey(url: string): string {
    return new URL(normalizeUpstream(url)).href;
  }

  async setDrains(rules: DrainRule[]): Promise<string> {
    this.drainRules = rules;
    this.applyDrains();
    return this.persist('drains', async () => {
      if (this.persistence === 'redis') {
        await this.requireRedis().set(ADMIN_REDIS_KEYS.drains, JSON.stringify(rules));
      }
    });
  }

  /**
   * Marks every upstream copy a rule names as draining, and clears the others. A route a rule
   * names gets upstreams of its own first, so draining them leaves the routes it shared them with.
   */
  private applyDrains(): void {
    const scoped = new Set<string>();
    for (const rule of this.drainRules) {
      if (rule.route !== undefined) {
        scoped.add(rule.route);
      }
    }
    this.table.isolate(scoped);
    for (const route of this.table.routes) {
      for (const upstream of route.group.upstreams) {
        upstream.draining = this.drainRules.some(
          (rule) => rule.url === upstream.key && (rule.route ?? route.name) === route.name,
        );
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // API keys

  /** Tells the other replicas to drop their cached answer for this key. */
  async announceApiKeyChange(hash: string): Promise<void> {
    if (this.persistence === 'redis') {
      await this.publish({ from: this.instanceId, kind: 'api-keys', hash }).catch((err: unknown) =>
        this.redis.reportFailure(err),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Config reload

  /**
   * Re-reads the configuration (environment and `GATEWAY_CONFIG` file) and applies its routes
   * and IP lists. Other settings need a restart. @throws AdminError 400 when it is invalid
   */
  async reloadConfig(
    load: () => ReturnType<typeof loadGatewayConfig> = () => loadGatewayConfig(),
  ): Promise<{ routes: number; allow: number; deny: number; persisted: string }> {
    const loaded = load();
    if (!loaded.ok) {
      throw badRequest(
        `the configuration is invalid; nothing was changed: ${loaded.problems.join('; ')}`,
        loaded.problems.map(problemToField),
      );
    }
    const fresh = loaded.config;
    this.installRoutes(fresh.routes);
    this.ipFilter.allowlist.replace(fresh.security.ipWhitelist.map((entry) => ({ entry })));
    this.ipFilter.denylist.replace(fresh.security.ipBlacklist.map((entry) => ({ entry })));
    // Without Redis the file already is the persisted state.
    let persisted: string = this.persistence;
    if (this.persistence === 'redis') {
      // The file is now the truth: store it so every replica (and the next boot) follows.
      const results = await Promise.all([
        this.persist('routes', async () => {
          const entries = fresh.routes.map((r) => routeToFileEntry(r, this.defaultTimeoutMs));
          await this.requireRedis().set(ADMIN_REDIS_KEYS.routes, JSON.stringify(entries));
        }),
        this.persist('ip-lists', async () => {
          await this.requireRedis().set(ADMIN_REDIS_KEYS.ipLists, JSON.stringify(this.ipLists()));
        }),
      ]);
      persisted = results.includes('failed') ? 'failed' : 'redis';
    }
    return {
      routes: fresh.routes.length,
      allow: this.ipFilter.allowlist.size,
      deny: this.ipFilter.denylist.size,
      persisted,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Replication

  onApplicationBootstrap(): void {
    if (this.persistence !== 'redis') {
      return;
    }
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

  onModuleDestroy(): void {
    this.unsubscribeStatus?.();
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
      if (typeof message.hash === 'string' && this.apiKeys instanceof RedisApiKeyStore) {
        this.apiKeys.forget(message.hash);
      }
      return;
    }
    void this.load(message.kind);
  }

  /** Reads one kind of state from Redis and applies it; absent state keeps the config's. */
  private async load(kind: Exclude<ChangeKind, 'api-keys'>): Promise<void> {
    const client = this.redis.client;
    if (client === undefined) {
      return;
    }
    const key =
      kind === 'routes'
        ? ADMIN_REDIS_KEYS.routes
        : kind === 'ip-lists'
          ? ADMIN_REDIS_KEYS.ipLists
          : ADMIN_REDIS_KEYS.drains;
    let raw: string | null;
    try {
      raw = await client.get(key);
    } catch (err) {
      this.redis.reportFailure(err);
      return;
    }
    if (raw === null) {
      return;
    }
    try {
      const data = JSON.parse(raw) as unknown;
      if (kind === 'routes') {
        if (!Array.isArray(data)) {
          throw new Error('not an array');
        }
        this.installRoutes(this.buildRoutes(data, ADMIN_REDIS_KEYS.routes));
      } else if (kind === 'ip-lists') {
        const lists = data as Partial<IpListsState>;
        this.ipFilter.allowlist.replace(Array.isArray(lists.allow) ? lists.allow : []);
        this.ipFilter.denylist.replace(Array.isArray(lists.deny) ? lists.deny : []);
      } else {
        this.drainRules = Array.isArray(data)
          ? (data as DrainRule[]).filter((r) => typeof r?.url === 'string')
          : [];
        this.applyDrains();
      }
    } catch (err) {
      const reason = err instanceof AdminError ? err.message : String(err);
      this.logger.error(`ignoring the ${kind} stored in Redis (${key}): ${reason}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  /** Swaps the table in; drains and health checks follow the new upstream objects at once. */
  private installRoutes(routes: readonly RouteConfig[]): void {
    this.table.replace(routes);
    this.applyDrains();
    // Copies the known probe state onto the new upstreams and probes new ones right away.
    void this.health.runChecks();
  }

  private async persist(
    kind: Exclude<ChangeKind, 'api-keys'>,
    save: () => Promise<void>,
  ): Promise<string> {
    if (this.persistence === 'memory' || (kind === 'drains' && this.persistence !== 'redis')) {
      return 'memory';
    }
    try {
      if (this.persistence === 'redis') {
        await this.redisReady(2_000);
      }
      await save();
      if (this.persistence === 'redis') {
        await this.publish({ from: this.instanceId, kind });
      }
      return this.persistence;
    } catch (err) {
      if (this.persistence === 'redis' && this.redis.isReady) {
        // A command failed on a connection that looked fine: let the service probe it.
        this.redis.reportFailure(err);
      }
      this.logger.error(
        `admin change to ${kind} applied on this replica but not persisted (${this.persistence}): ${String(err)}`,
      );
      return 'failed';
    }
  }

  /** Waits (bounded) for Redis while it is still connecting, e.g. a change right after boot. */
  private redisReady(timeoutMs: number): Promise<void> {
    if (this.redis.isReady) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
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

  /** Names of the running routes the config file does not define. */
  private routesOutsideFile(): Set<string> {
    const all = new Set(this.config.routes.map((r) => r.name));
    const path = this.config.configFile;
    if (path === undefined) {
      return all;
    }
    try {
      const data = parseDocument(readFileSync(path, 'utf8')).toJS() as { routes?: unknown } | null;
      const entries = Array.isArray(data?.routes) ? (data.routes as unknown[]) : [];
      const built = buildRoutesFromEntries(entries, this.defaultTimeoutMs);
      if (built.ok) {
        for (const route of built.routes) {
          all.delete(route.name);
        }
      }
    } catch (err) {
      this.logger.warn(`cannot read ${path} to tell file routes from env routes: ${String(err)}`);
    }
    return all;
  }
}
