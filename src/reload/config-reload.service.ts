import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import cluster from 'node:cluster';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { WorkerSync } from '../cluster/worker-sync';
import type { Persisted } from '../common/persisted';
import { samePlainData } from '../common/same-plain-data';
import { callMaybeInWorker, LARGE_INPUT_BYTES } from '../common/worker-call';
import { InjectGatewayConfig } from '../config/gateway.config';
import type { GatewayConfig, RouteConfig } from '../config/gateway-config.types';
import type { LoadGatewayConfigResult } from '../config/load-config';
import { RouteTableService, type RouteTableChange } from '../routing/route-table.service';
import { IpFilterService } from '../security/ip-filter/ip-filter.service';
import type { IpListEntry } from '../security/ip-filter/ip-list';
import { ConfigWatcher } from './config-watcher';
import { loadReloadable, reloadableOf, type ReloadableConfig } from './reload-work';
import { settingsNeedingRestart } from './restart-settings';

/** A reload refused because the configuration is invalid; the running one is unchanged. */
export class ReloadRefused extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the configuration is invalid; nothing was changed: ${problems.join('; ')}`);
  }
}

export interface ReloadOutcome {
  routes: number;
  allow: number;
  deny: number;
  /** Where the admin API's store kept it; undefined without the admin API. */
  persisted: Persisted | undefined;
  /** Settings that changed but apply only at the next start (config paths). */
  restartNeeded: string[];
  /** Routes added, changed and removed, with the previous form of the changed and removed. */
  change: RouteTableChange;
}

/** What runs after a reload was applied here (the admin API keeping it); may return `persisted`. */
export type ReloadParticipant = (routes: readonly RouteConfig[]) => Promise<Persisted | undefined>;

/** The module whose functions a reload runs (on a worker thread for a large input). */
const RELOAD_WORK = require.resolve('./reload-work');

interface IpListsPayload {
  allow?: IpListEntry[];
  deny?: IpListEntry[];
}

/**
 * Re-reads the configuration (environment, `./.env`, the `GATEWAY_CONFIG` file) and applies what
 * can change at run time, routes and IP lists, atomically: the whole configuration is validated
 * first, and an invalid one is refused and logged while the running one keeps serving. One
 * implementation for every trigger: `POST /admin/config/reload`, SIGHUP, `GATEWAY_CONFIG_WATCH`,
 * and a reload the cluster primary asks for. Reloads and admin changes run one at a time
 * ({@link exclusive}). A large file is read and validated on a worker thread, and the table
 * compiled in slices, so traffic keeps flowing meanwhile.
 *
 * With `GATEWAY_WORKERS` and no Redis, the routes and lists applied are relayed to the other
 * workers ({@link WorkerSync}), so the pool serves one table.
 */
@Injectable()
export class ConfigReloadService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ConfigReload');
  private chain: Promise<unknown> = Promise.resolve();
  private participant: ReloadParticipant | undefined;
  private watcher: ConfigWatcher | undefined;
  private demoRoutes: readonly RouteConfig[] = [];

  constructor(
    @InjectGatewayConfig() private readonly config: GatewayConfig,
    private readonly table: RouteTableService,
    private readonly ipFilter: IpFilterService,
    private readonly sync: WorkerSync,
  ) {
    sync.handle('routes', async (routes) => {
      await this.installRoutes(routes as RouteConfig[]);
    });
    sync.handle('reloaded-routes', async (routes) => {
      await this.installRoutes(this.orDemo(routes as RouteConfig[], config.demoUpstream));
    });
    sync.handle('ip-lists', (lists) => this.installIpLists(lists as IpListsPayload));
    sync.onReloadRequest((trigger) => this.reload(trigger).catch(() => undefined));
  }

  /**
   * The built-in demo route this process serves when no route is configured (`DEMO_UPSTREAM`):
   * a reload that still configures no route keeps it, as a restart would.
   */
  useWhenNoRoutes(routes: readonly RouteConfig[]): void {
    this.demoRoutes = routes;
  }

  /** The admin API keeps what a reload applied (Redis makes the file the truth again). */
  setParticipant(participant: ReloadParticipant): void {
    this.participant = participant;
  }

  /** Files that hold the configuration: `./.env` and the `GATEWAY_CONFIG` file, when one is used. */
  get configFiles(): string[] {
    return [
      resolve(process.cwd(), '.env'),
      ...(this.config.configFile === undefined ? [] : [this.config.configFile]),
    ];
  }

  /**
   * Reloads and applies; resolves with what was applied, or rejects with {@link ReloadRefused}
   * (also logged, with every problem) when the configuration is invalid. `load` replaces the
   * reading (tests).
   */
  reload(trigger: string, load?: () => LoadGatewayConfigResult): Promise<ReloadOutcome> {
    return this.exclusive(() => this.run(trigger, load));
  }

  /** Runs `work` after every reload and admin change queued before it (each spans awaits). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Routes built elsewhere (the admin API, another worker) as the running table. */
  installRoutes(routes: readonly RouteConfig[]): Promise<RouteTableChange> {
    return this.table.replaceAsync(routes);
  }

  /** The admin API rewrote the config file with what it applied: not a change to reload. */
  noteConfigWritten(file: string): void {
    this.watcher?.acknowledge();
    this.sync.noteConfigWritten(file, '');
  }

  /** Watches the files with `GATEWAY_CONFIG_WATCH` (the cluster primary watches for workers). */
  onApplicationBootstrap(): void {
    if (!this.config.configWatch || cluster.isWorker) {
      return;
    }
    this.watcher = new ConfigWatcher({
      files: this.configFiles,
      onChange: () => {
        this.reload('file change').catch(() => undefined);
      },
      onWatchError: (dir, err) =>
        this.logger.warn(`cannot watch ${dir} (${err.message}); checking it every 2 s instead`),
    });
    this.watcher.start();
    this.logger.log(
      `watching ${this.configFiles.join(' and ')} for changes (GATEWAY_CONFIG_WATCH)`,
    );
  }

  onModuleDestroy(): void {
    this.watcher?.stop();
  }

  private async run(
    trigger: string,
    load: (() => LoadGatewayConfigResult) | undefined,
  ): Promise<ReloadOutcome> {
    // What is reloaded now is the known state, whatever the outcome: the next change reloads.
    this.watcher?.acknowledge();
    const fresh = load === undefined ? await this.loadFresh() : reloadableOf(load());
    if (!fresh.ok) {
      this.logger.error(
        `config reload (${trigger}) refused, the running configuration keeps serving: ${fresh.problems.join('; ')}`,
      );
      throw new ReloadRefused(fresh.problems);
    }
    const { routes, settings } = fresh;
    const change = await this.installRoutes(this.orDemo(routes, settings.demoUpstream));
    this.installIpLists({
      allow: settings.security.ipWhitelist.map((entry) => ({ entry })),
      deny: settings.security.ipBlacklist.map((entry) => ({ entry })),
    });
    const persisted = await this.participant?.(routes);
    const lists = this.ipFilter.listEntries();
    // Each worker falls back to its own demo upstream, not to this one's.
    await this.sync.broadcast('reloaded-routes', routes, { key: 'routes' });
    await this.sync.broadcast(
      'ip-lists',
      { allow: lists.allow, deny: lists.deny },
      { key: 'ip-lists' },
    );
    const outcome: ReloadOutcome = {
      routes: routes.length,
      allow: this.ipFilter.allowlist.size,
      deny: this.ipFilter.denylist.size,
      persisted,
      restartNeeded: settingsNeedingRestart(this.config, settings),
      change,
    };
    this.logger.log(
      `config reloaded (${trigger}): ${outcome.routes} routes, ${outcome.allow} allowed and ${outcome.deny} denied IP entries${persisted === undefined ? '' : `, persisted: ${persisted}`}`,
    );
    if (outcome.restartNeeded.length > 0) {
      this.logger.warn(
        `config reload (${trigger}): these settings changed but take effect only at the next start: ${outcome.restartNeeded.join(', ')}`,
      );
    }
    return outcome;
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
      { large: size >= LARGE_INPUT_BYTES, file: RELOAD_WORK, onPart: this.keepRunning },
      loadReloadable,
    );
  }

  /**
   * Routes equal to the running route of their name are replaced by that route's own config as
   * they come in: the copies die young, and the table sees them as unchanged by identity.
   */
  readonly keepRunning = (key: string, items: unknown[]): unknown[] => {
    if (key !== 'routes') {
      return items;
    }
    return (items as RouteConfig[]).map((route) => {
      const running = this.table.route(route.name)?.config;
      return running !== undefined && samePlainData(running, route) ? running : route;
    });
  };

  private orDemo(routes: readonly RouteConfig[], demoUpstream: boolean): readonly RouteConfig[] {
    return routes.length === 0 && demoUpstream ? this.demoRoutes : routes;
  }

  private installIpLists(lists: IpListsPayload): void {
    this.ipFilter.allowlist.replace(Array.isArray(lists.allow) ? lists.allow : []);
    this.ipFilter.denylist.replace(Array.isArray(lists.deny) ? lists.deny : []);
  }
}
