import { Logger } from '@nestjs/common';
import type { ConfigFileWriter } from '../config-file-writer';
import {
  AdminStateStore,
  type AdminStateListener,
  type DrainRule,
  type IpListsState,
  type Persisted,
  type RouteState,
} from './admin-state-store';

interface FileRoutes {
  /** Running routes the file does not define (environment, demo): never written to it. */
  readonly outside: ReadonlySet<string>;
  /**
   * The file's route entries are the running file routes, each under its name, so a single
   * change can be written as such; else (an unnamed entry, a failed write) the list is rewritten.
   */
  synced: boolean;
}

/**
 * No Redis, a `GATEWAY_CONFIG` file: route and IP list changes are written back into it
 * (atomically), so a restart keeps them. A single route change is written as that one entry (by
 * name) once the file is known to hold the running routes under their names, so a large file is
 * not rewritten per change. Routes defined in the environment stay out of the file (they would be
 * defined twice at the next start), and so do IP list entries with an expiry (the file has no
 * field for it). Drains are kept in memory only.
 */
export class ConfigFileAdminStateStore extends AdminStateStore {
  readonly persistence = 'config-file';
  private readonly logger = new Logger('AdminApi');
  /** What the config file holds of the running routes, found at start. */
  private fileRoutes: Promise<FileRoutes> | undefined;

  constructor(
    private readonly writer: ConfigFileWriter,
    /** Names of the routes loaded at boot, the file's first (the loader lists them first). */
    private readonly bootRoutes: readonly string[],
    /** Told after every write, so the file watcher does not take it for an edit. */
    private readonly onWritten: () => void = () => undefined,
  ) {
    super();
  }

  async saveRoutes({ routes, json, change }: RouteState): Promise<Persisted> {
    const file = await (this.fileRoutes ??= this.inspectFile());
    return this.write('routes', async () => {
      try {
        if (file.synced && change !== undefined) {
          if (!file.outside.has(change.name)) {
            await this.writer.patchRoutes([change]);
          }
        } else {
          const kept = routes.filter((r) => !file.outside.has(r.name));
          await this.writer.write([{ path: ['routes'], json: await json(kept) }]);
          file.synced = true;
        }
      } catch (err) {
        file.synced = false;
        throw err;
      }
    });
  }

  async saveIpLists(lists: IpListsState): Promise<Persisted> {
    const permanent = (entries: IpListsState['allow']) =>
      entries.filter((e) => e.expiresAt === undefined).map((e) => e.entry);
    return this.write('ip-lists', () =>
      this.writer.write([
        { path: ['security', 'ip_whitelist'], value: permanent(lists.allow) },
        { path: ['security', 'ip_blacklist'], value: permanent(lists.deny) },
      ]),
    );
  }

  saveDrains(_rules: readonly DrainRule[]): Promise<Persisted> {
    return Promise.resolve('memory');
  }

  async adoptReload(_routes: RouteState, _lists: IpListsState): Promise<Persisted> {
    // The reload read the file: it already is the kept state. It may have unnamed entries now,
    // so the next change rewrites the list.
    if (this.fileRoutes !== undefined) {
      (await this.fileRoutes).synced = false;
    }
    return 'config-file';
  }

  announceApiKeyChange(_hash: string): Promise<void> {
    return Promise.resolve();
  }

  start(_listener: AdminStateListener): void {
    // Now, while the file is the one the table was loaded from; off the event loop if large.
    this.fileRoutes ??= this.inspectFile();
  }

  stop(): void {
    // One process reads and writes the file; nothing to follow.
  }

  private async write(kind: string, work: () => Promise<void>): Promise<Persisted> {
    try {
      await work();
      this.onWritten();
      return 'config-file';
    } catch (err) {
      this.logger.error(
        `admin change to ${kind} applied on this replica but not persisted (config-file ${this.writer.path}): ${String(err)}`,
      );
      return 'failed';
    }
  }

  /**
   * What the config file holds of the boot table. The loader lists the file's routes first, so
   * the routes past the file's count came from elsewhere (environment, demo).
   */
  private async inspectFile(): Promise<FileRoutes> {
    try {
      const { routes, allNamed } = await this.writer.inspectRoutes();
      return { outside: new Set(this.bootRoutes.slice(routes)), synced: allNamed };
    } catch (err) {
      this.logger.warn(
        `cannot read ${this.writer.path} to tell file routes from env routes: ${String(err)}`,
      );
      return { outside: new Set(this.bootRoutes), synced: false };
    }
  }
}
