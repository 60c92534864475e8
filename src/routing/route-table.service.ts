import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { compileRouteCache } from '../cache/route-cache';
import { samePlainData } from '../common/same-plain-data';
import { SLICE_MS, yieldToEventLoop } from '../common/slices';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import type { Upstream } from '../load-balancing/upstream';
import type { UpstreamGroup } from '../load-balancing/upstream-group';
import { UpstreamPoolsService } from '../load-balancing/upstream-pools.service';
import { RetryBudget } from '../resilience/retry-budget';
import { compileRouteAuth } from '../security/auth/route-auth';
import { buildProxiedSecurityHeaders } from '../security/headers/security-headers';
import type { CompiledRoute } from './compiled-route';
import { RouteMatcher, RouteMatcherBuilder, type RouteMatch } from './route-matcher';

/** What a `replace` changed, by route name. */
export interface RouteTableChange {
  added: string[];
  changed: string[];
  removed: string[];
  /** The previous configuration of the changed and removed routes. */
  before: RouteConfig[];
}

interface Built {
  table: Table;
  previous: Table;
  change: RouteTableChange;
  fresh: CompiledRoute[];
  started: number;
}

/** Routes compiled between two looks at the clock. */
const ROUTES_PER_STEP = 128;
/** Up to this many routes added, changed or removed are patched into the matcher, not rebuilt. */
const PATCH_MAX_ROUTES = 256;

interface Table {
  readonly matcher: RouteMatcher<CompiledRoute>;
  readonly routes: readonly CompiledRoute[];
  readonly byName: ReadonlyMap<string, CompiledRoute>;
  /** Upstream groups in use, by group key. */
  readonly groups: ReadonlyMap<string, UpstreamGroup>;
  /** The isolated route names it was built with. */
  readonly isolated: ReadonlySet<string>;
}

const NONE_ISOLATED: ReadonlySet<string> = new Set();

const EMPTY: Table = {
  matcher: new RouteMatcher<CompiledRoute>([]),
  routes: [],
  byName: new Map(),
  groups: new Map(),
  isolated: NONE_ISOLATED,
};

/** Route names listed in the info line when a change touches no more than this many. */
const NAMED_IN_SUMMARY = 10;

/**
 * Holds the compiled route table. A reload builds a complete new table and swaps it in with one
 * assignment, so a request sees either the old table or the new one, never a mix.
 *
 * Routes whose upstreams are the same (same URLs, weights and failure statuses, algorithm and
 * health path) share one `UpstreamGroup`: its `Upstream` objects, in-flight counts, balancing
 * state, passive ejections and panic state are those of that set of servers, as with an nginx
 * `upstream` block several locations use. A route named in `isolate()` (a drain scoped to it) gets
 * a group of its own. A route that a reload leaves unchanged keeps its compiled form: its group,
 * retry budget and metrics.
 */
@Injectable()
export class RouteTableService implements OnModuleInit {
  private readonly logger = new Logger(RouteTableService.name);
  private table: Table = EMPTY;
  private isolated: ReadonlySet<string> = NONE_ISOLATED;
  private readonly groupKeyOf = new WeakMap<UpstreamGroup, string>();
  private queue: Promise<unknown> = Promise.resolve();
  /** `replaceAsync` calls queued or running. */
  private building = 0;
  private readonly replaceListeners = new Set<() => void>();

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly pools: UpstreamPoolsService,
  ) {}

  onModuleInit(): void {
    this.replace(this.config.routes);
  }

  /**
   * Compiles `routes` and swaps them in. Routes equal to a route of the same name in the current
   * table are reused as they are; the others get a new compiled form (shared pools and breakers,
   * their upstream group shared with equal ones, a new retry budget). Requests already matched
   * keep their old `CompiledRoute`; pools no route uses any more are closed once those requests
   * have finished. Synchronous: for boot and small tables; see `replaceAsync`.
   */
  replace(routes: readonly RouteConfig[]): RouteTableChange {
    if (this.building > 0) {
      // It would be overwritten by the slower build, built from the table before this one.
      throw new Error('RouteTableService.replace() while replaceAsync() is building');
    }
    const steps = this.build(routes);
    let step = steps.next();
    while (step.done !== true) {
      step = steps.next();
    }
    return this.install(step.value);
  }

  /**
   * `replace` in slices of a few milliseconds with the event loop free between them, so traffic
   * keeps flowing while a large table is compiled (a 20,000-route table takes ~100 ms of CPU).
   * Requests keep the current table until the new one is complete and swapped in. Calls run one
   * after the other, in call order.
   */
  replaceAsync(routes: readonly RouteConfig[]): Promise<RouteTableChange> {
    this.building++;
    const run = this.queue
      .then(async () => {
        const steps = this.build(routes);
        let sliceStart = performance.now();
        let step = steps.next();
        while (step.done !== true) {
          if (performance.now() - sliceStart >= SLICE_MS) {
            await yieldToEventLoop();
            sliceStart = performance.now();
          }
          step = steps.next();
        }
        return this.install(step.value);
      })
      .finally(() => this.building--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Gives each named route an upstream group of its own (the others share theirs), so state set
   * on its upstreams, such as a drain scoped to that route, stays with it. Recompiles only the
   * routes whose isolation changed.
   */
  async isolate(names: ReadonlySet<string>): Promise<void> {
    const before = this.isolated;
    if (before.size === names.size && [...names].every((n) => before.has(n))) {
      return;
    }
    this.isolated = names.size === 0 ? NONE_ISOLATED : new Set(names);
    await this.replaceAsync(this.table.routes.map((r) => r.config));
  }

  /**
   * Builds the next table from the current one, pausing (yield) every few hundred routes. Routes
   * given as the very objects the current table runs are taken as they are; a few changed routes
   * are patched into the current matcher, more rebuild it.
   */
  private *build(routes: readonly RouteConfig[]): Generator<void, Built> {
    const started = performance.now();
    const previous = this.table;
    const isolated = this.isolated;
    // With isolated routes a key depends on the other routes too (see groupKeys): every key is
    // computed then. Without, a route config the current table runs keeps its group.
    const keys = isolated.size > 0 ? this.groupKeys(routes) : undefined;
    const sameKeys = keys === undefined && previous.isolated.size === 0;
    const groups = new Map<string, UpstreamGroup>();
    const byName = new Map<string, CompiledRoute>();
    const compiled: CompiledRoute[] = [];
    const change: RouteTableChange = { added: [], changed: [], removed: [], before: [] };
    const fresh: CompiledRoute[] = [];
    const replaced: CompiledRoute[] = [];
    yield;
    for (let i = 0; i < routes.length; i++) {
      if (i % ROUTES_PER_STEP === ROUTES_PER_STEP - 1) {
        yield;
      }
      const config = routes[i];
      const old = previous.byName.get(config.name);
      let route: CompiledRoute;
      let key: string;
      if (old !== undefined && old.config === config && sameKeys) {
        route = old;
        key = this.groupKeyOf.get(old.group)!;
      } else {
        key = keys?.[i] ?? this.baseGroupKey(config);
        const group = groups.get(key) ?? previous.groups.get(key);
        if (old !== undefined && old.group === group && samePlainData(old.config, config)) {
          route = old;
        } else {
          route = this.compile(config, group ?? this.createGroup(config, key));
          if (old === undefined) {
            change.added.push(config.name);
          } else {
            change.changed.push(config.name);
            change.before.push(old.config);
            replaced.push(old);
          }
          fresh.push(route);
        }
      }
      groups.set(key, route.group);
      compiled.push(route);
      if (!byName.has(config.name)) {
        byName.set(config.name, route);
      }
    }
    for (const [name, old] of previous.byName) {
      if (!byName.has(name)) {
        change.removed.push(name);
        change.before.push(old.config);
        replaced.push(old);
      }
    }
    yield;
    const matchable = (c: CompiledRoute) => ({
      host: c.config.host,
      prefix: c.config.prefix,
      value: c,
    });
    let matcher =
      replaced.length + fresh.length <= PATCH_MAX_ROUTES
        ? previous.matcher.withChanges(replaced.map(matchable), fresh.map(matchable))
        : undefined;
    if (matcher === undefined) {
      const builder = new RouteMatcherBuilder<CompiledRoute>();
      for (let i = 0; i < compiled.length; i++) {
        if (i % ROUTES_PER_STEP === ROUTES_PER_STEP - 1) {
          yield;
        }
        builder.add(matchable(compiled[i]));
      }
      matcher = builder.build();
    }
    return {
      table: { matcher, routes: compiled, byName, groups, isolated },
      previous,
      change,
      fresh,
      started,
    };
  }

  private install({ table, previous, change, fresh, started }: Built): RouteTableChange {
    this.table = table;
    if (previous.routes.length > 0) {
      this.retire(previous, table.groups);
    }
    this.log(change, fresh, table.groups.size, performance.now() - started);
    for (const listener of this.replaceListeners) {
      listener();
    }
    return change;
  }

  /**
   * Calls `listener` after every new table is swapped in (`replace`, `replaceAsync`, `isolate`),
   * synchronously, before any request can see the table without it (drains are marked on the new
   * upstream objects, probes started).
   * @returns a function that removes the listener
   */
  onReplace(listener: () => void): () => void {
    this.replaceListeners.add(listener);
    return () => this.replaceListeners.delete(listener);
  }

  /**
   * Whether a route with an explicit `host` matches this request host (exactly, or as a
   * `*.example.com` wildcard): such a route owns every path on that host, the gateway's own
   * paths included.
   */
  claimsHost(host: string | undefined): boolean {
    return this.table.matcher.claimsHost(host);
  }

  match(host: string | undefined, path: string): RouteMatch<CompiledRoute> | undefined {
    return this.table.matcher.match(host, path);
  }

  get routes(): readonly CompiledRoute[] {
    return this.table.routes;
  }

  /** The running route of that name. */
  route(name: string): CompiledRoute | undefined {
    return this.table.byName.get(name);
  }

  /** Distinct upstream groups of the running table. */
  get groups(): Iterable<UpstreamGroup> {
    return this.table.groups.values();
  }

  /**
   * What routes share an upstream group by: their servers, how they are chosen and probed, and
   * which statuses count as their failures.
   */
  private baseGroupKey(route: RouteConfig): string {
    let key =
      `${route.algorithm ?? this.config.loadBalancing.algorithm}\n${route.healthPath ?? ''}` +
      `\n${route.failureStatuses?.join(',') ?? '-'}`;
    for (const u of route.upstreams) {
      key += `\n${u.weight} ${u.failureStatuses?.join(',') ?? '-'} ${u.url}`;
    }
    return key;
  }

  /**
   * Every route's group key while some routes are isolated: an isolated route that shares its
   * servers with another route gets a key of its own; alone, it keeps the common key, so
   * isolating it keeps its group and the state on it.
   */
  private groupKeys(routes: readonly RouteConfig[]): string[] {
    const keys = routes.map((route) => this.baseGroupKey(route));
    if (this.isolated.size > 0) {
      const users = new Map<string, number>();
      for (const key of keys) {
        users.set(key, (users.get(key) ?? 0) + 1);
      }
      routes.forEach((route, i) => {
        if (this.isolated.has(route.name) && users.get(keys[i])! > 1) {
          keys[i] += `\n#${route.name}`;
        }
      });
    }
    return keys;
  }

  private createGroup(route: RouteConfig, key: string): UpstreamGroup {
    const group = this.pools.createGroup(
      route,
      route.algorithm ?? this.config.loadBalancing.algorithm,
    );
    this.groupKeyOf.set(group, key);
    return group;
  }

  private compile(route: RouteConfig, group: UpstreamGroup): CompiledRoute {
    return {
      name: route.name,
      config: route,
      stripPrefix: route.stripPrefix && route.prefix !== '/',
      preserveHost: route.preserveHost,
      timeoutMs: route.timeoutMs,
      maxBodyBytes: route.maxBodyBytes,
      cache: compileRouteCache(route, this.config.cache),
      auth: compileRouteAuth(route),
      securityHeaders: buildProxiedSecurityHeaders(
        this.config.security.securityHeaders,
        route.securityHeaders,
      ),
      retryBudget: new RetryBudget({ budgetPercent: this.config.resilience.retryBudgetPercent }),
      group,
    };
  }

  /** Hands the upstreams no group uses any more to the pools, to close once idle. */
  private retire(previous: Table, current: ReadonlyMap<string, UpstreamGroup>): void {
    const gone: Upstream[] = [];
    for (const [key, group] of previous.groups) {
      if (current.get(key) !== group) {
        gone.push(...group.upstreams);
      }
    }
    if (gone.length === 0) {
      return;
    }
    let maxTimeoutMs = 0;
    for (const c of previous.routes) {
      maxTimeoutMs = Math.max(maxTimeoutMs, c.timeoutMs);
    }
    const kept: Upstream[] = [];
    for (const group of current.values()) {
      kept.push(...group.upstreams);
    }
    void this.pools.retireUnused(gone, kept, maxTimeoutMs + 5_000);
  }

  /** One info line per change; the routes themselves at debug (20,000 lines would flood info). */
  private log(
    change: RouteTableChange,
    fresh: readonly CompiledRoute[],
    groups: number,
    elapsedMs: number,
  ): void {
    const parts = (['added', 'changed', 'removed'] as const)
      .filter((kind) => change[kind].length > 0)
      .map((kind) => {
        const names = change[kind];
        return names.length <= NAMED_IN_SUMMARY
          ? `${kind} ${names.join(', ')}`
          : `${names.length} ${kind}`;
      });
    this.logger.log(
      `route table: ${this.table.routes.length} routes, ${groups} upstream groups` +
        `${parts.length > 0 ? `; ${parts.join('; ')}` : '; unchanged'} (${elapsedMs.toFixed(0)} ms)`,
    );
    for (const c of fresh) {
      this.logger.debug(
        `route ${c.name}: host=${c.config.host || '*'} prefix=${c.config.prefix} ` +
          `upstreams=${c.group.upstreams.map((u) => u.label).join(',')} strip_prefix=${c.stripPrefix}`,
      );
    }
    for (const name of change.removed) {
      this.logger.debug(`route ${name}: removed`);
    }
  }
}
