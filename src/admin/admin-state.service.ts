import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from '../redis/redis.service';
import { mapInSlices } from '../common/slices';
import { samePlainData } from '../common/same-plain-data';
import { callMaybeInWorker } from '../common/worker-call';
import { normalizeUpstream } from '../config/env-parsers';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { RouteFileEntry } from '../config/gateway-config.schema';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import { buildRoutesFromEntries, loadGatewayConfig } from '../config/load-config';
import { UpstreamHealthCheckService } from '../health/upstream-health-check.service';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService, type RouteTableChange } from '../routing/route-table.service';
import { ApiKeyStore } from '../security/auth/api-key-store';
import { RedisApiKeyStore } from '../security/auth/redis-api-key-store';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import type { IpListEntry } from '../security/ip-filter/ip-list';
import { ADMIN_CHANGES_CHANNEL, ADMIN_REDIS_KEYS } from './admin.constants';
import { AdminError, badRequest, conflict, notFound, problemToField } from './admin-error';
import { ConfigFileWriter, OFF_THREAD_BYTES, type RouteOp } from './config-file-writer';
import {
  loadReloadable,
  reloadableOf,
  validateRouteJson,
  type ReloadableConfig,
} from './reload-work';
import { routeToFileEntry } from './route-entries';

/** Where admin changes are kept (README "Admin API"). */
export type Persistence = 'redis' | 'config-file' | 'memory';

/** What a route change answers: the route as it now runs (null when removed), the count. */
export interface RouteChangeResult {
  route: RouteFileEntry | null;
  routes: number;
  /** Where the change is kept (`redis`, `config-file`, `memory`), or `failed`. */
  persisted: string;
  /** The route as it was (replace, remove). */
  before?: RouteFileEntry;
}

export interface ReloadResult {
  routes: number;
  allow: number;
  deny: number;
  persisted: string;
  /** Routes added, changed and removed, with the previous form of the changed and removed. */
  change: RouteTableChange;
}

interface FileRoutes {
  /** Running routes the file does not define (environment, demo): never written to it. */
  readonly outside: ReadonlySet<string>;
  /**
   * The file's route entries are the running file routes, each under its name, so a single
   * change can be written as such; else (an unnamed entry, a failed write) the list is rewritten.
   */
  synced: boolean;
}

/** The module whose functions a reload runs (on a worker thread for a large input). */
const RELOAD_WORK = require.resolve('./reload-work');

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
  /** What the config file holds of the running routes, found on the first write to it. */
  private fileRoutes: Promise<FileRoutes> | undefined;
  private drainRules: DrainRule[] = [];
  private unsubscribeStatus: (() => void) | undefined;
  /** Changes to routes, drains and reloads apply one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

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
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  get defaultTimeoutMs(): number {
    return this.config.proxy.connectionTimeoutMs;
  }

  routeEntries(): RouteFileEntry[] {
    return this.table.routes.map((r) => routeToFileEntry(r.config, this.defaultTimeoutMs));
  }

  /** One running route in config-file form. */
  routeEntry(name: string): RouteFileEntry | undefined {
    const route = this.table.route(name);
    return route === undefined ? undefined : routeToFileEntry(route.config, this.defaultTimeoutMs);
  }

  /**
   * Validates routes given in config-file form with the config file's rules.
   * @throws AdminError 400 with one detail per problem
   */
  buildRoutes(entries: readonly unknown[], label = 'body'): RouteConfig[] {
    return this.checked(buildRoutesFromEntries(entries, this.defaultTimeoutMs, label));
  }

  /**
   * Adds a route at the end of the table.
   * @throws AdminError 409 when the name is taken, 400 when the route is invalid or conflicts
   */
  addRoute(entry: RouteFileEntry): Promise<RouteChangeResult> {
    return this.exclusive(async () => {
      const name = entry.name?.trim().toLowerCase();
      if (name !== undefined && name !== '' && this.table.route(name) !== undefined) {
        throw conflict(`route ${JSON.stringify(name)} exists; use PUT /admin/routes/${name}`);
      }
      const added = this.checkAgainstTable(entry, undefined);
      return this.applyRoutes([...this.table.routes.map((r) => r.config), added], added.name, {
        op: 'put',
        name: added.name,
        entry: routeToFileEntry(added, this.defaultTimeoutMs),
      });
    });
  }

  /**
   * Replaces the route `name` in its place (its name stays).
   * @throws AdminError 404 when there is none, 400 when the route is invalid or conflicts
   */
  replaceRoute(name: string, entry: RouteFileEntry): Promise<RouteChangeResult> {
    return this.exclusive(async () => {
      const current = this.table.route(name);
      if (current === undefined) {
        throw notFound(`no route named ${JSON.stringify(name)}`);
      }
      const next = this.checkAgainstTable({ ...entry, name }, name);
      const routes = this.table.routes.map((r) => (r === current ? next : r.config));
      const op: RouteOp = {
        op: 'put',
        name,
        entry: routeToFileEntry(next, this.defaultTimeoutMs),
      };
      return {
        ...(await this.applyRoutes(routes, name, op)),
        before: routeToFileEntry(current.config, this.defaultTimeoutMs),
      };
    });
  }

  /**
   * Removes the route `name` (requests in flight on it finish).
   * @throws AdminError 404 when there is none
   */
  removeRoute(name: string): Promise<RouteChangeResult> {
    return this.exclusive(async () => {
      const current = this.table.route(name);
      if (current === undefined) {
        throw notFound(`no route named ${JSON.stringify(name)}`);
      }
      const routes = this.table.routes.filter((r) => r !== current).map((r) => r.config);
      return {
        ...(await this.applyRoutes(routes, undefined, { op: 'remove', name })),
        before: routeToFileEntry(current.config, this.defaultTimeoutMs),
      };
    });
  }

  /**
   * `entry` validated as if the whole table had been sent with it, without re-validating the
   * table: the running routes are valid already, and the rules between routes (unique names, a
   * derived name made unique with `-2`, `-3`, one route per host and prefix) only involve routes
   * with the same host and prefix or one of those names, so those are validated with it.
   * `replacing` is the route it takes the place of.
   */
  private checkAgainstTable(entry: RouteFileEntry, replacing: string | undefined): RouteConfig {
    const [alone] = this.buildRoutes([entry], 'routes');
    const related = new Set<CompiledRoute>();
    for (const route of this.table.routes) {
      if (
        route.name !== replacing &&
        route.config.host === alone.host &&
        route.config.prefix === alone.prefix
      ) {
        related.add(route);
      }
    }
    if (!entry.name?.trim()) {
      for (let n = 1; ; n++) {
        const taken = this.table.route(n === 1 ? alone.name : `${alone.name}-${n}`);
        if (taken === undefined) {
          break;
        }
        related.add(taken);
      }
    }
    const entries = [...related].map((r) => routeToFileEntry(r.config, this.defaultTimeoutMs));
    return this.buildRoutes([...entries, entry], 'routes').at(-1)!;
  }

  /**
   * Applies a validated table and persists it; `name` is the route to show afterwards, `op` the
   * change as one entry of the config file.
   */
  private async applyRoutes(
    routes: readonly RouteConfig[],
    name: string | undefined,
    op: RouteOp,
  ): Promise<RouteChangeResult> {
    await this.installRoutes(routes);
    const persisted = await this.persistRoutes(routes, op);
    return {
      route: name === undefined ? null : (this.routeEntry(name) ?? null),
      routes: routes.length,
      persisted,
    };
  }

  /**
   * Stores the table: in Redis as a whole; in the config file as the one entry `op` changed when
   * the file is known to hold the others, else as the whole list of file routes.
   */
  private persistRoutes(routes: readonly RouteConfig[], op: RouteOp): Promise<string> {
    return this.persist('routes', async () => {
      if (this.persistence === 'redis') {
        await this.requireRedis().set(ADMIN_REDIS_KEYS.routes, await this.routesJson(routes));
        return;
      }
      const writer = this.fileWriter;
      if (writer === undefined) {
        return;
      }
      const file = await (this.fileRoutes ??= this.inspectFile(writer));
      try {
        if (file.synced) {
          if (!file.outside.has(op.name)) {
            await writer.patchRoutes([op]);
          }
        } else {
          const kept = routes.filter((r) => !file.outside.has(r.name));
          await writer.write([{ path: ['routes'], json: await this.routesJson(kept) }]);
          file.synced = true;
        }
      } catch (err) {
        file.synced = false;
        throw err;
      }
    });
  }

  /** Routes as the JSON array of their config-file form, built in slices (a table may be large). */
  private async routesJson(routes: readonly RouteConfig[]): Promise<string> {
    const parts = await mapInSlices(routes, (r) =>
      JSON.stringify(routeToFileEntry(r, this.defaultTimeoutMs)),
    );
    return `[${parts.join(',')}]`;
  }

  private checked(built: ReturnType<typeof buildRoutesFromEntries>): RouteConfig[] {
    if (!built.ok) {
      throw badRequest(
        `invalid route configuration: ${built.problems.join('; ')}`,
        built.problems.map(problemToField),
      );
    }
    return built.routes;
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
    await this.exclusive(async () => {
      this.drainRules = rules;
      await this.applyDrains();
    });
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
  private async applyDrains(): Promise<void> {
    const scoped = new Set<string>();
    for (const rule of this.drainRules) {
      if (rule.route !== undefined) {
        scoped.add(rule.route);
      }
    }
    await this.table.isolate(scoped);
    const rules = this.drainRules;
    for (const route of this.table.routes) {
      for (const upstream of route.group.upstreams) {
        upstream.draining = rules.some(
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
   * and IP lists. Other settings need a restart. A large file is read and validated on a worker
   * thread, and the table compiled in slices, so traffic keeps flowing meanwhile.
   * `load` replaces the reading (tests). @throws AdminError 400 when it is invalid
   */
  reloadConfig(load?: () => ReturnType<typeof loadGatewayConfig>): Promise<ReloadResult> {
    return this.exclusive(async () => {
      const fresh = load === undefined ? await this.loadFresh() : reloadableOf(load());
      if (!fresh.ok) {
        throw badRequest(
          `the configuration is invalid; nothing was changed: ${fresh.problems.join('; ')}`,
          fresh.problems.map(problemToField),
        );
      }
      const change = await this.installRoutes(fresh.routes);
      if (this.fileRoutes !== undefined) {
        // The file may have unnamed entries now: the next change rewrites the list.
        (await this.fileRoutes).synced = false;
      }
      this.ipFilter.allowlist.replace(fresh.ipWhitelist.map((entry) => ({ entry })));
      this.ipFilter.denylist.replace(fresh.ipBlacklist.map((entry) => ({ entry })));
      // Without Redis the file already is the persisted state.
      let persisted: string = this.persistence;
      if (this.persistence === 'redis') {
        // The file is now the truth: store it so every replica (and the next boot) follows.
        const results = await Promise.all([
          this.persist('routes', async () => {
            const json = await this.routesJson(fresh.routes);
            await this.requireRedis().set(ADMIN_REDIS_KEYS.routes, json);
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
        change,
      };
    });
  }

  /** The configuration as a reload reads it, on a worker thread when the file is large. */
  private async loadFresh(): Promise<ReloadableConfig> {
    const file = this.config.configFile;
    const size =
      file === undefined
        ? 0
        : await stat(file).then(
            (st) => st.size,
            () => 0,
          );
    return callMaybeInWorker(
      { large: size >= OFF_THREAD_BYTES, file: RELOAD_WORK, onPart: this.keepRunning },
      loadReloadable,
    );
  }

  /**
   * Routes equal to the running route of their name are replaced by that route's own config as
   * they come in: the copies die young, and the table sees them as unchanged by identity.
   */
  private readonly keepRunning = (key: string, items: unknown[]): unknown[] => {
    if (key !== 'routes') {
      return items;
    }
    return (items as RouteConfig[]).map((route) => {
      const running = this.table.route(route.name)?.config;
      return running !== undefined && samePlainData(running, route) ? running : route;
    });
  };

  // -------------------------------------------------------------------------------------------
  // Replication

  onApplicationBootstrap(): void {
    if (this.fileWriter !== undefined) {
      // Now, while the file is the one the table was loaded from; off the event loop if large.
      this.fileRoutes = this.inspectFile(this.fileWriter);
    }
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
      if (kind === 'routes') {
        await this.exclusive(async () => {
          const built = await callMaybeInWorker(
            { large: raw.length >= OFF_THREAD_BYTES, file: RELOAD_WORK, onPart: this.keepRunning },
            validateRouteJson,
            raw,
            this.defaultTimeoutMs,
            ADMIN_REDIS_KEYS.routes,
          );
          await this.installRoutes(this.checked(built));
        });
        return;
      }
      const data = JSON.parse(raw) as unknown;
      if (kind === 'ip-lists') {
        const lists = data as Partial<IpListsState>;
        this.ipFilter.allowlist.replace(Array.isArray(lists.allow) ? lists.allow : []);
        this.ipFilter.denylist.replace(Array.isArray(lists.deny) ? lists.deny : []);
      } else {
        await this.exclusive(async () => {
          this.drainRules = Array.isArray(data)
            ? (data as DrainRule[]).filter((r) => typeof r?.url === 'string')
            : [];
          await this.applyDrains();
        });
      }
    } catch (err) {
      const reason = err instanceof AdminError ? err.message : String(err);
      this.logger.error(`ignoring the ${kind} stored in Redis (${key}): ${reason}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  /** Swaps the table in; drains and health checks follow the new upstream objects at once. */
  private async installRoutes(routes: readonly RouteConfig[]): Promise<RouteTableChange> {
    const change = await this.table.replaceAsync(routes);
    await this.applyDrains();
    // Copies the known probe state onto the new upstreams and probes new ones right away.
    void this.health.runChecks();
    return change;
  }

  /** Runs `work` after every change queued before it (a route change spans several awaits). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
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

  /**
   * What the config file holds of the boot table. The loader lists the file's routes first, so
   * the routes past the file's count came from elsewhere (environment, demo).
   */
  private async inspectFile(writer: ConfigFileWriter): Promise<FileRoutes> {
    const boot = this.config.routes.map((r) => r.name);
    try {
      const { routes, allNamed } = await writer.inspectRoutes();
      return { outside: new Set(boot.slice(routes)), synced: allNamed };
    } catch (err) {
      this.logger.warn(
        `cannot read ${writer.path} to tell file routes from env routes: ${String(err)}`,
      );
      return { outside: new Set(boot), synced: false };
    }
  }
}
