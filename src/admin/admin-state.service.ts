import { stat } from 'node:fs/promises';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
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
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import { AdminError, badRequest, conflict, notFound, problemToField } from './admin-error';
import { OFF_THREAD_BYTES, type RouteOp } from './config-file-writer';
import {
  loadReloadable,
  reloadableOf,
  validateRouteJson,
  type ReloadableConfig,
} from './reload-work';
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

/** The module whose functions a reload runs (on a worker thread for a large input). */
const RELOAD_WORK = require.resolve('./reload-work');

/**
 * Applies admin changes to the running gateway and hands them to the {@link AdminStateStore}
 * chosen at boot (Redis, the config file, or memory) to keep. What another replica changed
 * comes back from the store through {@link AdminStateListener}, and is validated like a change
 * made here before it is applied. Changes to routes, drains and reloads apply one at a time.
 */
@Injectable()
export class AdminStateService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AdminApi');
  private drainRules: DrainRule[] = [];
  /** Changes to routes, drains and reloads apply one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly table: RouteTableService,
    private readonly health: UpstreamHealthCheckService,
    private readonly ipFilter: IpFilterService,
    private readonly store: AdminStateStore,
    private readonly apiKeys: ApiKeyStore,
  ) {}

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
    return this.store.saveIpLists(this.ipLists());
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
    return this.store.saveDrains(rules);
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
    await this.store.announceApiKeyChange(hash);
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
      this.ipFilter.allowlist.replace(fresh.ipWhitelist.map((entry) => ({ entry })));
      this.ipFilter.denylist.replace(fresh.ipBlacklist.map((entry) => ({ entry })));
      const persisted = await this.store.adoptReload(this.routeState(fresh.routes), this.ipLists());
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
    this.store.start(this.listener);
  }

  onModuleDestroy(): void {
    this.store.stop();
  }

  /** What another replica changed, as the store read it; checked before it is applied. */
  private readonly listener: AdminStateListener = {
    routes: (json, source) =>
      this.exclusive(async () => {
        const built = await callMaybeInWorker(
          { large: json.length >= OFF_THREAD_BYTES, file: RELOAD_WORK, onPart: this.keepRunning },
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
