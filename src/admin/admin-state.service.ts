import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpCacheService } from '../cache/http-cache.service';
import { WorkerSync } from '../cluster/worker-sync';
import { mapInSlices } from '../common/slices';
import { callMaybeInWorker } from '../common/worker-call';
import { normalizeUpstream } from '../config/env-parsers';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { RouteFileEntry } from '../config/gateway-config.schema';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import {
  barePrefix,
  buildRoutesFromEntries,
  type LoadGatewayConfigResult,
} from '../config/load-config';
import { UpstreamPoolsService } from '../load-balancing/upstream-pools.service';
import { ConfigReloadService, ReloadRefused } from '../reload/config-reload.service';
import { validateRouteJson } from '../reload/reload-work';
import type { CompiledRoute } from '../routing/compiled-route';
import { RouteTableService, type RouteTableChange } from '../routing/route-table.service';
import { ApiKeyStore } from '../security/auth/api-key-store';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { AdminError, badRequest, conflict, notFound, problemToField } from './admin-error';
import { OFF_THREAD_BYTES, type RouteOp } from './config-file-writer';
import { routeToFileEntry } from './route-entries';
import {
  AdminStateStore,
  type AdminStateListener,
  type DrainRule,
  type IpListsState,
  type Persisted,
  type Persistence,
  type RouteState,
} from './state/admin-state-store';

export type { DrainRule, IpListsState, Persisted, Persistence } from './state/admin-state-store';

/** What a route change answers: the route as it now runs (null when removed), the count. */
export interface RouteChangeResult {
  route: RouteFileEntry | null;
  routes: number;
  persisted: Persisted;
  /** The route as it was (replace, remove). */
  before?: RouteFileEntry;
}

/** What `POST /admin/config/reload` answers, and the routes it changed (for the audit line). */
export interface ReloadResult {
  routes: number;
  allow: number;
  deny: number;
  persisted: Persisted;
  /** Routes added, changed and removed, with the previous form of the changed and removed. */
  change: RouteTableChange;
}

/** The module whose functions validate a stored table (on a worker thread for a large one). */
const RELOAD_WORK = require.resolve('../reload/reload-work');

/**
 * Applies admin changes to the running gateway and hands them to the {@link AdminStateStore}
 * chosen at boot (Redis, the config file, or memory) to keep. What another replica changed
 * comes back from the store through {@link AdminStateListener}, and is validated like a change
 * made here before it is applied. Changes to routes, drains and reloads apply one at a time.
 *
 * With `GATEWAY_WORKERS` and no Redis, every change is also relayed to the other workers
 * ({@link WorkerSync}) before the call returns, so the pool behaves as one gateway.
 */
@Injectable()
export class AdminStateService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AdminApi');
  private drainRules: DrainRule[] = [];
  private readonly stopFollowingTable: () => void;

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly table: RouteTableService,
    private readonly ipFilter: IpFilterService,
    private readonly store: AdminStateStore,
    private readonly apiKeys: ApiKeyStore,
    private readonly reloads: ConfigReloadService,
    private readonly sync: WorkerSync,
    private readonly pools: UpstreamPoolsService,
    private readonly cache: HttpCacheService,
  ) {
    // Drains follow every new table (a change here, a reload, another replica's or worker's).
    this.stopFollowingTable = table.onReplace(() => this.markDrains());
    // A reload (admin API, SIGHUP, file watch) makes the file the truth: the store keeps it.
    reloads.setParticipant((routes) =>
      this.store.adoptReload(this.routeState(routes), this.ipLists()),
    );
    sync.handle('drains', (rules) => this.listener.drains(rules));
    sync.handle('block.add', (payload) => {
      const { ip, until } = payload as { ip: string; until: number };
      const remaining = until - Date.now();
      if (remaining > 0) {
        this.ipFilter.block(ip, remaining);
      }
    });
    sync.handle('block.remove', (payload) => {
      this.ipFilter.unblock((payload as { ip: string }).ip);
    });
    sync.handle('breaker.reset', (payload) => {
      this.pools.breakerFor((payload as { url: string }).url).reset();
    });
    sync.handle('cache.purge', async (payload) => {
      const { url, prefix } = payload as { url?: string; prefix?: string };
      await (url !== undefined ? this.cache.purge(url) : this.cache.purgePrefix(prefix ?? ''));
    });
  }

  /** Where changes are kept. */
  get persistence(): Persistence {
    return this.store.persistence;
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
   * derived name made unique with `-2`, `-3`, one route per host and prefix, no two prefixes on a
   * host that differ only by a trailing slash) only involve routes with the same host and bare
   * prefix or one of those names, so those are validated with it. `replacing` is the route it
   * takes the place of.
   */
  private checkAgainstTable(entry: RouteFileEntry, replacing: string | undefined): RouteConfig {
    const [alone] = this.buildRoutes([entry], 'routes');
    const bare = barePrefix(alone.prefix);
    const related = new Set<CompiledRoute>();
    for (const route of this.table.routes) {
      if (
        route.name !== replacing &&
        route.config.host === alone.host &&
        barePrefix(route.config.prefix) === bare
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
   * Applies a validated table and hands it to the store; `name` is the route to show afterwards,
   * `change` the change as one entry of the config file.
   */
  private async applyRoutes(
    routes: readonly RouteConfig[],
    name: string | undefined,
    change: RouteOp,
  ): Promise<RouteChangeResult> {
    await this.installRoutes(routes);
    const persisted = await this.store.saveRoutes(this.routeState(routes, change));
    await this.sync.broadcast('routes', routes, { key: 'routes' });
    return {
      route: name === undefined ? null : (this.routeEntry(name) ?? null),
      routes: routes.length,
      persisted,
    };
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

  /** Keeps the current allow/deny lists (after the caller changed them). */
  async saveIpLists(): Promise<Persisted> {
    const lists = this.ipLists();
    const persisted = await this.store.saveIpLists(lists);
    await this.sync.broadcast('ip-lists', lists, { key: 'ip-lists' });
    return persisted;
  }

  // -------------------------------------------------------------------------------------------
  // Blocks, breakers and the cache: shared through Redis (blocks, a Redis cache) or per process

  /**
   * Blocks an IP by hand (every replica with Redis, every worker without).
   * @returns the key blocked: the address, or an IPv6 address's network
   */
  async block(ip: string, durationMs: number | undefined): Promise<string> {
    const key = this.ipFilter.block(ip, durationMs);
    const until = this.ipFilter.listBlocked().find((b) => b.ip === key)?.expiresAt;
    if (until !== undefined) {
      await this.sync.broadcast('block.add', { ip: key, until }, { key: `block:${key}` });
    }
    return key;
  }

  /** Lifts a block everywhere. @returns whether this process had the IP blocked */
  async unblock(ip: string): Promise<boolean> {
    const wasBlocked = this.ipFilter.unblock(ip);
    // Without Redis a flood block may be another worker's alone: lift it there too.
    await this.sync.broadcast('block.remove', { ip }, { key: `block:${ip}`, drop: true });
    return wasBlocked;
  }

  /** Closes an upstream's breaker (one per upstream and process). */
  async resetBreaker(url: string): Promise<{ before: string; after: string }> {
    const breaker = this.pools.breakerFor(url);
    const before = breaker.state;
    breaker.reset();
    await this.sync.broadcast('breaker.reset', { url });
    return { before, after: breaker.state };
  }

  /** Purges one URL (every variant) or a prefix. @returns entries removed here */
  async purgeCache(target: { url: string } | { prefix: string }): Promise<number> {
    const removed =
      'url' in target
        ? await this.cache.purge(target.url)
        : await this.cache.purgePrefix(target.prefix);
    await this.sync.broadcast('cache.purge', target);
    return removed;
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

  async setDrains(rules: DrainRule[]): Promise<Persisted> {
    await this.exclusive(async () => {
      this.drainRules = rules;
      await this.applyDrains();
    });
    const persisted = await this.store.saveDrains(rules);
    await this.sync.broadcast('drains', rules, { key: 'drains' });
    return persisted;
  }

  /**
   * A route a rule names gets upstreams of its own first, so draining them leaves the routes it
   * shared them with; then the rules are marked.
   */
  private async applyDrains(): Promise<void> {
    const scoped = new Set<string>();
    for (const rule of this.drainRules) {
      if (rule.route !== undefined) {
        scoped.add(rule.route);
      }
    }
    await this.table.isolate(scoped);
    this.markDrains();
  }

  /** Marks every upstream copy a rule names as draining, and clears the others. */
  private markDrains(): void {
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
    await this.store.announceApiKeyChange(hash);
  }

  // -------------------------------------------------------------------------------------------
  // Config reload

  /**
   * Re-reads the configuration (environment, `.env` and the `GATEWAY_CONFIG` file) and applies
   * its routes and IP lists, as SIGHUP does. Other settings need a restart. `load` replaces the
   * reading (tests). @throws AdminError 400 when it is invalid (nothing changes)
   */
  async reloadConfig(load?: () => LoadGatewayConfigResult): Promise<ReloadResult> {
    try {
      const outcome = await this.reloads.reload('admin API', load);
      return {
        routes: outcome.routes,
        allow: outcome.allow,
        deny: outcome.deny,
        persisted: outcome.persisted ?? this.persistence,
        change: outcome.change,
      };
    } catch (error) {
      if (error instanceof ReloadRefused) {
        throw badRequest(error.message, error.problems.map(problemToField));
      }
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Replication

  onApplicationBootstrap(): void {
    this.store.start(this.listener);
  }

  onModuleDestroy(): void {
    this.store.stop();
    this.stopFollowingTable();
  }

  /** What another replica changed, as the store read it; checked before it is applied. */
  private readonly listener: AdminStateListener = {
    routes: (json, source) =>
      this.exclusive(async () => {
        const built = await callMaybeInWorker(
          {
            large: json.length >= OFF_THREAD_BYTES,
            file: RELOAD_WORK,
            onPart: this.reloads.keepRunning,
          },
          validateRouteJson,
          json,
          this.defaultTimeoutMs,
          source,
        );
        await this.installRoutes(this.checked(built));
      }).catch((err: unknown) => {
        this.ignore('routes', source, err instanceof AdminError ? err.message : String(err));
      }),
    ipLists: (data) => {
      const lists = (
        typeof data === 'object' && data !== null ? data : {}
      ) as Partial<IpListsState>;
      this.ipFilter.allowlist.replace(Array.isArray(lists.allow) ? lists.allow : []);
      this.ipFilter.denylist.replace(Array.isArray(lists.deny) ? lists.deny : []);
    },
    drains: (data) => {
      void this.exclusive(async () => {
        this.drainRules = Array.isArray(data)
          ? (data as DrainRule[]).filter((r) => typeof r?.url === 'string')
          : [];
        await this.applyDrains();
      });
    },
    apiKeyChanged: (hash) => this.apiKeys.forget(hash),
  };

  private ignore(kind: string, source: string, reason: string): void {
    this.logger.error(`ignoring the ${kind} stored in ${source}: ${reason}`);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  /** Swaps the table in; drains and health checks follow the new upstream objects at once. */
  private installRoutes(routes: readonly RouteConfig[]): Promise<RouteTableChange> {
    return this.reloads.installRoutes(routes);
  }

  /** Runs `work` after every change and reload queued before it (each spans several awaits). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.reloads.exclusive(work);
  }

  private routeState(routes: readonly RouteConfig[], change?: RouteOp): RouteState {
    return { routes, json: (kept) => this.routesJson(kept), ...(change ? { change } : {}) };
  }

  /** Routes as the JSON array of their config-file form, built in slices (a table may be large). */
  private async routesJson(routes: readonly RouteConfig[]): Promise<string> {
    const parts = await mapInSlices(routes, (r) =>
      JSON.stringify(routeToFileEntry(r, this.defaultTimeoutMs)),
    );
    return `[${parts.join(',')}]`;
  }
}
